"""(k, 1)-GNN: tuple sampling (rate, distance filter, empty-filter fallback), invariance, separation beyond 1-WL, the
per-tuple readout, the parallel network, and evaluation independent of the batch and of the node numbering."""

from __future__ import annotations

import math

import networkx as nx
import pytest
import torch

from graphbench.subgraph.kl import KLGNN, KLGNNParallel, kl_batch, sample_tuples
from tests.helpers import relabelled_random_graph


def undirected(edges):
    src = [a for a, b in edges] + [b for a, b in edges]
    dst = [b for a, b in edges] + [a for a, b in edges]
    return torch.tensor(src, dtype=torch.int64), torch.tensor(dst, dtype=torch.int64)


def test_all_subsets_distance_filter_and_rate():
    g = nx.path_graph(6)
    src, dst = undirected(list(g.edges()))
    full = sample_tuples(6, src, dst, 3)
    assert full.shape == (math.comb(6, 3), 3) and bool((full[:, :-1] < full[:, 1:]).all())
    near = sample_tuples(6, src, dst, 3, max_dist=2)
    # on a path, a 3-subset has all pairwise distances <= 2 iff it is three consecutive nodes
    assert near.tolist() == [[i, i + 1, i + 2] for i in range(4)]
    gen = torch.Generator().manual_seed(0)
    half = sample_tuples(6, src, dst, 3, rate=0.5, generator=gen)
    # the code's count: int(rate · T) + 1 = 11 of T = 20
    assert len(half) == 11 and len({tuple(t) for t in half.tolist()}) == 11
    assert set(map(tuple, half.tolist())) <= set(map(tuple, full.tolist()))
    again = sample_tuples(6, src, dst, 3, rate=0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(half, again)
    assert len(sample_tuples(6, src, dst, 2, rate=0.01)) == 1                # int(0.15) + 1
    small = sample_tuples(2, *undirected([(0, 1)]), 3)                       # fewer nodes than k: padded
    assert small.tolist() == [[0, 1, -1]]
    with pytest.raises(ValueError, match="rate"):
        sample_tuples(6, src, dst, 2, rate=0.0)


def lift(graphs, k, **kw):
    tuples = [sample_tuples(n, *undirected(e), k, **kw) for n, e in graphs]
    return kl_batch([(n, *undirected(e)) for n, e in graphs], tuples)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_separates_two_triangles_from_hexagon(k):
    tri = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)]
    hexagon = [(i, (i + 1) % 6) for i in range(6)]
    x = torch.ones(6, 1, dtype=torch.float64)
    torch.manual_seed(k)
    model = KLGNN(1, 3, k=k, hidden=16, layers=3).double().eval()
    out_t, out_h = model(x, lift([(6, tri)], k)), model(x, lift([(6, hexagon)], k))
    assert (out_t - out_h).abs().max() > 1e-6


@pytest.mark.parametrize("k", [2, 3])
def test_invariant_to_node_permutation_and_tuple_order(k):
    torch.manual_seed(0)
    edges, perm, x, xp, edges_p, ef = relabelled_random_graph(7, 0.4, seed=2)  # ef: edge order unchanged
    model = KLGNN(2, 2, k=k, hidden=8, layers=2, edge_dim=1).double().eval()
    out = model(x, lift([(7, edges)], k), ef)
    assert torch.allclose(out, model(xp, lift([(7, edges_p)], k), ef), atol=1e-10)
    assert not torch.allclose(out, model(x, lift([(7, edges)], k), ef.flip(0)), atol=1e-6)   # features matter
    inp = lift([(7, edges)], k)
    inp.tuples = inp.tuples.flip(1)                  # reversed tuple columns: same set of orderings
    assert torch.allclose(out, model(x, inp, ef), atol=1e-10)


def test_empty_filter_gives_one_empty_tuple_not_nodes_0_to_k_minus_1():
    """A 6-cycle has no three nodes within distance 1 of each other: the graph gets one empty tuple (no node
    individualised), so its output is the same under every relabelling; the old code marked nodes 0, 1, 2."""
    cycle = [(i, (i + 1) % 6) for i in range(6)]
    assert sample_tuples(6, *undirected(cycle), 3, max_dist=1).tolist() == [[-1, -1, -1]]
    torch.manual_seed(0)
    x = torch.randn(6, 2, dtype=torch.float64)
    perm = torch.tensor([3, 0, 4, 1, 5, 2])
    xp = torch.empty_like(x)
    xp[perm] = x
    cycle_p = [(int(perm[a]), int(perm[b])) for a, b in cycle]
    for model in (KLGNN(2, 2, k=3, hidden=8, layers=2), KLGNNParallel(2, 2, k=3, hidden=8, graph_layers=2)):
        model = model.double().eval()
        out = model(x, lift([(6, cycle)], 3, max_dist=1))
        assert torch.allclose(out, model(xp, lift([(6, cycle_p)], 3, max_dist=1)), atol=1e-10)


def test_batching_matches_one_graph_at_a_time():
    torch.manual_seed(0)
    graphs = [(5, [(0, 1), (1, 2), (2, 3), (3, 4)]), (4, [(0, 1), (1, 2), (2, 0), (2, 3)])]
    for model in (KLGNN(1, 2, k=2, hidden=8, layers=2), KLGNNParallel(1, 2, k=2, hidden=8, graph_layers=2)):
        model = model.double().eval()
        x = torch.ones(9, 1, dtype=torch.float64)
        both = model(x, lift(graphs, 2))
        assert torch.allclose(both[1], model(x[:4], lift(graphs[1:], 2))[0], atol=1e-12)
        assert torch.allclose(both, model(x, lift(graphs, 2), chunk_copies=7), atol=1e-12)   # chunked evaluation


def test_per_tuple_readout_is_applied_before_pooling_over_tuples():
    """The (k, l)-WL colour is a multiset of per-tuple colours: each tuple's node sum goes through Linear → ReLU
    before the tuples are pooled. Constructed check: two graphs whose tuple node sums have the same mean but another
    spread are told apart by mean pooling only through that nonlinearity."""
    torch.manual_seed(0)
    model = KLGNN(1, 1, k=1, hidden=4, layers=1, subset_pool="mean").double()
    z1 = torch.tensor([[1.0, -2.0, 0.5, 3.0], [-1.0, 2.0, -0.5, -3.0]], dtype=torch.float64)   # mean 0
    z2 = torch.zeros(2, 4, dtype=torch.float64)                                                # mean 0
    pooled = [model.pool_tuples(model.tuple_readout(z), kl_batch(
        [(1, torch.zeros(0, dtype=torch.int64), torch.zeros(0, dtype=torch.int64))],
        [torch.zeros(2, 1, dtype=torch.int64)])) for z in (z1, z2)]
    assert (pooled[0] - pooled[1]).abs().max() > 1e-3
    linear = [z.mean(0) for z in (z1, z2)]               # a readout without the per-tuple map: no difference
    assert torch.allclose(linear[0], linear[1])
    # the forward pass goes through it: replacing it by the identity changes the output
    x = torch.ones(3, 1, dtype=torch.float64)
    tri = lift([(3, [(0, 1), (1, 2), (2, 0)])], 1)
    out = model(x, tri)
    model.tuple_readout = torch.nn.Identity()
    assert not torch.allclose(out, model(x, tri))


@pytest.mark.parametrize("k", [2, 3, 4])
def test_memory_guard_counts_exactly_the_tuples_the_transform_keeps(k):
    from graphbench.models.kl_gnn import count_tuples

    for seed in range(3):
        nxg = nx.gnp_random_graph(9, 0.3, seed=seed)
        src, dst = undirected(list(nxg.edges()))
        for max_dist in (1, 2, 0):
            kept = sample_tuples(9, src, dst, k, max_dist=max_dist or None)
            assert count_tuples(9, src, dst, k, max_dist) == len(kept), (seed, max_dist)
