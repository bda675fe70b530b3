"""The batch object: per-graph index tensors offset into their own graph, trained end to end through the CLI."""

from __future__ import annotations

import dgl
import pytest
import torch

import tests.toy_inputs  # noqa: F401  (registers the toy dataset, transforms and model)
from graphbench.results import read_results
from graphbench.transforms import Batch, Collator, Concat, EdgeIndex, NodeIndex, SubGraph


def _path(n: int) -> dgl.DGLGraph:
    return dgl.graph((torch.arange(n - 1), torch.arange(1, n)), num_nodes=n)


def test_collator_offsets_node_and_edge_ids_and_keeps_padding():
    graphs = [_path(3), _path(5), _path(2)]  # 3/5/2 nodes, 2/4/1 edges
    extras = [
        {"paths": torch.tensor([[0, 1, 2], [2, 1, -1]]), "pairs": torch.tensor([[0, 1], [2, 2]]),
         "eids": torch.tensor([1]), "dist": torch.tensor([1.0, 2.0])},
        {"paths": torch.tensor([[4, 3, -1]]), "pairs": torch.tensor([[4], [0]]), "eids": torch.tensor([3, 0]),
         "dist": torch.tensor([3.0])},
        {"paths": torch.zeros(0, 3, dtype=torch.long), "pairs": torch.tensor([[1], [0]]), "eids": torch.tensor([0]),
         "dist": torch.tensor([4.0])},
    ]
    c = Collator({"paths": NodeIndex(), "pairs": NodeIndex(dim=1), "eids": EdgeIndex(), "dist": Concat()})
    b = c.batch(graphs, extras)
    assert b["paths"].tolist() == [[0, 1, 2], [2, 1, -1], [7, 6, -1]]  # +3 for graph 1; -1 padding kept
    assert b["pairs"].tolist() == [[0, 1, 7, 9], [2, 2, 3, 8]]  # +3, +8 along dim 1
    assert b["eids"].tolist() == [1, 5, 2, 6]  # edge offsets 0, 2, 6
    assert b["dist"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert b.sizes["paths"].tolist() == [2, 1, 0]
    assert b.graph_ids("paths").tolist() == [0, 0, 1]
    # every offset index points at the same node as before batching
    for key in ("paths",):
        for row, gid in zip(b[key].tolist(), b.graph_ids(key).tolist()):
            offset = sum(g.num_nodes() for g in graphs[:gid])
            assert all(v == -1 or offset <= v < offset + graphs[gid].num_nodes() for v in row)


def test_indices_into_an_extra_graph_use_its_offsets():
    prod = [_path(4), _path(9)]  # e.g. product graphs with n² pair-nodes
    c = Collator({"prod": SubGraph(), "anchor": NodeIndex(of="prod")})
    b = c.batch([_path(2), _path(3)], [{"prod": prod[0], "anchor": torch.tensor([3])},
                                        {"prod": prod[1], "anchor": torch.tensor([0, 8])}])
    assert b["prod"].num_nodes() == 13 and b["prod"].batch_size == 2
    assert b["anchor"].tolist() == [3, 4, 12]


def test_a_key_declared_differently_by_model_and_transform_is_refused():
    with pytest.raises(ValueError, match="declares"):
        Collator.for_outputs({"triples": NodeIndex()}, {"triples": Concat()})


def test_toy_model_on_a_batch_equals_the_model_on_each_graph():
    from graphbench.data import load_dataset
    from graphbench.models import build_model
    from graphbench.transforms import resolve_chain
    from graphbench.transforms.apply import prepare

    ds = prepare(load_dataset("toy-triangles"), resolve_chain(["triangles"]), use_cache=False)
    torch.manual_seed(0)
    model = build_model("toy-tri", ds.node_features, 2, hidden=8).eval()
    c = Collator.for_outputs(ds.outputs, model.extras)
    samples = [(ds.graphs[i], ds.extras[i], ds.labels[i]) for i in range(16)]
    batch, _ = c(samples)
    together = model(batch)
    alone = torch.cat([model(c(samples[i:i + 1])[0]) for i in range(16)])
    assert torch.allclose(together, alone, atol=1e-5)
    # without offsets (every graph's triples read as node ids of the first graph) the outputs differ
    wrong = Batch(batch.graph, None, {"triples": torch.cat([ds.extras[i]["triples"] for i in range(16)])},
                  {"triples": batch.sizes["triples"]}, 16)
    assert not torch.allclose(model(wrong), alone, atol=1e-3)


def test_old_call_style_still_works():
    from graphbench.models import build_model

    g = dgl.batch([_path(3), _path(4)])
    model = build_model("gin", 5, 2, hidden=8, layers=2).eval()
    feat = torch.randn(7, 5)
    assert torch.allclose(model(g, feat), model(Batch.from_graph(g, feat)))


def test_toy_model_trains_end_to_end_through_graphbench_run(tmp_path):
    """A model that reads a per-graph index tensor, its transform and dataset registered as a plugin would be."""
    out = tmp_path / "r.csv"
    code = ("import sys, tests.toy_inputs; from graphbench.cli import main; sys.exit(main(sys.argv[1:]))")
    import subprocess
    import sys

    from tests.helpers import ROOT

    proc = subprocess.run([sys.executable, "-c", code, "run", "--model", "toy-tri", "--dataset", "toy-triangles",
                           "--epochs", "40", "--lr", "0.01", "--hidden", "16", "--results", str(out), "--quiet"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr
    row = read_results(out).iloc[0]
    assert row["status"] == "ok"
    assert row["test_metric"] >= 0.95  # triangle counts per graph decide the label exactly


def test_a_model_whose_inputs_are_missing_gets_a_clear_error():
    from graphbench.data import load_dataset
    from graphbench.models import build_model
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer

    ds = load_dataset("toy-triangles")
    model = build_model("toy-tri", ds.node_features, 2, hidden=8)
    with pytest.raises(ValueError, match="triples"):
        Trainer(model, ds, ds.splits[0], TrainConfig(epochs=1))
