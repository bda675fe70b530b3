"""The registered subgraph GNNs (graphbench.models.sswl, .kl_gnn, .spen) through the shared model-input interface:
cached transform → collator → model, as the trainer and the expressiveness protocol feed them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dgl
import networkx as nx
import pandas as pd
import pytest
import torch

from graphbench.models import build_model, model_hparams
from graphbench.subgraph.product import ATOMIC_AGGREGATIONS, build_product_graph, from_extras
from graphbench.transforms.apply import apply_steps, chain_outputs
from graphbench.transforms.base import resolve_step
from graphbench.transforms.batch import Collator
from graphbench.transforms.config import run_steps

ROOT = Path(__file__).resolve().parents[2]
SSWL_MODELS = ["swl", "pswl", "gswl", "gnn-sswl", "gnn-sswl-plus", "sun-like", "gnn-ak-like"]
ALL_MODELS = SSWL_MODELS + ["kl-gnn", "spen"]
SMALL = {"hidden": 8, "layers": 2}


def undirected_graph(n: int, edges, feat: torch.Tensor | None = None) -> dgl.DGLGraph:
    src = [a for a, b in edges] + [b for a, b in edges]
    dst = [b for a, b in edges] + [a for a, b in edges]
    g = dgl.graph((torch.tensor(src, dtype=torch.int64), torch.tensor(dst, dtype=torch.int64)), num_nodes=n)
    if feat is not None:
        g.ndata["feat"] = feat
    return g


def model_inputs(name: str, hp: dict, graphs: list[dgl.DGLGraph]):
    """(model, Batch) with the model's own input transforms run on each graph, batched by the trainer's collator."""
    mhp = model_hparams(name, hp)
    steps = run_steps(name, mhp, {})
    pairs = [apply_steps(g, steps, index=i) for i, g in enumerate(graphs)]
    in_dim = graphs[0].ndata["feat"].shape[1] if "feat" in graphs[0].ndata else None
    model = build_model(name, in_dim, 4, **mhp).double()
    collator = Collator.for_outputs(chain_outputs(steps), model.extras, graphs[0])
    batch = collator.batch([g for g, _ in pairs], [e for _, e in pairs])
    return model, batch


def test_transform_extras_are_the_product_graph_and_flag_what_was_built():
    g = undirected_graph(5, [(0, 1), (1, 2), (2, 3), (3, 0), (3, 4)])
    step = resolve_step({"name": "sswl_product", "aggregations": "vv,uL", "policy": "distance", "max_dist": 2})
    _, extras = apply_steps(g, [step])
    assert extras["sswl_built"].tolist() == [a in ("uL", "vv") for a in ATOMIC_AGGREGATIONS]
    assert extras["sswl_vL"].shape == (2, 0) and extras["sswl_uG"].shape == (2, 0)   # not asked for: empty
    pb = from_extras(extras, 5, 1)
    ref = build_product_graph(5, *g.edges(), policy="distance", max_dist=2, aggregations=("uL", "vv"))
    assert pb.label.long().tolist() == ref.label.tolist() and int(pb.label.max()) == 2   # d(4, 1) = 3 clamped to 2
    for a in ("uL", "vv"):
        assert torch.equal(pb.edges[a].long(), ref.edges[a])
    assert torch.equal(pb.edge_ids["uL"].long(), ref.edge_ids["uL"])
    with pytest.raises(ValueError, match="comma-separated subset"):
        apply_steps(g, [resolve_step({"name": "sswl_product", "aggregations": "uL,xx"})])


def test_model_input_transforms_build_only_the_typed_edges_the_model_uses():
    for name, expected in [("swl", "uL"), ("gnn-sswl-plus", "uL,vL,vv"), ("gswl", "uL"), ("sun-like", "uL,uu,vv")]:
        (step,) = run_steps(name, model_hparams(name, {}), {})
        assert step.name == "sswl_product" and step.kwargs()["aggregations"] == expected, name


def test_disconnected_graph_unreachable_pairs_get_max_dist_label():
    g = undirected_graph(4, [(0, 1), (2, 3)], torch.randn(4, 2, dtype=torch.float64))
    model, batch = model_inputs("gnn-sswl-plus", {**SMALL, "max_dist": 3}, [g])
    pb = model.product(batch)
    assert sorted(set(pb.label.tolist())) == [0, 1, 3]           # ∞ → 3, never an out-of-range index
    assert torch.isfinite(model(batch)).all()


@pytest.mark.parametrize("name", ALL_MODELS)
def test_node_permutation_permutes_pair_states_and_keeps_output(name):
    torch.manual_seed(0)
    nxg = nx.gnp_random_graph(7, 0.4, seed=3)
    edges = list(nxg.edges())
    perm = torch.randperm(7)                                    # old node i becomes perm[i]
    x = torch.randn(7, 3, dtype=torch.float64)
    xp = torch.empty_like(x)
    xp[perm] = x
    g = undirected_graph(7, edges, x)
    gp = undirected_graph(7, [(int(perm[a]), int(perm[b])) for a, b in edges], xp)
    hp = {**SMALL, "rate": 1.0} if name == "kl-gnn" else SMALL
    model, batch = model_inputs(name, hp, [g, gp])               # both in one batch: same batch-norm statistics
    model.eval()
    out = model(batch)
    assert torch.allclose(out[0], out[1], atol=1e-10)
    assert out.std() > 1e-6
    if name in SSWL_MODELS:
        pb = model.product(batch)
        h = model.pair_states(batch)
        first = pb.pair_graph == 0
        root, node = pb.root[first], pb.node[first]
        pid = {(int(u) - 7, int(v) - 7): i for i, (u, v) in enumerate(zip(pb.root[~first], pb.node[~first]))}
        idx = torch.tensor([pid[(int(perm[u]), int(perm[v]))] for u, v in zip(root, node)])
        assert torch.allclose(h[first], h[~first][idx], atol=1e-10)
        assert h.std() > 1e-6


@pytest.mark.parametrize("name", ALL_MODELS + ["gin"])
def test_two_triangles_vs_hexagon_after_random_initialisation(name):
    """1-WL (and so GIN) cannot tell two triangles from a hexagon: same degrees everywhere. Node marking, distance
    encoding, individualisation and ego networks can — at random initialisation, in float64."""
    tri = undirected_graph(6, [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)])
    hexagon = undirected_graph(6, [(i, (i + 1) % 6) for i in range(6)])
    for g in (tri, hexagon):
        g.ndata["feat"] = torch.ones(6, 1, dtype=torch.float64)
    torch.manual_seed(1)
    hp = {**SMALL, "rate": 1.0, "k": 1} if name == "kl-gnn" else SMALL
    if name == "gin":
        model = build_model("gin", 1, 4, **SMALL).double()
        from graphbench.transforms.batch import Batch

        batch = Batch.from_graph(dgl.batch([tri, hexagon]))
    else:
        model, batch = model_inputs(name, hp, [tri, hexagon])
    model.eval()
    out = model(batch)
    gap = (out[0] - out[1]).abs().max().item()
    if name == "gin":
        assert gap < 1e-12
    else:
        assert gap > 1e-6, name


@pytest.mark.parametrize("architecture", ["joint", "parallel"])
def test_kl_gnn_evaluation_is_independent_of_batch_position_and_node_numbering(architecture):
    """Eval mode with rate < 1: every tuple is used, so a graph's prediction alone equals its prediction at every
    position of a batch of 4, and a relabelled copy gets the same output (the old code sampled 30% of the tuples
    with a per-batch seed: -0.1944 alone, -0.2052 first of 4, -0.1854 last of 4)."""
    torch.manual_seed(0)
    graphs = []
    for seed in range(4):
        nxg = nx.gnp_random_graph(7, 0.45, seed=seed)
        graphs.append(undirected_graph(7, list(nxg.edges()), torch.randn(7, 3, dtype=torch.float64)))
    hp = {**SMALL, "rate": 0.3, "k": 2, "architecture": architecture, "id_layers": 1, "global_layers": 1,
          "regression_layers": 1}
    g = graphs[0]
    perm = torch.randperm(7)
    src, dst = g.edges()
    gp = dgl.graph((perm[src], perm[dst]), num_nodes=7)
    xp = torch.empty_like(g.ndata["feat"])
    xp[perm] = g.ndata["feat"]
    gp.ndata["feat"] = xp
    model, batch = model_inputs("kl-gnn", hp, [g])
    model.eval()
    alone = model(batch)[0]
    state = model.state_dict()
    for pos in range(4):
        others = graphs[1:]
        m, b = model_inputs("kl-gnn", hp, others[:pos] + [g] + others[pos:])
        m.load_state_dict(state)
        m.eval()
        assert torch.allclose(m(b)[pos], alone, atol=1e-10), pos
    m, b = model_inputs("kl-gnn", hp, [gp])
    m.load_state_dict(state)
    m.eval()
    assert torch.allclose(m(b)[0], alone, atol=1e-10)
    model.train()                                      # training samples ⌊0.3 · T⌋ + 1 tuples per graph afresh
    outs = torch.stack([model(batch)[0] for _ in range(4)])
    assert (outs - outs[0]).abs().max() > 1e-8


def test_memory_guard_stops_the_run_through_the_cli(tmp_path):
    out = tmp_path / "r.csv"
    cmd = [sys.executable, "-m", "graphbench", "run", "--model", "gnn-sswl+", "--dataset", "csl", "--folds", "0",
           "--set", "lifted_budget_gb=0.01", "--set", "epochs=1", "--threads", "1", "--quiet", "--results", str(out)]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    for part in ("LiftedGraphTooLarge", "does not fit the memory budget", "> budget 0.01 GiB", "max n = 41",
                 "lower batch_size (now 32", "lifted_budget_gb"):
        assert part in res.stderr, part
    row = pd.read_csv(out).iloc[0]
    assert row["status"] == "failed" and row["model"] == "gnn-sswl-plus"


def test_gnn_sswl_plus_trains_through_the_cli(tmp_path):
    out = tmp_path / "r.csv"
    cmd = [sys.executable, "-m", "graphbench", "run", "--model", "gnn-sswl+", "--dataset", "csl", "--folds", "0",
           "--set", "hidden=16", "--set", "layers=2", "--set", "epochs=2", "--set", "batch_size=64",
           "--threads", "1", "--quiet", "--results", str(out)]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    row = pd.read_csv(out).iloc[0]
    assert row["status"] == "ok", row.get("error")
    assert row["model"] == "gnn-sswl-plus" and row["num_params"] > 0


def test_expressiveness_protocol_runs_the_registered_model_on_wl_pairs():
    """Through the expressiveness protocol (quick mode, float64, transforms per relabelled copy): GNN-SSWL+ tells
    apart every 1-WL-equivalent textbook pair except rook 4×4 / Shrikhande, two srg(16, 6, 2, 2) that 3-WL (and so
    every SSWL-bounded model) cannot separate; no reliability failure (the product graph is equivariant)."""
    from graphbench.expressiveness import evaluate, load_pairs

    res = evaluate("gnn-sswl+", load_pairs("wl-pairs"), hparams={"hidden": 16, "layers": 3})
    told = {r.name: r.distinguished for r in res.pairs}
    assert not told.pop("rook4x4/shrikhande")
    assert all(told.values()), told
    assert all(r.reliable for r in res.pairs)
