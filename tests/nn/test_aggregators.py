"""Aggregator interface, the standard set (sum/mean/max/min/std, PNA, GNP) and the recurrent aggregators."""

from __future__ import annotations

import dgl
import pytest
import torch

from graphbench.nn.aggregators import (
    GNPAggregator,
    GRUAggregator,
    LSTMAggregator,
    PNAAggregator,
    aggregator_names,
    make_aggregator,
)
from graphbench.nn.aggregators.gnp import raw_of
from graphbench.registry import UnknownNameError

ALL = ["sum", "mean", "max", "min", "std", "pna", "gnp", "lcm", "lcm-mlp", "gru", "lstm"]


def small_graph() -> dgl.DGLGraph:
    """Node 0 ← {1, 2, 3}, node 1 ← {4, 5}, node 2 ← {1}; nodes 3..6 have in-degree 0."""
    return dgl.graph((torch.tensor([1, 2, 3, 4, 5, 1]), torch.tensor([0, 0, 0, 1, 1, 2])), num_nodes=7)


NEIGHBOURS = {0: [1, 2, 3], 1: [4, 5], 2: [1]}


def test_every_builtin_is_registered():
    assert set(ALL) <= set(aggregator_names())


def test_unknown_name_names_close_matches():
    with pytest.raises(UnknownNameError, match="lcm"):
        make_aggregator("lcmm", 4)


@pytest.mark.parametrize("name", ALL)
def test_shapes_degree_zero_and_gradients(name):
    torch.manual_seed(0)
    agg = make_aggregator(name, 6)
    g, x = small_graph(), torch.randn(7, 6, requires_grad=True)
    out = agg(g, x)
    assert out.shape == (7, 6) and torch.isfinite(out).all()
    if name not in ("lcm", "lcm-mlp", "pna"):  # LCM: learned identity; PNA: linear post-transform of zeros
        assert torch.equal(out[3:], torch.zeros(4, 6))
    out.pow(2).sum().backward()
    assert x.grad[[1, 2, 3, 4, 5]].abs().sum() > 0
    for pname, p in agg.named_parameters():
        if pname != "identity":
            assert p.grad is not None, pname


@pytest.mark.parametrize("name", ALL)
def test_edge_messages_equal_source_messages_when_messages_are_source_states(name):
    torch.manual_seed(0)
    agg = make_aggregator(name, 5).eval()
    g, x = small_graph(), torch.randn(7, 5)
    torch.testing.assert_close(agg(g, x[g.edges()[0]], edge=True), agg(g, x))


def test_wrong_feature_shape_fails_with_the_expected_shape():
    with pytest.raises(ValueError, match=r"num_src_nodes=7, dim=4"):
        make_aggregator("sum", 4)(small_graph(), torch.randn(7, 3))


@pytest.mark.parametrize("name,ref", [
    ("sum", lambda m: m.sum(0)), ("mean", lambda m: m.mean(0)), ("max", lambda m: m.max(0).values),
    ("min", lambda m: m.min(0).values), ("std", lambda m: (m.var(0, unbiased=False) + 1e-5).sqrt()),
])
def test_parameter_free_aggregators_match_brute_force(name, ref):
    x = torch.randn(7, 3)
    out = make_aggregator(name, 3)(small_graph(), x)
    for v, nbrs in NEIGHBOURS.items():
        torch.testing.assert_close(out[v], ref(x[nbrs]))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "lcm", "gnp", "gru"])
def test_pool_aggregates_each_graphs_node_multiset(name):
    torch.manual_seed(0)
    agg = make_aggregator(name, 4).eval()
    graphs = [dgl.rand_graph(5, 8), dgl.rand_graph(3, 2), dgl.rand_graph(6, 10)]
    h = torch.randn(14, 4)
    pooled = agg.pool(dgl.batch(graphs), h)
    assert pooled.shape == (3, 4)
    # Pooling graph 1 alone (its 3 nodes into one virtual node) gives the same vector.
    one = agg(dgl.heterograph({("n", "in", "g"): (torch.arange(3), torch.zeros(3, dtype=torch.int64))},
                              num_nodes_dict={"n": 3, "g": 1}), h[5:8])
    torch.testing.assert_close(pooled[1], one[0])
    if name in ("sum", "mean", "max"):
        b = dgl.batch(graphs)
        b.ndata["h"] = h
        torch.testing.assert_close(pooled, dgl.readout_nodes(b, "h", op=name))


# --- GNP ---------------------------------------------------------------------------------------------------

def _gnp(p: float, q: float, dim: int = 3) -> GNPAggregator:
    agg = GNPAggregator(dim)
    with torch.no_grad():
        agg.p_raw.fill_(raw_of(p))
        agg.q.fill_(q)
    return agg


def test_gnp_special_cases_sum_mean_and_max():
    x = torch.randn(7, 3)
    g = small_graph()
    torch.testing.assert_close(_gnp(1, 0)(g, x), make_aggregator("sum", 3)(g, x), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(_gnp(1, 1)(g, x), make_aggregator("mean", 3)(g, x), atol=1e-4, rtol=1e-4)
    pos = x.abs() + 0.1  # p → ∞ on a non-negative multiset approaches max (within n^(1/p) = 3^(1/50))
    torch.testing.assert_close(_gnp(50, 0)(g, pos), make_aggregator("max", 3)(g, pos), atol=0, rtol=0.03)
    torch.testing.assert_close(_gnp(-50, 0)(g, pos), make_aggregator("min", 3)(g, pos), atol=0, rtol=0.03)


def test_gnp_is_stable_on_large_sets_and_learns_p_and_q():
    agg = GNPAggregator(4)
    d = 5000
    g = dgl.graph((torch.arange(1, d + 1), torch.zeros(d, dtype=torch.int64)), num_nodes=d + 1)
    x = torch.rand(d + 1, 4) * 20
    out = agg(g, x)
    assert torch.isfinite(out).all()
    out[0].sum().backward()
    assert torch.isfinite(agg.p_raw.grad).all() and agg.p_raw.grad.abs().sum() > 0 and agg.q.grad.abs().sum() > 0


# --- PNA ---------------------------------------------------------------------------------------------------

def test_pna_delta_is_the_training_mean_of_log_degree_and_frozen_in_eval():
    agg = PNAAggregator(2)
    g = small_graph()
    agg.train()
    agg(g, torch.randn(7, 2))
    expected = torch.log(g.in_degrees().double() + 1).mean()
    torch.testing.assert_close(agg.log_degree_sum / agg.log_degree_count, expected)
    agg.eval()
    agg(dgl.rand_graph(20, 200), torch.randn(20, 2))
    assert agg.log_degree_count.item() == 7
    assert PNAAggregator(2, avg_log_degree=1.5).delta(torch.zeros(3)).item() == 1.5


# --- recurrent -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [GRUAggregator, LSTMAggregator])
def test_recurrent_step_is_the_rnn_transition(cls):
    torch.manual_seed(0)
    agg = cls(4)
    seq = torch.randn(3, 2, 4)
    state = tuple(torch.zeros(3, 4) for _ in agg._state_slots())
    for t in range(2):
        state = agg.step(seq[:, t], state)
    torch.testing.assert_close(state[0], agg._run(seq, None)[0])


@pytest.mark.parametrize("cls", [GRUAggregator, LSTMAggregator])
def test_recurrent_order_is_random_in_training_and_fixed_in_eval(cls):
    torch.manual_seed(0)
    agg = cls(4)
    g, x = small_graph(), torch.randn(7, 4)
    agg.eval()
    assert torch.equal(agg(g, x), agg(g, x))
    agg.train()
    outs = {tuple(agg(g, x)[0].tolist()) for _ in range(20)}
    assert len(outs) > 1  # 3 neighbours: 6 orders


@pytest.mark.parametrize("cls", [GRUAggregator, LSTMAggregator])
def test_permutation_regulariser_does_not_change_the_output_and_reaches_the_weights(cls):
    torch.manual_seed(0)
    agg = cls(4, reg=1.0)
    d = 7
    g = dgl.graph((torch.arange(1, d + 1), torch.zeros(d, dtype=torch.int64)), num_nodes=d + 1)
    x = torch.randn(d + 1, 4)
    agg.train()
    torch.manual_seed(1)
    with_reg = agg(g, x)
    loss = agg.regularization_loss()
    assert loss.item() > 0
    loss.backward()
    assert agg.rnn.weight_hh_l0.grad.abs().sum() > 0
    agg.reg = 0.0  # same random order (same seed), no split of the sequence
    torch.manual_seed(1)
    torch.testing.assert_close(agg(g, x), with_reg)
