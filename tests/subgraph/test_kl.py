"""(k, 1)-GNN: tuple sampling (rate, distance filter), invariance, separation beyond 1-WL, test-time ensembling."""

from __future__ import annotations

import math

import networkx as nx
import pytest
import torch

from graphbench.subgraph.kl import KLGNN, kl_batch, sample_tuples
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
    assert len(half) == 10 and len({tuple(t) for t in half.tolist()}) == 10
    assert set(map(tuple, half.tolist())) <= set(map(tuple, full.tolist()))
    again = sample_tuples(6, src, dst, 3, rate=0.5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(half, again)
    assert len(sample_tuples(6, src, dst, 2, rate=0.01)) == 1                # at least one subset
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


def test_batching_and_ensembling():
    torch.manual_seed(0)
    graphs = [(5, [(0, 1), (1, 2), (2, 3), (3, 4)]), (4, [(0, 1), (1, 2), (2, 0), (2, 3)])]
    model = KLGNN(1, 2, k=2, hidden=8, layers=2).double().eval()
    x = torch.ones(9, 1, dtype=torch.float64)
    both = model(x, lift(graphs, 2))
    assert torch.allclose(both[1], model(x[:4], lift(graphs[1:], 2))[0], atol=1e-12)

    def sampler(rate):
        return lambda gen: kl_batch([(n, *undirected(e)) for n, e in graphs],
                                    [sample_tuples(n, *undirected(e), 2, rate=rate, generator=gen)
                                     for n, e in graphs])

    full = model.ensemble(x, sampler(1.0), times=3)
    assert torch.allclose(full, both, atol=1e-12)             # every sample is the full set
    sub = torch.stack([model(x, sampler(0.3)(torch.Generator().manual_seed(s))) for s in range(3)])
    ens = model.ensemble(x, sampler(0.3), times=5, reduce="mean", seed=1)
    assert not torch.allclose(sub[0], sub[1]) or not torch.allclose(sub[1], sub[2])   # samples differ
    assert ens.shape == both.shape
    with pytest.raises(ValueError, match="reduce"):
        model.ensemble(x, sampler(1.0), reduce="mode")
