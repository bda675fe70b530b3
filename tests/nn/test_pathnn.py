"""PathNN layers (Michel et al., ICML 2023, Eq. 2) on explicitly given path tensors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.nn.pathnn import PathConv, PathNNLayers
from graphbench.paths import enumerate_paths

# a 5-node graph (triangle 0-1-2 with tail 2-3-4); edge ids 0..9 are the directed edges below
SRC = torch.tensor([0, 1, 1, 2, 2, 0, 2, 3, 3, 4])
DST = torch.tensor([1, 0, 2, 1, 0, 2, 3, 2, 4, 3])


def _paths(kind="ap", cutoff=4, src=SRC, dst=DST, n=5):
    ps = enumerate_paths(src, dst, n, kind, cutoff)
    return ps.paths, ps.edge_ids, ps.dists


def _layers(**kw):
    torch.manual_seed(0)
    return PathNNLayers(8, 4, edge_dim=3, distance_encoding=True, **kw).double()


def test_messages_are_the_sum_of_lstm_embeddings_of_anchored_paths():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4, 4, batch_first=True).double()
    conv = PathConv(4, lstm).double().eval()
    h = torch.randn(5, 4, dtype=torch.float64)
    paths = torch.tensor([[1, 0], [2, 0], [0, 1]])  # anchor = last node
    m = conv.messages(h, paths)
    def emb(p):
        return lstm(h[p][None])[1][0][0, 0]
    assert torch.allclose(m[0], emb(torch.tensor([1, 0])) + emb(torch.tensor([2, 0])))
    assert torch.allclose(m[1], emb(torch.tensor([0, 1])))
    assert torch.all(m[2:] == 0)  # nodes that anchor no path receive nothing
    mean = PathConv(4, lstm, path_agg="mean").double()
    assert torch.allclose(mean.messages(h, paths)[0], m[0] / 2)
    # the order of the tokens matters (an LSTM is not a set function): the anchor is read last
    assert not torch.allclose(emb(torch.tensor([1, 0])), emb(torch.tensor([0, 1])))


def test_edge_and_distance_tokens():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(4 + 2 + 3, 4, batch_first=True).double()
    conv = PathConv(4, lstm).double()
    h = torch.randn(3, 4, dtype=torch.float64)
    paths = torch.tensor([[2, 1, 0]])
    e = torch.randn(1, 2, 2, dtype=torch.float64)
    d = torch.randn(1, 3, 3, dtype=torch.float64)
    tok = conv.tokens(h, paths, e, d)
    assert tok.shape == (1, 3, 9)
    # the reference's order: node state ‖ distance embedding ‖ edge feature
    assert torch.equal(tok[0, :, :4], h[[2, 1, 0]])
    assert torch.equal(tok[0, :, 4:7], d[0])
    assert torch.all(tok[0, 0, 7:] == 0) and torch.equal(tok[0, 1:, 7:], e[0])  # no edge into the first node


@pytest.mark.parametrize("train", [False, True])
def test_permutation_equivariance(train):
    layers = _layers()
    layers.train(train)
    paths, eids, dists = _paths()
    n, ne = 5, len(SRC)
    h = torch.randn(n, 8, dtype=torch.float64)
    ef = torch.randn(ne, 3, dtype=torch.float64)
    out = layers(h, paths, ef, eids, dists)
    perm = torch.tensor([3, 0, 4, 1, 2])  # new label of old node i
    inv = torch.argsort(perm)
    eperm = torch.randperm(ne)  # new position of old edge i
    einv = torch.argsort(eperm)
    rows = {k: torch.randperm(len(p)) for k, p in paths.items()}  # and shuffle the path rows
    out2 = layers(h[inv], {k: perm[p][rows[k]] for k, p in paths.items()}, ef[einv],
                  {k: eperm[e][rows[k]] for k, e in eids.items()}, {k: d[rows[k]] for k, d in dists.items()})
    assert torch.allclose(out2, out[inv], atol=1e-10)


def test_batched_paths_with_offsets_equal_separate_graphs():
    """Two graphs, batched by concatenating node states / edge features and offsetting the second graph's path
    node indices by the first graph's node count and its edge ids by the first graph's edge count."""
    layers = _layers().eval()
    g2 = nx.cycle_graph(4)
    s2 = torch.tensor([a for a, b in g2.edges()] + [b for a, b in g2.edges()])
    d2 = torch.tensor([b for a, b in g2.edges()] + [a for a, b in g2.edges()])
    p1, e1, d1 = _paths()
    p2, e2, dd2 = _paths(src=s2, dst=d2, n=4)
    h1, h2 = torch.randn(5, 8, dtype=torch.float64), torch.randn(4, 8, dtype=torch.float64)
    f1, f2 = torch.randn(len(SRC), 3, dtype=torch.float64), torch.randn(len(s2), 3, dtype=torch.float64)
    out1, out2 = layers(h1, p1, f1, e1, d1), layers(h2, p2, f2, e2, dd2)
    paths = {k: torch.cat([p1[k], p2[k] + 5]) for k in p1}
    eids = {k: torch.cat([e1[k], e2[k] + len(SRC)]) for k in e1}
    dists = {k: torch.cat([d1[k], dd2[k]]) for k in d1}
    out = layers(torch.cat([h1, h2]), paths, torch.cat([f1, f2]), eids, dists)
    assert torch.allclose(out, torch.cat([out1, out2]), atol=1e-10)
    # without the offset the second graph's paths would update the first graph's nodes: the check can fail
    wrong = layers(torch.cat([h1, h2]), {k: torch.cat([p1[k], p2[k]]) for k in p1}, torch.cat([f1, f2]), eids, dists)
    assert not torch.allclose(wrong, torch.cat([out1, out2]))


def test_one_shared_lstm_and_one_layer_per_length():
    layers = _layers()
    assert len(layers.convs) == 3 and all(c.lstm is layers.lstm for c in layers.convs)
    assert sum(1 for m in layers.modules() if isinstance(m, torch.nn.LSTM)) == 1
    assert layers.lstm.input_size == 8 + 8 + 3  # node ‖ distance ‖ edge
    paths, eids, dists = _paths()
    with pytest.raises(ValueError, match="no paths of length 3"):
        layers(torch.zeros(5, 8, dtype=torch.float64), {1: paths[1], 2: paths[2]}, torch.zeros(10, 3), eids, dists)
    with pytest.raises(ValueError, match="distance_encoding"):
        layers(torch.zeros(5, 8, dtype=torch.float64), paths, torch.zeros(10, 3), eids, None)


def _embed(kind, g, cutoff, de, seed=0):
    torch.manual_seed(seed)
    layers = PathNNLayers(16, cutoff, distance_encoding=de).double().eval()
    src = torch.tensor([a for a, b in g.edges()] + [b for a, b in g.edges()])
    dst = torch.tensor([b for a, b in g.edges()] + [a for a, b in g.edges()])
    ps = enumerate_paths(src, dst, g.number_of_nodes(), kind, cutoff)
    h = torch.ones(g.number_of_nodes(), 16, dtype=torch.float64)  # constant features: 1-WL sees nothing
    return layers(h, ps.paths, dists=ps.dists).sum(0)  # sum readout


def test_paths_separate_what_1wl_cannot():
    """C6 and two triangles are 1-WL equivalent (2-regular, 6 nodes). With constant features PathNN-SP separates
    them (triangles have no shortest paths of 2 edges), and so does PathNN-AP with the distance encoding (the
    2-edge simple paths of a triangle end next to the anchor); AP without it at K = 3 sees the same multiset of
    constant sequences in both graphs and cannot."""
    c6 = nx.cycle_graph(6)
    tri = nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3))
    assert nx.weisfeiler_lehman_graph_hash(c6) == nx.weisfeiler_lehman_graph_hash(tri)
    for kind, de in [("sp", False), ("ap", True)]:
        assert not torch.allclose(_embed(kind, c6, 3, de), _embed(kind, tri, 3, de), atol=1e-6), kind
    assert torch.allclose(_embed("ap", c6, 3, False), _embed("ap", tri, 3, False), atol=1e-9)


def test_gradients_reach_the_shared_lstm_from_every_layer():
    layers = _layers()
    paths, eids, dists = _paths()
    h = torch.randn(5, 8, dtype=torch.float64, requires_grad=True)
    layers(h, paths, torch.randn(10, 3, dtype=torch.float64), eids, dists).sum().backward()
    assert layers.lstm.weight_ih_l0.grad is not None and torch.isfinite(layers.lstm.weight_ih_l0.grad).all()
    assert np.isfinite(h.grad.numpy()).all() and h.grad.abs().sum() > 0


def test_l2_norm_feeds_every_layer_unit_norm_node_states():
    """The synthetic reference's ``l2_norm``: node states are scaled to unit norm before each layer, so every LSTM
    token carries a unit-norm state and the layers cannot see the scale of their input."""
    paths, eids, dists = _paths()
    h = torch.randn(5, 8, dtype=torch.float64)
    ef = torch.randn(len(SRC), 3, dtype=torch.float64)
    normed = _layers(l2_norm=True).eval()
    seen = []
    normed.lstm.register_forward_hook(lambda mod, args, out: seen.append(args[0][..., :8].norm(dim=-1)))
    out = normed(h, paths, ef, eids, dists)
    assert len(seen) == 3 and all(torch.allclose(s, torch.ones_like(s)) for s in seen)
    assert torch.allclose(normed(1e3 * h, paths, ef, eids, dists), out, atol=1e-10)
    plain = _layers().eval()
    assert not torch.allclose(plain(1e3 * h, paths, ef, eids, dists), plain(h, paths, ef, eids, dists))


# -- the paper presets against the reference code (gasmichel/PathNNs_expressive@2b8eb712, docs/models/pathnn.md §4) --

def _preset_model(model: str, preset: str):
    from graphbench.data.base import FeatureSpec
    from graphbench.data.molecules import atom_spec, bond_spec
    from graphbench.models import build_model, model_hparams
    from graphbench.presets import get_preset

    p = get_preset(model, preset)
    dataset = p.datasets[0]
    if dataset == "zinc":  # the reference's nn.Embedding(28) / nn.Embedding(4), graphbench's ZINC card
        node, edge = FeatureSpec("categorical", cardinalities=(28,)), FeatureSpec("categorical", cardinalities=(4,))
    else:  # OGB's AtomEncoder / BondEncoder
        node, edge = atom_spec(), bond_spec()
    out = {"zinc": 1, "ogbg-molhiv": 1, "peptides-func": 10, "peptides-struct": 11}[dataset]
    hp = {k: v for k, v in p.hparams.items() if k in model_hparams(model)}
    return build_model(model, node, out, edge_dim=edge, **hp), p, node, edge, out


def _released_count(hidden: int, cutoff: int, node_rows: int, edge_rows: int, out: int, de: bool, agg: str) -> int:
    """Parameters of the released ``EdgePathNN`` (benchmarks/model_ogb.py), module by module."""
    width = hidden * (3 if de else 2)                                   # LSTM input: node ‖ (distance) ‖ edge
    lstm = 4 * hidden * (width + hidden) + 2 * 4 * hidden
    mlp = 2 * (hidden * hidden + hidden) + 2 * 2 * hidden              # 2 × (Linear → BN)
    bn = 2 * hidden if agg == "sum" else 0
    head = hidden * hidden + hidden + hidden * out + out
    return (node_rows + edge_rows) * hidden + (cutoff * hidden if de else 0) + lstm + (cutoff - 1) * (mlp + bn) + head


def test_benchmark_presets_count_the_released_code_and_the_logs_minus_their_extra_rows():
    """Every benchmark preset builds the released EdgePathNN's parameter count at its config, and that count is the
    reference log's minus 4 × hidden (ZINC) or 3 × hidden (OGB features): the logs' constant surplus. ZINC's AP
    preset needs the distance encoding for it (without: 421,961, not 501,621 − 560)."""
    from graphbench.models import count_parameters
    from graphbench.models.pathnn import LOG_EXTRA_ROWS, LOGGED_PARAMS

    assert len(LOGGED_PARAMS) == 12
    for (model, preset), (dataset, logged, ours) in LOGGED_PARAMS.items():
        net, p, node, edge, out = _preset_model(model, preset)
        hp = p.hparams
        released = _released_count(hp["hidden"], hp["cutoff"], sum(node.cardinalities), sum(edge.cardinalities),
                                    out, hp["distance_encoding"], hp["path_agg"])
        assert count_parameters(net) == released == ours == logged - LOG_EXTRA_ROWS[dataset] * hp["hidden"], preset
        assert hp["distance_encoding"] == (model == "pathnn-ap")  # main_ogb.py: on for every all-simple-paths run
        assert p.params is None and f"{logged:,}" in p.params_missing and f"{ours:,}" in p.params_missing
    net, *_ = _preset_model("pathnn-ap", "michel2023-zinc")
    assert count_parameters(net) == 501_621 - 4 * 140 == 501_061


def test_embeddings_are_xavier_initialised_as_the_reference():
    """The reference Xavier-initialises its atom, bond and distance tables: std = sqrt(2 / (rows + hidden)) / ...
    ≈ 0.11 for ZINC's 28 × 140 atom table, where PyTorch's default N(0, 1) gives ≈ 1.0; also after a reset."""
    for preset in ("michel2023-molhiv", "michel2023-zinc"):
        net, *_ = _preset_model("pathnn-ap", preset)
        tables = {"atom": net.encoder.tables[0].weight, "bond": net.edge_encoder.tables[0].weight,
                  "distance": net.path_layers.distance_embedding.weight}
        for reset in (False, True):
            if reset:
                net.reset_parameters()
            for name, w in tables.items():
                rows, cols = w.shape
                bound = (6.0 / (rows + cols)) ** 0.5
                assert w.abs().max() <= bound, (preset, name, reset)
                assert 0.6 * bound / 3 ** 0.5 < w.detach().std() < 1.4 * bound / 3 ** 0.5, (preset, name, reset)
    assert 0.08 < float(net.encoder.tables[0].weight.detach().std()) < 0.14  # ZINC: 28 × 140
    ogb, *_ = _preset_model("pathnn-sp", "michel2023-molhiv")
    for table in [*ogb.encoder.tables, *ogb.edge_encoder.tables]:
        assert table.weight.abs().max() <= (6.0 / sum(table.weight.shape)) ** 0.5


def _fit_on_validation_sequence(hparams: dict, values: list[float]) -> list[float]:
    """Run the trainer's fit loop with the preset's training settings on a fixed sequence of validation metrics
    (training and evaluation replaced), returning the lr of every epoch."""
    from types import SimpleNamespace

    from graphbench.metrics import get_metric
    from graphbench.train.config import TRAIN_HPARAMS, TrainConfig
    from graphbench.train.trainer import Trainer

    config = TrainConfig.from_dict({k: v for k, v in hparams.items() if k in TRAIN_HPARAMS}
                                   | {"epochs": len(values), "patience": len(values)})
    trainer = object.__new__(Trainer)
    seq = iter(values)
    trainer.model, trainer.config, trainer.metric = torch.nn.Linear(2, 1), config, get_metric("ap")
    trainer.node_level, trainer.device, trainer.score_test = True, torch.device("cpu"), False
    trainer.progress = trainer.epoch_callback = trainer.checkpoint = None
    trainer.split = SimpleNamespace(train=None, val=None, test=None)
    trainer._train_epoch = lambda opt, epoch: 0.0
    trainer.evaluate_with_loss = lambda index: (next(seq), 0.0)
    trainer.evaluate = lambda index: 0.0
    return [h["lr"] for h in trainer.fit().history]


def test_peptides_func_schedule_halves_the_lr_on_a_rising_ap_as_the_reference():
    """main_ogb.py steps ReduceLROnPlateau(mode="min", patience=20, factor=0.5) on Peptides-func's validation AP:
    on a rising AP every epoch after the first is a bad one, so the lr halves after epochs 22, 43, … — the
    behaviour behind the published number. A schedule following the metric's direction would never halve."""
    from graphbench.presets import get_preset

    hp = get_preset("pathnn-ap", "michel2023-peptides-func").hparams
    rising = [0.3 + 0.004 * i for i in range(50)]
    lrs = _fit_on_validation_sequence(hp, rising)
    assert lrs == [1e-3] * 22 + [5e-4] * 21 + [2.5e-4] * 7
    assert (hp["scheduler"], hp["plateau_mode"], hp["plateau_on"], hp["lr_patience"]) == ("plateau", "min",
                                                                                           "val_metric", 20)
    assert _fit_on_validation_sequence({**hp, "plateau_mode": "max"}, rising) == [1e-3] * 50
    # and no min-lr stop: Peptides trains its 200 epochs even once the lr is below 1e-5 (only ZINC stops)
    assert hp["min_lr"] == 0.0 and get_preset("pathnn-ap", "michel2023-zinc").hparams["min_lr"] == 1e-5


def test_molhiv_presets_have_no_schedule():
    from graphbench.presets import get_preset

    for model in ("pathnn-sp", "pathnn-sp-plus", "pathnn-ap"):
        hp = get_preset(model, "michel2023-molhiv").hparams
        assert hp["scheduler"] == "none" and hp["ties"] == "later"
        assert _fit_on_validation_sequence(hp, [0.8 - 0.001 * i for i in range(30)]) == [5e-4] * 30
