"""PathNN as Michel et al.'s TU and synthetic codes build it (docs/models/pathnn.md §2, §6): the ``update`` and
``feature_encoder`` options, the TU presets' parameter counts against the reference's logs, and the ``degree="values"``
encoding of the social sets."""

from __future__ import annotations

from dataclasses import replace

import dgl
import networkx as nx
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import graphbench.models  # noqa: F401  (registers the presets)
from graphbench.data.base import FeatureSpec
from graphbench.models import build_model, count_parameters
from graphbench.nn.pathnn import PathConv
from graphbench.preset_counts import build_preset_model, dataset_input_dims
from graphbench.presets import get_preset

LOGS = "gasmichel/PathNNs_expressive@2b8eb7126458:TUDatasets/logs/"
#: (model, preset) → (params dataset, the count its log prints at hidden 64, at hidden 32, the log)
TU_LOGGED = {
    ("pathnn-sp", "michel2023-tu"): (
        "enzymes", 43_782, 11_654,
        "ENZYMES/PathNN_cutoff_2_path_shortest_path_bs_32_residuals_2022-12-05-12.45.51.log"),
    ("pathnn-sp-plus", "michel2023-tu"): (
        "imdb-binary", 46_466, 12_994,
        "IMDB-BINARY/PathNN_cutoff_3_path_all_shortest_paths_bs_32_residuals_2022-12-07-12.11.05.log"),
    ("pathnn-sp-plus", "michel2023-tu-nci1"): (
        "nci1", 44_802, 12_162,
        "NCI1/PathNN_cutoff_4_path_all_shortest_paths_bs_32_residuals_2022-12-06-02.30.07.log"),
    ("pathnn-ap", "michel2023-tu"): (
        "imdb-multi", 62_723, 17_027,
        "IMDB-MULTI/PathNN_cutoff_3_path_all_simple_paths_bs_32_residuals_2022-12-10-12.00.50.log"),
    ("pathnn-ap", "michel2023-tu-dd"): (
        "dd", 64_130, 17_730, "DD/PathNN_cutoff_3_path_all_simple_paths_bs_16_residuals_2022-12-14-00.24.53.log"),
}


@pytest.mark.parametrize("key", sorted(TU_LOGGED), ids=["/".join(k) for k in sorted(TU_LOGGED)])
def test_tu_preset_counts_equal_the_reference_logs_at_both_widths(key):
    """Built as a run builds it at the reference's input width (ENZYMES 21, NCI1 37, DD 82, IMDB-MULTI 59 degree
    values), each TU preset has the count its log prints for the grid's hidden 64, and for hidden 32."""
    dataset, logged64, logged32, log = TU_LOGGED[key]
    preset = get_preset(*key)
    assert (preset.params, preset.params_dataset, preset.params_missing) == (logged64, dataset, "")
    assert preset.params_source.startswith(LOGS + log)
    assert count_parameters(build_preset_model(preset)) == logged64
    narrow = replace(preset, hparams={**preset.hparams, "hidden": 32})
    assert count_parameters(build_preset_model(narrow)) == logged32


#: Other released TU logs (the presets' networks at another K or dataset): (model, K, dataset, count at hidden 64)
OTHER_LOGS = [("pathnn-sp", 2, "imdb-binary", 46_338), ("pathnn-sp", 2, "imdb-multi", 46_019),
              ("pathnn-sp", 2, "dd", 47_426), ("pathnn-sp", 3, "nci1", 44_674), ("pathnn-sp-plus", 3, "dd", 47_554),
              ("pathnn-sp-plus", 4, "dd", 47_682), ("pathnn-sp-plus", 3, "imdb-multi", 46_147)]


@pytest.mark.parametrize("model,cutoff,dataset,logged", OTHER_LOGS, ids=[f"{m}-K{k}-{d}" for m, k, d, _ in OTHER_LOGS])
def test_tu_network_counts_other_logs_of_the_reference(model, cutoff, dataset, logged):
    """The same network at the other cutoffs and datasets of TUDatasets/logs has those logs' counts (one BN per
    layer, one LSTM whatever K: a wrong number of BNs or encoder layers changes them)."""
    preset = get_preset(model, "michel2023-tu")
    moved = replace(preset, hparams={**preset.hparams, "cutoff": cutoff})
    assert count_parameters(build_preset_model(moved, dataset)) == logged


def test_tu_presets_use_the_tu_codes_network():
    for key in TU_LOGGED:
        preset = get_preset(*key)
        assert (preset.hparams["update"], preset.hparams["feature_encoder"]) == ("relu_bn", "mlp_bn")
        assert preset.dataset_options == {"degree": "values"}
        assert "model.py" in preset.reference and "graphbench's is" not in preset.deviations
    for model in ("pathnn-sp", "pathnn-sp-plus", "pathnn-ap"):
        assert get_preset(model, "michel2023-csl").hparams["update"] == "relu"
        assert get_preset(model, "michel2023-csl").hparams["feature_encoder"] == "mlp"


def _synthetic_count(cutoff: int, ap: bool, hidden: int = 64, classes: int = 10) -> int:
    """synthetic/networks/model.py's PathNN, module by module: Linear(1, w) → ReLU → Linear(w, w) → ReLU, one LSTM
    (input w, or 2w with the distance embedding of K rows), no parameters in the update, Linear → ReLU → Linear."""
    encoder = (hidden + hidden) + (hidden * hidden + hidden)
    lstm = 4 * hidden * ((2 if ap else 1) * hidden + hidden) + 8 * hidden
    return encoder + lstm + (cutoff * hidden if ap else 0) + hidden * hidden + hidden + hidden * classes + classes


@pytest.mark.parametrize("model", ["pathnn-sp", "pathnn-sp-plus", "pathnn-ap"])
def test_csl_presets_are_the_synthetic_network_but_the_constant_input(model):
    preset = get_preset(model, "michel2023-csl")
    ours = count_parameters(build_preset_model(preset))
    assert ours == _synthetic_count(preset.hparams["cutoff"], model == "pathnn-ap") - 64


# -- the update and the input encoder, against a dense re-implementation ---------------------------------------------
def _graph(edges: list[tuple[int, int]], n: int, seed: int) -> tuple[dgl.DGLGraph, nx.Graph]:
    """Both directions of every edge, in a shuffled order (an unsorted edge list)."""
    both = edges + [(b, a) for a, b in edges]
    order = np.random.default_rng(seed).permutation(len(both))
    src = torch.tensor([both[i][0] for i in order])
    dst = torch.tensor([both[i][1] for i in order])
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    return dgl.graph((src, dst), num_nodes=n), g


def _lstm_last(lstm: torch.nn.LSTM, seq: torch.Tensor) -> torch.Tensor:
    """A one-layer LSTM's final hidden state, from its equations (gates i, f, g, o as PyTorch orders them)."""
    h = c = seq.new_zeros(lstm.hidden_size)
    for x in seq:
        z = lstm.weight_ih_l0 @ x + lstm.bias_ih_l0 + lstm.weight_hh_l0 @ h + lstm.bias_hh_l0
        i, f, g, o = z.chunk(4)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
    return h


def _bn_eval(bn: torch.nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    return (x - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias


def _randomise_norms(net: torch.nn.Module) -> None:
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def test_tu_network_equals_a_dense_reimplementation_on_a_batch():
    """PathNN-SP+ at K = 3 with the TU code's input MLP and update on a batch of three graphs with shuffled edge
    lists (a 4-cycle with a chord-free tail: several shortest paths of 2 edges per pair), in eval mode, equals
    encoder MLP → for ℓ = 1, 2: h_v ← ReLU(BN(h_v + Σ_{shortest paths w…v of ℓ edges} LSTM(h_w … h_v))) → sum →
    Linear → ReLU → Linear, computed node by node from networkx's shortest paths."""
    torch.manual_seed(0)
    net = build_model("pathnn-sp-plus", FeatureSpec("dense", dim=5), 3, hidden=8, cutoff=3, update="relu_bn",
                      feature_encoder="mlp_bn", dropout=0.5).double()
    with torch.no_grad():
        _randomise_norms(net)
    net.eval()
    parts = [_graph([(0, 1), (1, 2), (2, 3), (3, 0), (3, 4)], 5, 1), _graph([(0, 1), (1, 2), (2, 3)], 4, 2),
             _graph([(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5), (5, 2)], 6, 3)]
    feats = [torch.randn(g.num_nodes(), 5, dtype=torch.float64) for g, _ in parts]
    out = net(dgl.batch([g for g, _ in parts]), torch.cat(feats))

    enc, tail, lstm = net.encoder.dense, net.encoder_post, net.path_layers.lstm
    expected = []
    with torch.no_grad():
        for (_, g), x in zip(parts, feats):
            h = F.relu(_bn_eval(tail[3], tail[2](F.relu(_bn_eval(tail[0], enc(x))))))
            for length, conv in enumerate(net.convs, start=1):
                m = torch.zeros_like(h)
                for v in g.nodes:
                    for w, d in nx.single_source_shortest_path_length(g, v).items():
                        if d == length:
                            for p in nx.all_shortest_paths(g, w, v):  # w … v: the anchor v is read last
                                m[v] += _lstm_last(lstm, h[p])
                h = F.relu(_bn_eval(conv.bn, h + m))
            pooled = h.sum(0)
            lin1, lin2 = net.head.linears
            expected.append(lin2(F.relu(lin1(pooled))))
    assert torch.allclose(out, torch.stack(expected), atol=1e-10)
    # the benchmark update (an MLP after the BN) is another function of the same inputs
    torch.manual_seed(0)
    mlp = build_model("pathnn-sp-plus", FeatureSpec("dense", dim=5), 3, hidden=8, cutoff=3,
                      feature_encoder="mlp_bn").double().eval()
    assert not torch.allclose(mlp(dgl.batch([g for g, _ in parts]), torch.cat(feats)), out)


@pytest.mark.parametrize("update", ["relu_bn", "relu"])
def test_tu_and_synthetic_updates_drop_out_only_the_lstm_tokens(update):
    """In training mode (BN on the batch's statistics) the layer is ReLU(BN(h + m)) (``relu_bn``) or ReLU(h + m)
    (``relu``) where only the LSTM's tokens went through dropout: replaying the same random stream with dropout on
    the tokens alone gives the layer's output, which a second dropout after the BN would change."""
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(6, 6, batch_first=True).double()
    conv = PathConv(6, lstm, update=update, dropout=0.5).double().train()
    assert (isinstance(conv.bn, torch.nn.BatchNorm1d), conv.mlp) == (update == "relu_bn", None)
    h = torch.randn(7, 6, dtype=torch.float64)
    paths = torch.tensor([[3, 0], [1, 0], [6, 2], [0, 5], [2, 6], [4, 1], [5, 3]])  # anchors unsorted
    torch.manual_seed(1)
    out = conv(h, paths)
    torch.manual_seed(1)
    tokens = F.dropout(h[paths], 0.5, True)
    _, (last, _) = lstm(tokens)
    z = h + torch.zeros_like(h).index_add(0, paths[:, -1], last[-1])
    if update == "relu_bn":
        z = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + conv.bn.eps) * conv.bn.weight + conv.bn.bias
    assert torch.allclose(out, F.relu(z), atol=1e-10)


def test_update_and_encoder_choices_are_checked():
    lstm = torch.nn.LSTM(4, 4, batch_first=True)
    with pytest.raises(ValueError, match="update must be one of"):
        PathConv(4, lstm, update="gru")
    with pytest.raises(ValueError, match="feature_encoder. must be one of"):
        build_model("pathnn-sp", FeatureSpec("dense", dim=3), 2, feature_encoder="mlp3")


# -- the degree encoding of Michel et al.'s TU code -------------------------------------------------------------------
def test_degree_values_one_hot_encodes_the_degrees_that_occur():
    """Two graphs whose degrees are {1, 2, 4} (3 occurs nowhere): three columns, not the five of degrees 0 … 4."""
    from graphbench.data import tu

    info = next(i for i in tu.TU_SETS if i.name == "IMDB-BINARY")
    und = [(0, 1), (0, 2), (0, 3), (0, 4), (5, 6), (6, 7)]  # a star (4, 1, 1, 1, 1) and a path (1, 2, 1)
    edges = np.array(und + [(b, a) for a, b in und])
    raw = {"edges": edges, "graph_of_node": np.array([0] * 5 + [1] * 3), "graph_labels": np.array([1, 2]),
           "node_labels": None, "node_attributes": None, "edge_labels": None}
    graphs, _, card = tu.build_tu(info, raw, max_degree=None, degree="values")
    feat = torch.cat([g.ndata["feat"] for g in graphs])
    assert feat.shape == (8, 3) and card == 0
    assert torch.equal(feat.argmax(1), torch.tensor([2, 0, 0, 0, 0, 0, 1, 0]))  # columns in increasing degree
    assert torch.equal(feat.sum(1), torch.ones(8))


@pytest.mark.data
def test_imdb_binary_has_65_degree_values_as_the_reference(shared_data, tmp_path):
    """The reference one-hot encodes IMDB-BINARY's 65 degree values (its count: 46,466 = 64 · 65 + …); graphbench's
    ``degree="values"`` loads 65 dense columns, the width the parameter counts are built at."""
    from graphbench.train.runner import get_dataset

    for sub in ("tu", "tu-splits"):
        (tmp_path / sub).symlink_to(shared_data / sub)
    ds = get_dataset("imdb-binary", str(tmp_path), degree="values")
    assert ds.node_features == dataset_input_dims("imdb-binary", {"degree": "values"}).node == FeatureSpec(
        "dense", dim=65)
    feat = torch.cat([g.ndata["feat"] for g in ds.graphs[:50]])
    assert torch.equal(feat.sum(1), torch.ones(len(feat)))
