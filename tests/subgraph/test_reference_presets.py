"""The subgraph families' paper presets build the reference networks (issue 19): parameter counts equal the official
code's, counted from its module definitions, less exactly the differences each preset names in ``deviations``; and
the structural points the review found (SSWL's final pooling layer, its per-aggregation bond encoders) hold."""

from __future__ import annotations

import pytest
import torch

from graphbench.data.base import FeatureSpec
from graphbench.models import build_model, count_parameters, model_hparams
from graphbench.presets import get_preset
from graphbench.subgraph.product import batch_product_graphs, build_product_graph
from tests.subgraph.test_registered_models import model_inputs, undirected_graph

#: dataset dimensions the counts are taken at: (node spec, edge spec, outputs), as graphbench's loaders give them
ZINC = (FeatureSpec("categorical", cardinalities=(28,)), FeatureSpec("categorical", cardinalities=(4,)), 1)
MUTAG = (FeatureSpec("dense", dim=7), FeatureSpec("dense", dim=4), 2)
PTC_MR = (FeatureSpec("dense", dim=18), FeatureSpec("dense", dim=4), 2)
IMDB_BINARY = (FeatureSpec("categorical", cardinalities=(136,)), FeatureSpec("none"), 2)   # the degree, one-hot


def _mlp(d: int) -> int:
    """The SWL code's MLP(d, d): Linear → BatchNorm → ReLU → Linear."""
    return 2 * (d * d + d) + 2 * d


def swl_code_count(aggs: list[str], *, d: int = 96, layers: int = 6, max_dis: int = 5, atom_rows: int = 174,
                   bond_rows: int = 13) -> int:
    """Parameters of subgraph23/SWL's ``GNN`` (src/model.py) for main_zinc.py: OGB AtomEncoder (174 rows over its 9
    tables) + distance embedding, per layer one ε and one MLP per aggregation, one OGB BondEncoder (13 rows) per
    local aggregation and a BatchNorm; the final pooling layer (ε, MLP, BatchNorm); the head d → 2d → 1."""
    local = sum(a.endswith("L") for a in aggs)
    per_layer = len(aggs) * (1 + _mlp(d)) + local * bond_rows * d + 2 * d
    return (atom_rows + max_dis + 1) * d + layers * per_layer + (1 + _mlp(d) + 2 * d) + (2 * d * d + 2 * d + 2 * d + 1)


def klgnn_code_count(*, h: int = 64, atom_rows: int = 21, se_dim: int = 16, rw_steps: int = 20,
                     bond_rows: int = 4, k: int = 4) -> int:
    """zhouc20/KLGNN's ``IDMPNN_Global_parallel`` for the README's ZINC command (8 graph, 5 id, 5 global, 4
    regression layers; the unused graph_mlps_aggregate / id_mlps_aggregate included)."""
    blk = 2 * (h * h + h) + 2 * h
    blocks = 8 + 8 + 5 + 5 + 5 + 4 + 1                                  # + setmlp4
    return (atom_rows * (h - se_dim) + rw_steps * se_dim + se_dim + bond_rows * h + (k + 2) * h + blocks * blk
            + 2 * (h * h + h) + h + 1)


def spen_code_count(*, architecture: tuple[int, ...] = (64,) * 5, buckets: int = 3, c_in: int = 8,
                    classes: int = 2) -> int:
    """JoshuaMitton/LPEGN's ``equivariant_gnn`` (models/equivariant_gnn.py) for a json ``architecture`` of equal
    widths a (MUTAG: [64] × 5, weight degrees 2, 3, 4; 8 input channels). It builds the first block and blocks 2–5
    while the list has more than 1–4 entries, blocks "51" / "52" for more than 6 / 7 (so six entries build five),
    one GraphNorm pair per block, and a readout 2·a[-2] → a[-1]."""
    a, n = architecture[0], len(architecture)
    assert set(architecture) == {a}
    layers = min(n, 5) + (n > 6) + (n > 7)
    d = 2 * a
    first = c_in * d * 15 + 2 * d + c_in * d * 5 + d + (c_in * d * 5 + d + c_in * d * 2 + d)   # 1→2, 1→1 unused
    later = d * a * 15 + 2 * a + d * a * 5 + a + d * a * 5 + a + d * a * 2 + a
    readout = d * a * 2 + a + d * a + a
    return (buckets * (first + (layers - 1) * later + readout) + layers * 2 * 3 * d
            + d * 256 + 256 + 256 * 128 + 128 + 128 * classes + classes)


def spen_unused(*, buckets: int, c_in: int, a: int) -> int:
    """The first block's 1→2 and 1→1 maps, which the code builds and never calls (named in the deviations)."""
    return buckets * (c_in * 2 * a * 5 + 2 * a + c_in * 2 * a * 2 + 2 * a)


# (model, preset, dims, the code's count, the parameters the preset's deviations name as not built / other vocab)
CASES = [
    ("gnn-sswl", "zhang2023", ZINC, swl_code_count(["uL", "vL"]), (174 - 28) * 96 + 6 * 2 * (13 - 4) * 96 + 1),
    ("gnn-sswl-plus", "zhang2023", ZINC, swl_code_count(["uL", "vL", "vv"]), (174 - 28) * 96 + 6 * 2 * 9 * 96 + 1),
    ("pswl", "zhang2023", ZINC, swl_code_count(["uL", "vv"]), (174 - 28) * 96 + 6 * 9 * 96 + 1),
    ("swl", "zhang2023", ZINC, swl_code_count(["uL"]), (174 - 28) * 96 + 6 * 9 * 96 + 1),
    # unused aggregate blocks; 21 atom rows in the code, 28 in ZINC's card
    ("kl-gnn", "zhou2023", ZINC, klgnn_code_count(), 13 * (2 * (64 * 64 + 64) + 128) + (21 - 28) * 48),
    # the first layer's unused 1→2 and 1→1 maps in 3 size buckets
    ("spen", "mitton2021", MUTAG, spen_code_count(), spen_unused(buckets=3, c_in=8, a=64)),
    # PTC: architecture [16] × 4, 4 weight degrees, 22 label channels + the adjacency in the code; 18 labels in
    # graphbench's PTC_MR (its first layer has 4 buckets × 4 channels × 2a × (15 + 5) fewer weights)
    ("spen", "mitton2021-ptc_mr", PTC_MR, spen_code_count(architecture=(16,) * 4, buckets=4, c_in=23),
     spen_unused(buckets=4, c_in=23, a=16) + 4 * (23 - 19) * 32 * 20),
    # IMDBBINARY: architecture [32] × 6 (five blocks), 65 weight degrees, the adjacency alone (NUM_LABELS = 0)
    ("spen", "mitton2021-imdb-binary", IMDB_BINARY, spen_code_count(architecture=(32,) * 6, buckets=65, c_in=1),
     spen_unused(buckets=65, c_in=1, a=32)),
]


@pytest.mark.parametrize(("model", "preset", "dims", "code", "named"), CASES, ids=[f"{c[0]}/{c[1]}" for c in CASES])
def test_preset_counts_equal_the_reference_code_less_the_named_differences(model, preset, dims, code, named):
    p = get_preset(model, preset)
    hp = {k: v for k, v in p.hparams.items() if k in model_hparams(model, {})}
    pe_dim = p.hparams.get("pe_dim", 16) if p.hparams.get("pe", "none") != "none" else 0
    net = build_model(model, dims[0], dims[2], edge_dim=dims[1], pe_dim=pe_dim, **hp)
    assert count_parameters(net) == code - named
    assert p.reference and (p.params is not None or p.params_missing)


def test_sswl_final_pooling_layer_ends_with_batchnorm_relu_over_pairs():
    """The code's last aggregation layer (``Agg([pool], gin=False)``) is MLP → BatchNorm → ReLU on every pair, then
    the mean over a graph's pairs: re-computed densely here on a batch of two graphs of different sizes, in training
    mode (batch statistics over pairs, not over roots)."""
    torch.manual_seed(0)
    graphs = [undirected_graph(4, [(0, 1), (1, 2), (2, 3)], torch.randn(4, 2, dtype=torch.float64)),
              undirected_graph(6, [(0, 1), (1, 2), (2, 0), (2, 3), (3, 4), (4, 5)],
                               torch.randn(6, 2, dtype=torch.float64))]
    model, batch = model_inputs("gnn-sswl", {"hidden": 8, "layers": 1}, graphs)
    model.train()
    h = model.pair_states(batch)
    pb = model.product(batch)
    pool = model.subgraph_pool
    sums = torch.zeros(pb.num_nodes, 8, dtype=torch.float64).index_add_(0, pb.root, h)[pb.root]   # VS, per pair
    z = pool.mlp(sums)
    z = torch.relu((z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + pool.norm.eps) * pool.norm.weight
                   + pool.norm.bias)
    expected = torch.stack([z[pb.pair_graph == g].mean(0) for g in range(2)])
    assert torch.allclose(pool(h, pb), expected, atol=1e-10)


def test_sswl_layers_have_one_bond_encoder_per_local_aggregation():
    spec = FeatureSpec("categorical", cardinalities=(4,))
    net = build_model("gnn-sswl-plus", FeatureSpec("categorical", cardinalities=(5,)), 1, edge_dim=spec,
                      hidden=8, layers=2)
    for conv in net.convs:
        assert sorted(conv.edge_encoders) == ["uL", "vL"]
        assert conv.edge_encoders["uL"] is not conv.edge_encoders["vL"]
    assert net.edge_encoders is None                       # no shared per-layer encoder besides them
    # the uL encoder feeds only the uL messages: changing it changes the layer output
    g = build_product_graph(3, torch.tensor([0, 1, 1, 2]), torch.tensor([1, 0, 2, 1]), aggregations=("uL", "vL", "vv"))
    pb = batch_product_graphs([g])
    conv = net.convs[0]
    h = torch.randn(pb.num_pairs, 8)
    e = torch.tensor([[1], [1], [2], [2]])
    before = conv(h, pb, e)
    with torch.no_grad():
        conv.edge_encoders["uL"].tables[0].weight.add_(1.0)
    assert not torch.allclose(before, conv(h, pb, e))


def test_klgnn_preset_is_the_parallel_network_with_max_over_tuples():
    p = get_preset("kl-gnn", "zhou2023")
    assert (p.hparams["architecture"], p.hparams["subset_pool"], p.hparams["k"]) == ("parallel", "max", 4)
    assert (p.hparams["layers"], p.hparams["id_layers"], p.hparams["global_layers"],
            p.hparams["regression_layers"]) == (8, 5, 5, 4)
