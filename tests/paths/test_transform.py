"""The ``paths`` transform and the PathNN models: padded path tensors, node-order independence, batching through
the Collator, the cap error, and training through ``graphbench run``."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import dgl
import networkx as nx
import numpy as np
import pytest
import torch

import tests.toy_inputs  # noqa: F401  (toy-triangles dataset)
from graphbench.data.base import FeatureSpec, GraphDataset, Split
from graphbench.models import build_model
from graphbench.models.pathnn import PathNN
from graphbench.paths import PathLimitError, graph_paths
from graphbench.paths.transform import padded, unpad
from graphbench.results import read_results
from graphbench.transforms import Collator
from graphbench.transforms.apply import apply_steps, chain_outputs, clear_memo, prepare
from graphbench.transforms.base import resolve_step


def _dgl(g: nx.Graph) -> dgl.DGLGraph:
    e = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    src = torch.from_numpy(np.concatenate([e[:, 0], e[:, 1]]))
    dst = torch.from_numpy(np.concatenate([e[:, 1], e[:, 0]]))
    return dgl.graph((src, dst), num_nodes=g.number_of_nodes())


def _run(graph, kind="ap", cutoff=4, **kw):
    step = resolve_step({"name": "paths", "kind": kind, "cutoff": cutoff, **kw})
    return apply_steps(graph, [step])[1]


def _rows(x, graph):
    """The transform's rows as {(node sequence, edge (u, v) sequence, distances)} in original labels."""
    s, d = (t.tolist() for t in graph.edges())
    out = set()
    for nodes, edges, dists in zip(x["path_nodes"].tolist(), x["path_edges"].tolist(), x["path_dists"].tolist()):
        n = [v for v in nodes if v >= 0]
        e = [(s[i], d[i]) for i in edges if i >= 0]
        out.add((tuple(n), tuple(e), tuple(v for v in dists if v >= 0)))
    return out


def test_transform_pads_the_path_sets_with_the_papers_cutoff_convention():
    g = _dgl(nx.cycle_graph(5))
    x = _run(g, "ap", 4)  # K = 4 nodes: paths of 1..3 edges
    assert x["path_nodes"].shape[1] == 4 and x["path_edges"].shape[1] == 3 and x["path_dists"].shape[1] == 4
    lengths = unpad(x["path_nodes"])
    assert lengths.tolist() == sorted(lengths.tolist()) and set(lengths.tolist()) == {1, 2, 3}
    assert torch.bincount(lengths).tolist() == [0, 10, 10, 10]  # C5: 2 directions × 5 per length
    ps = graph_paths(g, "ap", 4)
    for length in (1, 2, 3):
        rows = x["path_nodes"][lengths == length]
        assert torch.equal(rows[:, :length + 1].long(), ps.paths[length])
        assert (rows[:, length + 1:] == -1).all()
    # every edge id joins consecutive path nodes, in the path's direction
    s, d = g.edges()
    for nodes, edges in zip(x["path_nodes"].tolist(), x["path_edges"].tolist()):
        n = [v for v in nodes if v >= 0]
        assert [(s[i].item(), d[i].item()) for i in edges if i >= 0] == list(zip(n[:-1], n[1:]))
    assert x["path_dists"].dtype == torch.int8 and x["path_nodes"].dtype == torch.int32


@pytest.mark.parametrize("kind", ["sp+", "ap"])
def test_transform_output_does_not_depend_on_node_or_edge_order(kind):
    rng = np.random.default_rng(1)
    for g in [nx.petersen_graph(), nx.grid_2d_graph(3, 3), nx.cycle_graph(7)]:
        g = nx.convert_node_labels_to_integers(g)
        graph = _dgl(g)
        ref = _rows(_run(graph, kind, 4), graph)
        perm = rng.permutation(g.number_of_nodes())  # new label of old node i
        s, d = graph.edges()
        eorder = torch.from_numpy(rng.permutation(graph.num_edges()))
        relabelled = dgl.graph((torch.from_numpy(perm)[s][eorder], torch.from_numpy(perm)[d][eorder]),
                               num_nodes=graph.num_nodes())
        inv = np.argsort(perm)
        back = {(tuple(int(inv[v]) for v in n), tuple((int(inv[a]), int(inv[b])) for a, b in e), dd)
                for n, e, dd in _rows(_run(relabelled, kind, 4), relabelled)}
        assert back == ref


def test_batched_path_indices_point_into_their_own_graph():
    graphs = [_dgl(nx.cycle_graph(5)), _dgl(nx.path_graph(4)), _dgl(nx.complete_graph(4)), _dgl(nx.star_graph(3))]
    step = resolve_step({"name": "paths", "kind": "ap", "cutoff": 3})
    done = [apply_steps(g, [step]) for g in graphs]
    collator = Collator.for_outputs(chain_outputs([step]), PathNN.extras)
    batch = collator.batch([g for g, _ in done], [x for _, x in done])
    nodes, edges, gids = batch["path_nodes"], batch["path_edges"], batch.graph_ids("path_nodes")
    noff = torch.cumsum(batch.graph.batch_num_nodes(), 0) - batch.graph.batch_num_nodes()
    eoff = torch.cumsum(batch.graph.batch_num_edges(), 0) - batch.graph.batch_num_edges()
    s, d = batch.graph.edges()
    for k, (g, x) in enumerate(done):
        rows = gids == k
        mine = nodes[rows]
        valid = mine >= 0
        assert ((mine[valid] >= noff[k]) & (mine[valid] < noff[k] + g.num_nodes())).all()
        assert torch.equal(torch.where(valid, mine - noff[k], -1), x["path_nodes"].long())  # offset, nothing else
        e = edges[rows]
        assert torch.equal(torch.where(e >= 0, e - eoff[k], -1), x["path_edges"].long())
    # in the batched graph the edge ids still join consecutive path nodes
    for row, erow in zip(nodes.tolist(), edges.tolist()):
        n = [v for v in row if v >= 0]
        assert [(s[i].item(), d[i].item()) for i in erow if i >= 0] == list(zip(n[:-1], n[1:]))


@pytest.mark.parametrize("name", ["pathnn-sp-plus", "pathnn-ap"])
def test_model_on_a_batch_equals_the_model_on_each_graph_and_ignores_node_order(name):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    nxg = [nx.cycle_graph(6), nx.disjoint_union(nx.cycle_graph(3), nx.cycle_graph(3)), nx.petersen_graph()]
    graphs = [_dgl(g) for g in nxg]
    for g in graphs:
        g.edata["feat"] = torch.from_numpy(rng.integers(0, 3, (g.num_edges(), 1)))
        s, d = g.edges()  # symmetric edge features
        key = torch.minimum(s, d) * 100 + torch.maximum(s, d)
        g.edata["feat"] = (key % 3)[:, None]
    model = build_model(name, FeatureSpec("none"), 4, edge_dim=FeatureSpec("categorical", cardinalities=(3,)),
                        hidden=16, cutoff=4).double().eval()
    step = resolve_step(model.input_transforms({"cutoff": 4})[0])
    collator = Collator.for_outputs(chain_outputs([step]), model.extras)

    def embed(gs):
        done = [apply_steps(g, [step]) for g in gs]
        return model(collator.batch([g for g, _ in done], [x for _, x in done]))

    together = embed(graphs)
    alone = torch.cat([embed([g]) for g in graphs])
    assert torch.allclose(together, alone, atol=1e-10)
    # the old call style (a batched graph, no extras) enumerates the same paths on the fly
    assert torch.allclose(model(dgl.batch(graphs)), together, atol=1e-10)
    # C6 and two triangles are 1-WL equivalent: paths tell them apart
    assert not torch.allclose(together[0], together[1], atol=1e-6)
    perm = torch.from_numpy(rng.permutation(10))
    s, d = graphs[2].edges()
    relabelled = dgl.graph((perm[s], perm[d]), num_nodes=10)
    relabelled.edata["feat"] = graphs[2].edata["feat"]
    assert torch.allclose(embed([relabelled])[0], together[2], atol=1e-10)


def test_a_graph_over_the_cap_names_the_dataset_the_graph_and_the_cap(tmp_path):
    clear_memo()
    graphs = [_dgl(nx.path_graph(4)), _dgl(nx.cycle_graph(5)), _dgl(nx.complete_graph(7))]
    ds = GraphDataset("tiny-paths", graphs, torch.zeros(3, dtype=torch.long), "graph", "multiclass", "accuracy",
                      [Split("fixed", np.array([0]), np.array([1]), np.array([2]))], num_classes=2)
    step = resolve_step({"name": "paths", "kind": "ap", "cutoff": 5, "max_paths": 500})
    with pytest.raises(PathLimitError, match=r"tiny-paths.*graph 2: graph with 7 nodes and 21 edges has more than "
                                             r"500 AP paths at cutoff K=5") as info:
        prepare(ds, [step], root=tmp_path, workers=1)
    assert "max_paths" in str(info.value)
    assert isinstance(info.value, ValueError)  # the CLI prints it as a one-line user error
    out = prepare(ds, [resolve_step({"name": "paths", "kind": "ap", "cutoff": 5})], root=tmp_path, workers=1)
    assert out.extras[2]["path_nodes"].shape == (7 * (6 + 30 + 120 + 360), 5)


def test_padded_keeps_lengths_without_paths():
    ps = graph_paths(_dgl(nx.path_graph(3)), "sp", 5)  # no path has 3 or 4 edges
    x = padded(ps)
    assert x["path_nodes"].shape == (6, 5) and unpad(x["path_nodes"]).tolist() == [1, 1, 1, 1, 2, 2]


def _cli(tmp_path, *args):
    from tests.helpers import ROOT

    code = "import sys, tests.toy_inputs; from graphbench.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"})


def test_pathnn_trains_through_graphbench_run(tmp_path):
    """Triangle or not, on chorded 12-cycles with the same degrees: PathNN-AP with the distance encoding sees a
    2-edge path whose end is next to the anchor (a triangle) after one forward pass; it must learn the task."""
    out = tmp_path / "r.csv"
    proc = _cli(tmp_path, "run", "--model", "pathnn-ap", "--dataset", "toy-triangles", "--epochs", "25", "--lr",
                "0.01", "--hidden", "16", "--set", "cutoff=3", "--results", str(out), "--quiet", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    row = read_results(out).iloc[0]
    assert row["status"] == "ok", row["error"]
    assert row["test_metric"] >= 0.9


def test_pathnn_regression_on_zinc_format_with_edge_features(tmp_path):
    d = tmp_path / "molecules" / "ZINC"
    d.mkdir(parents=True)
    for part, count in {"train": 8, "val": 4, "test": 4}.items():
        mols = []
        for i in range(count):
            n = 4 + i % 4
            adj = torch.zeros(n, n, dtype=torch.long)
            for j in range(n - 1):
                adj[j, j + 1] = adj[j + 1, j] = 1 + j % 3
            adj[0, n - 1] = adj[n - 1, 0] = 1  # a ring
            mols.append({"atom_type": torch.arange(n) % 28, "bond_type": adj,
                         "logP_SA_cycle_normalized": torch.tensor([float(n)]), "num_atom": n})
        with open(d / f"{part}.pickle", "wb") as f:
            pickle.dump(mols, f)
        (d / f"{part}.index").write_text(",".join(str(i) for i in range(count)) + "\n")
    cfg = tmp_path / "run.yaml"
    cfg.write_text("dataset_options: {accept_modified: true}\n")
    out = tmp_path / "r.csv"
    proc = _cli(tmp_path, "run", "--config", str(cfg), "--model", "pathnn-sp", "pathnn-ap", "--dataset", "zinc",
                "--epochs", "3", "--hidden", "8", "--set", "cutoff=4", "--data-root", str(tmp_path), "--results",
                str(out), "--quiet", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    rows = read_results(out)
    assert rows["status"].tolist() == ["ok", "ok"], rows["error"].tolist()
    assert rows["metric"].tolist() == ["mae", "mae"] and np.isfinite(rows["test_metric"]).all()


def test_pathnn_in_a_sweep_file_searches_its_cutoff_and_skips_layers(tmp_path):
    from graphbench.sweep.config import load_sweep

    f = tmp_path / "s.yaml"
    f.write_text("models:\n  pathnn-ap: {hparams: {cutoff: 3}}\n  pathnn-sp: {search_space: {cutoff: {type: int, "
                 "low: 2, high: 4}}}\n  gin: {}\ndatasets: [csl]\ntrials: 2\nhparams: {epochs: 2}\nsearch_space:\n"
                 "  layers: {type: int, low: 2, high: 4}\n  lr: {type: float, low: 1.0e-3, high: 1.0e-2}\n")
    spaces = {s.model: s.space for s in load_sweep(f).studies()}
    assert "layers" not in spaces["pathnn-ap"] and "cutoff" not in spaces["pathnn-ap"]  # fixed at 3
    assert spaces["pathnn-sp"]["cutoff"] == {"type": "int", "low": 2, "high": 4}
    assert "layers" in spaces["gin"] and "lr" in spaces["pathnn-ap"]
