"""LCM: commutative operator, ⌈log2 d⌉ depth, degree 0, gradients, no padding, associativity regulariser."""

from __future__ import annotations

import math

import dgl
import pytest
import torch

from graphbench.nn.aggregators import LCMAggregator, make_aggregator, tree_reduce


def star(d: int, copies: int = 1) -> dgl.DGLGraph:
    """``copies`` disjoint stars, centre i receives from its d leaves; centres are nodes 0..copies-1."""
    src = torch.arange(copies, copies + copies * d)
    dst = torch.arange(copies).repeat_interleave(d)
    return dgl.graph((src, dst), num_nodes=copies + copies * d)


@pytest.mark.parametrize("operator", ["gru", "mlp"])
def test_operator_is_exactly_invariant_to_swapping_operands(operator):
    torch.manual_seed(0)
    agg = LCMAggregator(16, operator=operator)
    for rows in (1, 7, 64, 333):
        x, y = torch.randn(rows, 16), torch.randn(rows, 16)
        assert torch.equal(agg.combine(x, y), agg.combine(y, x))


@pytest.mark.parametrize("d", [1, 2, 3, 5, 8, 13, 64, 100])
def test_number_of_sequential_operator_calls_is_ceil_log2_degree(d):
    agg = LCMAggregator(4)
    calls = []
    agg.operator.register_forward_hook(lambda mod, inp, out: calls.append(inp[0].shape[0]))
    out = agg(star(d, copies=3), torch.randn(3 + 3 * d, 4))
    assert out.shape == (3 + 3 * d, 4)
    assert len(calls) == math.ceil(math.log2(d))
    # Every level is one batched call over all pairs of all 3 nodes (×2 for the two operand orders).
    sizes, n = [], d
    while n > 1:
        sizes.append(2 * 3 * (n // 2))
        n = (n + 1) // 2
    assert calls == sizes


def test_tree_reduce_pairs_neighbours_and_carries_the_odd_one():
    x = torch.arange(5.0).reshape(1, 5, 1)
    assert tree_reduce(x, lambda a, b: a + b).item() == 10.0
    # a∘b = 10a + b records the tree: level 1 → [0∘1, 2∘3, 4] = [1, 23, 4], level 2 → [1∘23, 4] = [33, 4],
    # level 3 → 33∘4 = 334.
    assert tree_reduce(x, lambda a, b: 10 * a + b).item() == 334.0


def test_degree_zero_nodes_get_the_learned_identity():
    agg = LCMAggregator(4)
    with torch.no_grad():
        agg.identity.copy_(torch.tensor([1.0, -2.0, 3.0, 0.5]))
    g = dgl.graph((torch.tensor([1, 2]), torch.tensor([0, 0])), num_nodes=4)  # nodes 1, 2, 3 have degree 0
    out = agg(g, torch.randn(4, 4))
    assert torch.equal(out[1:], agg.identity.expand(3, 4))
    assert not torch.equal(out[0], agg.identity)
    empty = agg(dgl.graph(([], []), num_nodes=2), torch.randn(2, 4))  # no edges at all
    assert torch.equal(empty, agg.identity.expand(2, 4))


def test_no_padding_a_node_sees_only_its_own_multiset():
    torch.manual_seed(0)
    agg = LCMAggregator(8)
    g = dgl.graph((torch.tensor([3, 4, 5, 6, 3, 4]), torch.tensor([0, 0, 0, 0, 1, 1])), num_nodes=7)
    x = torch.randn(7, 8)
    together = agg(g, x)
    alone = agg(dgl.graph((torch.tensor([1, 2]), torch.tensor([0, 0])), num_nodes=3), x[[1, 3, 4]])
    torch.testing.assert_close(together[1], alone[0], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["lcm", "lcm-mlp"])
def test_gradients_reach_the_operator_projection_and_inputs(name):
    agg = make_aggregator(name, 8)
    x = torch.randn(1 + 9, 8, requires_grad=True)
    agg(star(9), x)[0].sum().backward()
    assert x.grad is not None and x.grad[1:].abs().sum() > 0
    for pname, p in agg.named_parameters():
        if pname != "identity":  # the identity only receives gradient from degree-0 nodes
            assert p.grad is not None and p.grad.abs().sum() > 0, pname


def test_associativity_regulariser_is_recorded_in_training_and_differentiable():
    agg = LCMAggregator(8, reg=0.5)
    g, x = star(6, copies=4), torch.randn(4 + 24, 8)
    agg.train()
    agg(g, x)
    loss = agg.regularization_loss()
    assert loss.item() > 0
    loss.backward()
    assert agg.operator.cell.weight_hh.grad.abs().sum() > 0
    agg.eval()
    agg(g, x)
    assert agg.regularization_loss().item() == 0.0  # cleared each forward; not computed in eval


def test_two_neighbours_give_an_exactly_order_invariant_result():
    """With d = 2 the tree is one ⊕, so the result is exactly invariant to the neighbour order."""
    agg = LCMAggregator(8)
    x = torch.randn(3, 8)
    g1 = dgl.graph((torch.tensor([1, 2]), torch.tensor([0, 0])), num_nodes=3)
    g2 = dgl.graph((torch.tensor([2, 1]), torch.tensor([0, 0])), num_nodes=3)
    assert torch.equal(agg(g1, x)[0], agg(g2, x)[0])
