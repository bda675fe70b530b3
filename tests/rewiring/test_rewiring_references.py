"""Issue 19, the rewiring families: each preset builds the reference network (FoSR's released TU network for
``karhadkar2023-tu``, LASER's released GraphGym stack, BORF's node GCN) with its parameter count, and LASER's
released transform (lower-triangle orbits with one edge i → j, half-to-even budgets, the aliased distances) is
reproduced where the presets ask for it. See docs/models/rewiring.md and docs/models/laser.md."""

from __future__ import annotations

import dgl
import networkx as nx
import numpy as np
import pytest
import torch
from torch import nn

from graphbench.data.molecules import atom_spec
from graphbench.models import MODELS, build_model, count_parameters
from graphbench.models.laser import InDegreeGCNConv
from graphbench.nn.relational import RelationalConv
from graphbench.presets import get_preset, presets_for
from graphbench.rewiring.base import adjacency
from graphbench.rewiring.laser import laser, orbit_budget, released_distances
from graphbench.transforms import resolve_chain
from graphbench.transforms.apply import apply_steps
from graphbench.transforms.batch import Collator

FOSR_MODELS = ["rgcn", "rgin"] + [f"{r}-{b}" for r in ("fosr", "gtr", "sdrf", "borf") for b in ("gcn", "gin")]
#: (node input, outputs, task level) of the datasets the presets count their parameters on (our loaders' widths)
DIMS = {"mutag": (7, 2, "graph"), "peptides-func": (atom_spec(), 10, "graph"), "cora": (1433, 7, "node"),
        "citeseer": (3703, 6, "node"), "texas": (1703, 5, "node"), "cornell": (1703, 5, "node"),
        "wisconsin": (1703, 5, "node")}


def _model_hparams(model: str, hparams: dict) -> dict:
    own = MODELS.get(model).meta["hparams"]
    return {k: v for k, v in hparams.items() if k in own}


def _graphs(seed: int = 0) -> list[dgl.DGLGraph]:
    """Three graphs of different sizes with edge lists in a shuffled order and 3 node features."""
    rng = np.random.default_rng(seed)
    out = []
    for n in (7, 11, 9):
        nxg = nx.connected_watts_strogatz_graph(n, 4, 0.3, seed=int(rng.integers(1000)))
        src, dst = zip(*[(u, v) for u, v in nxg.edges()] + [(v, u) for u, v in nxg.edges()])
        perm = rng.permutation(len(src))
        g = dgl.graph((torch.tensor(src)[perm], torch.tensor(dst)[perm]), num_nodes=n)
        g.ndata["feat"] = torch.tensor(rng.normal(size=(n, 3)), dtype=torch.float32)
        out.append(g)
    return out


def _batch(model: str, hparams: dict):
    entry = MODELS.get(model)
    chain = resolve_chain(entry.obj.input_transforms(hparams))
    graphs = [apply_steps(g, chain, seed=0, index=i)[0] for i, g in enumerate(_graphs())]
    return Collator().batch(graphs)


# -- LASER's released transform --------------------------------------------------------------------------------
def test_released_reading_adds_one_edge_from_the_higher_to_the_lower_id_on_a_relabelled_path():
    order = [3, 0, 4, 1, 2]  # the path 3 - 0 - 4 - 1 - 2, edges listed out of order
    pairs = [(order[k], order[k + 1]) for k in range(4)]
    src = np.array([a for a, b in pairs] + [b for a, b in pairs])[[5, 2, 7, 0, 3, 6, 1, 4]]
    dst = np.array([b for a, b in pairs] + [a for a, b in pairs])[[5, 2, 7, 0, 3, 6, 1, 4]]
    rw = laser((src, dst), 5, num_snapshots=2, rho=1.0, symmetric=False)
    new = rw.orig_eid < 0
    # distance-2 pairs {3, 4}, {0, 1}, {4, 2}: each added once, from the higher id to the lower one
    assert set(zip(rw.src[new].tolist(), rw.dst[new].tolist())) == {(4, 3), (1, 0), (4, 2)}
    sym = laser((src, dst), 5, num_snapshots=2, rho=1.0, symmetric=True)
    new = sym.orig_eid < 0
    assert set(zip(sym.src[new].tolist(), sym.dst[new].tolist())) == {(4, 3), (3, 4), (1, 0), (0, 1), (4, 2),
                                                                     (2, 4)}


def test_released_budget_rounds_half_to_even():
    assert orbit_budget(12, 0.1, rounding="round") == 1 and orbit_budget(12, 0.1) == 2
    assert orbit_budget(5, 0.5, rounding="round") == 2 and orbit_budget(5, 0.5) == 3  # round(2.5) = 2
    assert orbit_budget(25, 0.1, rounding="round") == 2  # round(2.5) = 2
    assert orbit_budget(1, 0.5, rounding="round") == 1  # round(0.5) = 0, then the minimum of 1
    assert orbit_budget(3, 0.1, 0, rounding="round") == 0
    # node 13 hangs off a hub 0 with 12 other leaves: its orbit at distance 2 is those 12 nodes, all below 13
    hub = [(0, k) for k in range(1, 14)]
    src = np.array([a for a, b in hub] + [b for a, b in hub])
    dst = np.array([b for a, b in hub] + [a for a, b in hub])
    for rounding, expected in (("round", 1), ("ceil", 2)):
        rw = laser((src, dst), 14, num_snapshots=2, rho=0.1, symmetric=False, rounding=rounding)
        assert int(((rw.src == 13) & (rw.orig_eid < 0)).sum()) == expected


def test_released_distances_put_distance_4_in_radius_3_and_5_to_8_in_radius_4():
    path = nx.path_graph(8)
    edges = np.array(list(path.edges()) + [(v, u) for u, v in path.edges()])
    labels, mu = released_distances(adjacency((edges[:, 0], edges[:, 1]), 8), 4)
    assert labels[0].tolist() == [1, 1, 2, 3, 3, 4, 4, 4]
    assert labels[3].tolist() == [3, 2, 1, 1, 1, 2, 3, 3]
    np.testing.assert_array_equal(labels, labels.T)
    np.testing.assert_allclose(mu, np.linalg.matrix_power(labels, 8))
    three = released_distances(adjacency((edges[:, 0], edges[:, 1]), 8), 3)[0]
    assert three[0].tolist() == [1, 1, 2, 3, 3, 0, 0, 0]
    # through the rewiring: radius 3 (etype 3) of the 6-path reaches distance 4 with the released matrix only
    six = nx.path_graph(6)
    e6 = np.array(list(six.edges()) + [(v, u) for u, v in six.edges()])
    for distances, expected in (("released", {(3, 0), (4, 1), (4, 0), (5, 2), (5, 1)}),
                                ("exact", {(3, 0), (4, 1), (5, 2)})):
        rw = laser((e6[:, 0], e6[:, 1]), 6, num_snapshots=3, rho=1.0, symmetric=False, distances=distances)
        r3 = (rw.orig_eid < 0) & (rw.etype == 3)
        assert set(zip(rw.src[r3].tolist(), rw.dst[r3].tolist())) == expected


# -- LASER's model -------------------------------------------------------------------------------------------
def test_in_degree_gcn_is_pygs_normalisation_on_a_directed_graph():
    src = torch.tensor([0, 0, 2, 3, 0, 1, 2, 3])  # 0→1, 0→2, 2→1, 3→0 and a self-loop per node
    dst = torch.tensor([1, 2, 1, 0, 0, 1, 2, 3])
    g = dgl.graph((src, dst), num_nodes=4)
    torch.manual_seed(0)
    conv = InDegreeGCNConv(3, 2, bias=False)
    x = torch.randn(4, 3)
    a_hat = torch.zeros(4, 4)
    a_hat[dst, src] = 1.0  # row i: the sources that send to i
    d = a_hat.sum(1).rsqrt()
    expected = (d[:, None] * a_hat * d[None, :]) @ x @ conv.conv.weight
    torch.testing.assert_close(conv(g, x), expected)
    # DGL's symmetric normalisation uses the source's out-degree: another answer on this graph
    out_deg = torch.bincount(src, minlength=4).float().rsqrt()
    other = (d[:, None] * a_hat * out_deg[None, :]) @ x @ conv.conv.weight
    assert not torch.allclose(other, expected)


@pytest.mark.parametrize("name", ["laser2024-lrgb", "laser2024-tu"])
def test_laser_presets_stack_without_residual_with_unit_norm_layer_outputs_and_a_linear_head(name):
    preset = get_preset("laser-gcn", name)
    hp = _model_hparams("laser-gcn", preset.hparams)
    assert hp["residual"] is False and hp["l2norm"] is True and hp["head"] == "linear"
    assert (hp["symmetric"], hp["rounding"], hp["distances"]) == (False, "round", "released")
    assert preset.hparams["plateau_on"] == "val_loss" and preset.hparams["lr_patience"] == 20
    assert preset.hparams["lr_factor"] == 0.5
    torch.manual_seed(0)
    model = build_model("laser-gcn", 3, 2, **(hp | {"encoder": False})).eval()
    assert isinstance(model.head, nn.Sequential) and [type(m) for m in model.head] == [nn.Dropout, nn.Linear]
    assert all(conv.conv.bias is None for conv in model.modules() if isinstance(conv, InDegreeGCNConv))
    batch = _batch("laser-gcn", hp)
    states = model.layer_states(batch, model.encode(batch))
    assert len(states) == hp["layers"] + 1
    for h in states[1:]:
        norms = h.norm(dim=-1)
        assert torch.all(((norms - 1).abs() < 1e-5) | (norms == 0)) and (norms > 0).float().mean() > 0.9
    # no residual: zeroing the last layer's convolutions leaves its input out of the output
    with torch.no_grad():
        for p in model.convs[-1].parameters():
            p.zero_()
    last = model.layer_states(batch, model.encode(batch))[-1]
    torch.testing.assert_close(last, torch.zeros_like(last))


# -- FoSR's network (karhadkar2023-tu) -------------------------------------------------------------------------
@pytest.mark.parametrize("model_name", FOSR_MODELS)
def test_karhadkar_preset_builds_fosrs_five_relational_layers_and_pools_the_logits(model_name):
    preset = get_preset(model_name, "karhadkar2023-tu")
    train = preset.hparams
    assert (train["batch_size"], train["scheduler"], train["plateau_on"], train["lr_factor"], train["lr_patience"],
            train["min_lr"], train["weight_decay"], train["lr"], train["patience"]) == \
        (64, "plateau", "train_loss", 0.1, 10, 0.0, 0.0, 1e-3, 101)
    if model_name.startswith("sdrf"):
        assert train["remove_edges"] is False and train["loops"] == 10
    hp = _model_hparams(model_name, train)
    torch.manual_seed(0)
    model = build_model(model_name, 3, 2, **hp).eval()
    assert len(model.convs) == 5 and all(isinstance(c, RelationalConv) for c in model.convs)
    assert model.layer_dims == [3, 64, 64, 64, 64, 2]
    assert model.encoder is None and isinstance(model.head, nn.Identity) and model.residual is False
    assert len(model.norms) == 4 and all(isinstance(n, nn.Identity) for n in model.norms)
    assert model.readout_op == "mean" and all(c.self_loop.bias is not None for c in model.convs)
    batch = _batch(model_name, hp)
    logits = model(batch)
    nodes = model.node_states(batch)
    sizes = batch.graph.batch_num_nodes().tolist()
    expected = torch.stack([part.mean(0) for part in torch.split(nodes, sizes)])
    torch.testing.assert_close(logits, expected)
    # the output layer's convolution alone (no activation, dropout or residual after it) gives the node logits
    states = model.layer_states(batch, model.encode(batch))
    torch.testing.assert_close(nodes, model.convs[-1](model.relation_graphs(batch), states[-2]))


# -- parameter counts ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model_name", FOSR_MODELS + ["laser-gcn", "gcn"])
def test_every_rewiring_preset_states_its_reference_count_or_why_not(model_name):
    owned = [p for p in presets_for(model_name)
             if p.name in ("karhadkar2023-tu", "laser2024-lrgb", "laser2024-tu") or p.name.startswith("nguyen2023")]
    assert owned
    for preset in owned:
        assert preset.reference, preset.name
        if preset.params is None:
            assert preset.params_missing, preset.name
            continue
        in_dim, out_dim, level = DIMS[preset.params_dataset]
        model = build_model(model_name, in_dim, out_dim, task_level=level,
                            **_model_hparams(model_name, preset.hparams))
        assert count_parameters(model) == preset.params, (model_name, preset.name)
