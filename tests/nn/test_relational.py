"""RelationalConv: one weight per edge type (R-GCN Eq. 2), checked against the sum written out edge by edge."""

from __future__ import annotations

import dgl
import pytest
import torch
from dgl.nn import GraphConv

from graphbench.nn.relational import RelationalConv, relation_graphs


def _typed_batch() -> dgl.DGLGraph:
    g1 = dgl.graph((torch.tensor([0, 1, 2, 0]), torch.tensor([1, 2, 0, 2])), num_nodes=3)
    g1.edata["etype"] = torch.tensor([0, 0, 1, 2])
    g2 = dgl.graph((torch.tensor([0, 1, 3]), torch.tensor([1, 3, 2])), num_nodes=4)
    g2.edata["etype"] = torch.tensor([1, 1, 0])
    return dgl.batch([g1, g2])


def test_relational_sum_equals_the_edgewise_formula():
    torch.manual_seed(0)
    g = _typed_batch()
    h = torch.randn(g.num_nodes(), 5)
    layer = RelationalConv(lambda r: GraphConv(5, 4, norm="none", bias=False, allow_zero_in_degree=True), 3,
                           in_dim=5, out_dim=4)
    out = layer(g, h)
    expected = h @ layer.self_loop.weight.T
    src, dst = g.edges()
    for s, d, r in zip(src.tolist(), dst.tolist(), g.edata["etype"].tolist()):
        expected[d] += h[s] @ layer.convs[r].weight
    assert torch.allclose(out, expected, atol=1e-5)
    # the weights really differ per type: retyping one edge changes the output
    g.edata["etype"][0] = 2
    assert not torch.allclose(layer(g, h), out)


def test_relation_graphs_keep_nodes_and_batch_information():
    g = _typed_batch()
    parts = relation_graphs(g, g.edata["etype"], 3)
    assert [p.num_edges() for p in parts] == [3, 3, 1]
    assert all(p.num_nodes() == g.num_nodes() for p in parts)
    assert parts[1].batch_num_edges().tolist() == [1, 2]
    assert parts[0].batch_num_nodes().tolist() == [3, 4]
    precomputed = RelationalConv(lambda r: GraphConv(2, 2, allow_zero_in_degree=True), 3, self_loop=False)
    h = torch.randn(7, 2)
    assert torch.allclose(precomputed(g, h), precomputed(parts, h))


def test_out_of_range_edge_types_are_refused():
    g = _typed_batch()
    layer = RelationalConv(lambda r: GraphConv(2, 2, allow_zero_in_degree=True), 2, self_loop=False)
    with pytest.raises(ValueError, match="0..1"):
        layer(g, torch.randn(7, 2))
