"""The rewirings as registered transforms (issue #13): edge types, the papers' claims through the transform, seeds,
the cache shared across processes, and the relational models that consume the edge types."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys

import dgl
import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.data.base import GraphDataset, Split
from graphbench.rewiring import shortest_path_distances, spectral_gap, total_effective_resistance
from graphbench.rewiring.laser import orbit_budget
from graphbench.transforms import resolve_chain
from graphbench.transforms.apply import apply_steps, clear_memo, entry_folder, prepare
from graphbench.transforms.config import canonical_chain
from tests.helpers import ROOT, run_cli

REWIRINGS = ("laser", "gtr", "fosr", "sdrf", "borf")


def _graph(nxg: nx.Graph) -> dgl.DGLGraph:
    g = dgl.from_networkx(nx.convert_node_labels_to_integers(nxg))
    g.ndata["feat"] = torch.arange(g.num_nodes(), dtype=torch.float32)[:, None]
    g.edata["w"] = torch.arange(g.num_edges(), dtype=torch.float32)
    return g


def _rewire(g: dgl.DGLGraph, entry: dict | str, seed: int = 0, index: int = 0) -> dgl.DGLGraph:
    out, _ = apply_steps(g, resolve_chain([entry]), seed=seed, index=index)
    return out


def _pairs(g: dgl.DGLGraph, etype: int | None = None) -> set[tuple[int, int]]:
    s, d = g.edges()
    keep = torch.ones_like(s, dtype=torch.bool) if etype is None else g.edata["etype"] == etype
    return set(zip(s[keep].tolist(), d[keep].tolist()))


def _dataset(graphs: list[dgl.DGLGraph], name: str = "rewire-toy") -> GraphDataset:
    y = torch.zeros(len(graphs), dtype=torch.long)
    n = len(graphs)
    split = Split("fixed", np.arange(n), np.arange(n, n), np.arange(n, n)) if n < 3 else \
        Split("fixed", np.arange(n - 2), [n - 2], [n - 1])
    return GraphDataset(name, graphs, y, "graph", "multiclass", "accuracy", [split], num_classes=2)


@pytest.mark.parametrize("name", REWIRINGS)
def test_input_edges_keep_type_0_and_their_data_and_node_data_is_copied(name):
    g = _graph(nx.barbell_graph(5, 3))
    out = _rewire(g, name)
    assert set(out.edata["etype"].unique().tolist()) <= set(range(3)) and out.num_nodes() == g.num_nodes()
    torch.testing.assert_close(out.ndata["feat"], g.ndata["feat"])
    orig = _pairs(out, 0)
    assert orig <= _pairs(g)  # only removals (SDRF/BORF) touch the input edges
    if name in ("laser", "gtr", "fosr"):
        assert orig == _pairs(g)
    s, d = out.edges()
    is0 = out.edata["etype"] == 0
    w = {(a, b): float(x) for a, b, x in zip(*(t.tolist() for t in g.edges()), g.edata["w"].tolist())}
    assert all(w[(a, b)] == x for a, b, x in zip(s[is0].tolist(), d[is0].tolist(), out.edata["w"][is0].tolist()))
    assert (out.edata["w"][~is0] == 0).all()
    assert _pairs(out) == {(b, a) for a, b in _pairs(out)}  # symmetric in, symmetric out
    assert (~is0).any() or name in ("sdrf", "borf")


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("rho", [0.25, 0.5])
def test_laser_transform_adds_edges_only_at_distance_r_with_type_r_minus_1_within_the_budget(seed, rho):
    g = _graph(nx.connected_watts_strogatz_graph(24, 4, 0.2, seed=seed))
    dist = shortest_path_distances(g)
    snapshots = 4
    for symmetric in (True, False):
        out = _rewire(g, {"name": "laser", "num_snapshots": snapshots, "rho": rho, "symmetric": symmetric}, seed)
        s, d, t = (x.numpy() for x in (*out.edges(), out.edata["etype"]))
        added = t > 0
        assert (dist[s[added], d[added]] == t[added] + 1).all()  # locality: type s ↔ distance exactly s + 1
        for r in range(2, snapshots + 1):
            budget = np.array([orbit_budget(int((dist[i] == r).sum()), rho) for i in range(g.num_nodes())])
            if symmetric:  # each pair was selected by one of its ends: at most the sum of the budgets
                assert (t == r - 1).sum() // 2 <= budget.sum()
                assert (t == r - 1).sum() // 2 >= budget.max()
            else:  # the released reading: i → j for j < i, each node sends its lower orbit's budget
                lower = np.array([orbit_budget(int((dist[i, :i] == r).sum()), rho) for i in range(g.num_nodes())])
                np.testing.assert_array_equal(np.bincount(s[t == r - 1], minlength=g.num_nodes()), lower)
                assert (d[t == r - 1] < s[t == r - 1]).all()


def test_laser_picks_the_least_connected_nodes_of_each_orbit():
    # a path with a triangle hanging off one end: from node 0, the orbit at distance 2 is {2}; at distance 3 the
    # nodes 3 (path) — the (A+I)^8 walk counts decide within an orbit.
    g = _graph(nx.lollipop_graph(4, 4))
    out = _rewire(g, {"name": "laser", "num_snapshots": 3, "rho": 0.3, "symmetric": False})
    # the released reading: node i chose among j < i and sent i → j
    dist = shortest_path_distances(g)
    mu = np.linalg.matrix_power(nx.to_numpy_array(nx.lollipop_graph(4, 4)) + np.eye(8), 8)
    s, d, t = (x.numpy() for x in (*out.edges(), out.edata["etype"]))
    for i in range(8):
        for r in (2, 3):
            orbit = np.flatnonzero(dist[i, :i] == r)
            chosen = d[(s == i) & (t == r - 1)]
            if orbit.size:
                assert chosen.size and mu[i, chosen].max() <= np.sort(mu[i, orbit])[len(chosen) - 1] + 1e-9


def _total_resistance_drop(adj: np.ndarray, pair: tuple[int, int]) -> float:
    n = len(adj)
    before = total_effective_resistance((np.nonzero(adj)[0], np.nonzero(adj)[1]), n)
    a = adj.copy()
    a[pair[0], pair[1]] = a[pair[1], pair[0]] = 1
    return before - total_effective_resistance((np.nonzero(a)[0], np.nonzero(a)[1]), n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gtr_transform_adds_the_edge_with_the_largest_exact_resistance_decrease(seed):
    nxg = nx.connected_watts_strogatz_graph(12, 3, 0.3, seed=seed)
    g = _graph(nxg)
    adj = nx.to_numpy_array(nx.convert_node_labels_to_integers(nxg))
    out = _rewire(g, {"name": "gtr", "num_edges": 1})
    (added,) = {tuple(sorted(p)) for p in _pairs(out, 1)}
    drops = {(u, v): _total_resistance_drop(adj, (u, v)) for u, v in itertools.combinations(range(12), 2)
             if not adj[u, v]}
    assert drops[added] == pytest.approx(max(drops.values()), rel=1e-9)
    two = _rewire(g, {"name": "gtr", "num_edges": 3})
    assert total_effective_resistance(two) < total_effective_resistance(out) < total_effective_resistance(g)


@pytest.mark.parametrize("seed", [0, 1])
def test_fosr_transform_raises_the_spectral_gap(seed):
    g = _graph(nx.barbell_graph(6, 2))
    out = _rewire(g, {"name": "fosr", "num_edges": 4}, seed)
    assert len(_pairs(out, 1)) == 8
    assert spectral_gap(out) > spectral_gap(g) + 0.05


def test_curvature_rewirings_support_the_bottleneck():
    # the bridge of a barbell is the most negatively curved edge: SDRF (greedy) and BORF add an edge across it
    g = _graph(nx.barbell_graph(5, 0))
    bridge_sides = ({0, 1, 2, 3, 4}, {5, 6, 7, 8, 9})
    for entry in ({"name": "sdrf", "loops": 1, "tau": 50.0, "remove_edges": False},
                  {"name": "borf", "iterations": 1, "batch_add": 1, "batch_remove": 0}):
        (u, v), = {tuple(sorted(p)) for p in _pairs(_rewire(g, entry), 1)}
        assert (u in bridge_sides[0]) != (v in bridge_sides[0]), entry


def test_stochastic_rewirings_are_seeded_and_deterministic_ones_ignore_the_seed():
    graphs = [_graph(nx.cycle_graph(12)), _graph(nx.connected_watts_strogatz_graph(16, 4, 0.3, seed=3))]
    entries = {"laser": {"name": "laser", "rho": 0.5}, "fosr": {"name": "fosr", "num_edges": 4},
               "sdrf": {"name": "sdrf", "loops": 4, "tau": 0.5, "remove_edges": False},
               "gtr": {"name": "gtr", "num_edges": 4}, "borf": {"name": "borf"}}
    for name, entry in entries.items():
        runs = {seed: [sorted(_pairs(_rewire(g, entry, seed, i))) for i, g in enumerate(graphs)] for seed in (0, 0, 7)}
        again = [sorted(_pairs(_rewire(g, entry, 0, i))) for i, g in enumerate(graphs)]
        assert again == runs[0], name
        if name in ("gtr", "borf"):
            assert runs[7] == runs[0], name
        elif name != "fosr":  # FoSR's start vector is random but usually converges to the same eigenvector
            assert runs[7] != runs[0], name


def test_rewiring_parameters_are_dotted_hyperparameters_of_the_chain():
    rest, chain = canonical_chain({"transforms": [{"name": "laser"}], "laser.rho": 0.25, "lr": 0.1})
    assert rest == {"transforms": [{"name": "laser"}], "lr": 0.1}
    assert chain == [{"name": "laser", "num_snapshots": 3, "rho": 0.25, "min_additions": 1, "symmetric": True,
                      "rounding": "ceil", "distances": "exact"}]
    with pytest.raises(ValueError, match="add {name: fosr}"):
        canonical_chain({"fosr.num_edges": 3})
    with pytest.raises(ValueError, match="rho"):
        canonical_chain({"transforms": [{"name": "laser", "rho": 2.0}]})


BUILD = """
import hashlib, sys
import networkx as nx, dgl, torch
import graphbench.rewiring.transforms as rt
from graphbench.data.base import GraphDataset, Split
from graphbench.transforms import resolve_chain
from graphbench.transforms.apply import prepare

def rewired_digest(root):
    graphs = []
    for i in range(40):
        g = dgl.from_networkx(nx.connected_watts_strogatz_graph(20, 4, 0.3, seed=i))
        g.ndata["feat"] = torch.ones(20, 1)
        graphs.append(g)
    ds = GraphDataset("rewire-cache-toy", graphs, torch.zeros(40, dtype=torch.long), "graph", "multiclass",
                      "accuracy", [Split("fixed", range(30), range(30, 35), range(35, 40))], num_classes=2)
    out = prepare(ds, resolve_chain([{"name": "fosr", "num_edges": 3}, {"name": "sdrf", "loops": 3}]), seed=5,
                  root=root, workers=1)
    h = hashlib.sha256()
    for g in out.graphs:
        s, d = g.edges()
        h.update(s.numpy().tobytes() + d.numpy().tobytes() + g.edata["etype"].numpy().tobytes())
    return h.hexdigest()
"""
SECOND_PROCESS = BUILD + """
def boom(*a, **k):
    raise SystemExit("the rewiring ran again instead of reading the cache")
rt.fosr = rt.sdrf = boom
print(rewired_digest(sys.argv[1]))
"""


def test_a_rewired_dataset_is_computed_once_and_read_from_the_cache_by_a_second_process(tmp_path, monkeypatch):
    monkeypatch.delenv("GRAPHBENCH_CACHE")  # the cache of root tmp_path: <root>/.cache
    scope: dict = {}
    exec(BUILD, scope)  # noqa: S102  (the same dataset code as the second process)
    clear_memo()
    first = scope["rewired_digest"](str(tmp_path))
    assert len(list(tmp_path.glob("**/transforms/rewire-cache-toy/*/DONE"))) == 1
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    env.pop("GRAPHBENCH_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", SECOND_PROCESS, str(tmp_path)], env=env, text=True,
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr  # the second process never ran the rewirings: it read the entry
    assert proc.stdout.strip() == first


def test_cache_entries_are_per_seed_for_stochastic_rewirings_and_shared_for_deterministic_ones(tmp_path):
    ds = _dataset([_graph(nx.cycle_graph(8 + i)) for i in range(4)])
    sto, det = resolve_chain(["fosr"]), resolve_chain(["gtr"])
    assert entry_folder(ds, sto, 0, tmp_path) != entry_folder(ds, sto, 1, tmp_path)
    assert entry_folder(ds, det, 0, tmp_path) == entry_folder(ds, det, 1, tmp_path)
    clear_memo()
    a = prepare(ds, sto, seed=3, root=tmp_path)
    clear_memo()
    b = prepare(ds, sto, seed=3, root=tmp_path)
    assert _pairs(a.graphs[0]) == _pairs(b.graphs[0])


# -- models -------------------------------------------------------------------------------------------------------
def test_relational_models_keep_one_weight_set_per_edge_type_and_use_the_added_edges():
    from graphbench.models import build_model
    from graphbench.transforms.batch import Collator

    g = _graph(nx.path_graph(8))
    g.ndata["feat"] = torch.zeros(8, 1)
    g.ndata["feat"][7] = 1.0
    rewired = _rewire(g, {"name": "laser", "num_snapshots": 4, "rho": 1.0})
    batch = Collator().batch([rewired])
    for name, hp in (("laser-gcn", {"num_snapshots": 4}), ("rgcn", {"relations": 4}),
                     ("laser-gin", {"num_snapshots": 4}), ("rgin", {"relations": 4})):
        torch.manual_seed(0)
        model = build_model(name, 1, 2, task_level="node", layers=1, hidden=8, encoder=False, head="none",
                            norm="none", residual=False, **hp).eval()
        assert len(model.convs[0].convs) == 4
        out = model(batch)
        # node 7's feature reaches node 4 (distance 3) in one layer only through the radius-3 snapshot
        assert out[4].abs().sum() > 0 and torch.allclose(out[0], out[1])
        with torch.no_grad():
            for p in model.convs[0].convs[2].parameters():
                p.zero_()
        out = model(batch)
        assert torch.allclose(out[4], out[0]), name  # without relation 2's weights node 4 no longer sees node 7
    with pytest.raises(ValueError, match="set the model's `relations` to 4"):
        build_model("rgcn", 1, 2, relations=2)(batch)


def test_rewired_models_bring_their_rewiring_with_its_parameters():
    from graphbench.models import MODELS
    from graphbench.train.runner import resolve_hparams
    from graphbench.transforms.config import run_steps

    for model, rewiring in (("fosr-gcn", "fosr"), ("gtr-gin", "gtr"), ("sdrf-gcn", "sdrf"), ("borf-gin", "borf"),
                            ("laser-gcn", "laser")):
        model_hp, train_hp = resolve_hparams(model, {"pe": "rwse"})
        steps = run_steps(model, model_hp, train_hp)
        assert [s.name for s in steps] == ["rwse", rewiring]  # encodings see the input graph
        assert MODELS.get(model).meta["paper"]
    model_hp, train_hp = resolve_hparams("fosr-gcn", {"num_edges": 7})
    assert run_steps("fosr-gcn", model_hp, train_hp)[0].kwargs() == {"num_edges": 7, "initial_power_iters": 5}
    model_hp, _ = resolve_hparams("laser-gcn", {"num_snapshots": 2, "rho": 0.1})
    assert run_steps("laser-gcn", model_hp, {})[0].kwargs()["num_snapshots"] == 2


def test_laser_gcn_trains_through_the_cli_and_reaches_what_plain_gcn_cannot(tmp_path):
    # RingTransfer n=10: the source sits 5 hops from the target. Two GCN layers cannot see it (chance = 0.2);
    # LASER's snapshots at radius 2 and 3 (ρ = 1) put it within two hops, so LASER-GCN with two layers can.
    from graphbench import api

    hparams = {"epochs": 12, "patience": 12, "layers": 2, "hidden": 32, "lr": 0.01, "batch_size": 32}
    options = {"num_graphs": 250}
    (tmp_path / "run.yaml").write_text(f"dataset: ring-transfer-n10\nseeds: [0]\ndataset_options: {options}\n"
                                       f"threads: 1\nhparams: {hparams}\n")
    env = {"OMP_NUM_THREADS": "1", "GRAPHBENCH_DATA_ROOT": str(tmp_path / "data")}
    run_cli("run", "--config", "run.yaml", "--model", "laser-gcn", "--set", "rho=1.0", "--results", "r.csv",
            "--quiet", cwd=tmp_path, env=env)
    from graphbench.results import read_results

    laser_row = read_results(tmp_path / "r.csv").iloc[0]
    gcn_row = api.run("gcn", "ring-transfer-n10", hparams=hparams, dataset_options=options, results=None,
                      data_root=str(tmp_path / "data"), threads=1, progress=False).iloc[0]
    assert laser_row["model"] == "laser-gcn" and laser_row["status"] == "ok" and gcn_row["status"] == "ok"
    assert laser_row["test_metric"] >= 0.9, laser_row["test_metric"]
    assert gcn_row["test_metric"] <= 0.45, gcn_row["test_metric"]


REWIRED_MODELS = ("rgcn", "rgin", "laser-gcn", "laser-gin") + tuple(
    f"{r}-{b}" for r in ("fosr", "gtr", "sdrf", "borf") for b in ("gcn", "gin"))


@pytest.mark.parametrize("name", REWIRED_MODELS)
def test_every_rewired_model_runs_on_its_rewired_data_and_trains_every_relation(name):
    from graphbench.models import build_model
    from graphbench.train.runner import resolve_hparams
    from graphbench.transforms.batch import Collator
    from graphbench.transforms.config import run_steps

    graphs = [_graph(nx.barbell_graph(5, k)) for k in (1, 2, 3)]
    hp = {"transforms": [{"name": "fosr", "num_edges": 6}]} if name in ("rgcn", "rgin") else {}
    model_hp, train_hp = resolve_hparams(name, {**hp, "hidden": 8, "layers": 2})
    ds = prepare(_dataset(graphs), run_steps(name, model_hp, train_hp), seed=0, use_cache=False)
    assert ds.graphs[0].edata["etype"].max() >= 1  # the model's (or the run's) rewiring added typed edges
    batch = Collator().batch(ds.graphs)
    torch.manual_seed(0)
    model = build_model(name, 1, 3, **model_hp)
    out = model(batch)
    assert out.shape == (3, 3) and torch.isfinite(out).all()
    out.square().sum().backward()
    for conv in model.convs:
        for rel in conv.convs:  # one convolution per edge type, each reached by the loss
            assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in rel.parameters()), name


def test_a_sweep_file_lists_rewired_models_side_by_side_and_searches_rewiring_parameters(tmp_path):
    from graphbench.sweep.config import load_sweep

    (tmp_path / "s.yaml").write_text(
        "models:\n"
        "  gcn: {hparams: {transforms: [{name: gtr}]}, search_space: {gtr.num_edges: {type: int, low: 2, high: 8}}}\n"
        "  fosr-gcn: {hparams: {num_edges: 5}}\n"
        "  laser-gcn: {search_space: {num_snapshots: {type: categorical, choices: [2, 3]}}}\n"
        "datasets: [ring-transfer-n10]\ntrials: 2\nprotocol: {final: {folds: [0], seeds: [0]}}\n")
    sweep = load_sweep(tmp_path / "s.yaml", check_datasets=False)
    studies = {s.model: s for s in sweep.studies()}
    assert set(studies) == {"gcn", "fosr-gcn", "laser-gcn"}
    assert "gtr.num_edges" in studies["gcn"].space and studies["gcn"].fixed["transforms"] == [{"name": "gtr"}]
    assert studies["fosr-gcn"].fixed["num_edges"] == 5 and "num_edges" not in studies["fosr-gcn"].space
    assert {"rho", "num_snapshots"} <= set(studies["laser-gcn"].space)
