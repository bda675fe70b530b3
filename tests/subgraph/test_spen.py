"""SPEN: ego networks, the equivariant basis, size-bucketed weights, permutation equivariance of the network."""

from __future__ import annotations

import pytest
import torch

from graphbench.subgraph.spen import SPEN, _basis_1_to_2, _basis_2_to_1, _basis_2_to_2, ego_subgraphs
from tests.helpers import relabelled_random_graph


def undirected(edges):
    src = [a for a, b in edges] + [b for a, b in edges]
    dst = [b for a, b in edges] + [a for a, b in edges]
    return torch.tensor(src, dtype=torch.int64), torch.tensor(dst, dtype=torch.int64)


def test_ego_subgraphs_of_a_path():
    ego = ego_subgraphs(4, *undirected([(0, 1), (1, 2), (2, 3)]), hops=1)
    assert {s: g.tolist() for s, g in ego.groups.items()} == {2: [[0, 1], [2, 3]], 3: [[0, 1, 2], [1, 2, 3]]}
    pairs = [tuple(p) for p in ego.pairs.tolist()]
    assert [pairs[i] for i in ego.pair_index[2][0].reshape(-1).tolist()] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert (0, 3) not in pairs and (0, 2) in pairs


def test_open_neighbourhoods_leave_the_centre_out_and_a_node_without_neighbours_has_no_subgraph():
    """centre=False (the LPEGN code's label-free subgraphs): node i's subgraph is the nodes within ``hops`` but not
    i itself; on a path 0-1-2-3 beside an isolated node 4 (edges listed out of order), node 4 has no subgraph."""
    edges = undirected([(2, 3), (1, 0), (1, 2)])

    def rows(ego):
        return sorted(tuple(r) for g in ego.groups.values() for r in g.tolist())

    one = ego_subgraphs(5, *edges, hops=1, centre=False)
    assert rows(one) == [(0, 2), (1,), (1, 3), (2,)]  # nodes 1, 0, 2, 3; none for 4
    assert 0 not in one.groups and sorted(one.groups) == [1, 2]
    assert rows(ego_subgraphs(5, *edges, hops=2, centre=False)) == [(0, 1, 3), (0, 2, 3), (1, 2), (1, 2)]
    assert rows(ego_subgraphs(5, *edges, hops=1)) == [(0, 1), (0, 1, 2), (1, 2, 3), (2, 3), (4,)]


@pytest.mark.parametrize("hops", [0, 1, 2, 3])
def test_ego_subgraphs_are_the_directed_bfs_balls(hops):
    """Each node's ego network is exactly the nodes within ``hops`` along src → dst (networkx BFS), on a directed
    random graph, so direction and radius both matter."""
    import networkx as nx

    gen = torch.Generator().manual_seed(hops)
    n = 30
    src, dst = torch.randint(0, n, (60,), generator=gen), torch.randint(0, n, (60,), generator=gen)
    keep = src != dst
    src, dst = src[keep], dst[keep]
    ego = ego_subgraphs(n, src, dst, hops=hops)
    g = nx.DiGraph(list(zip(src.tolist(), dst.tolist(), strict=True)))
    g.add_nodes_from(range(n))
    got = {}
    for size, rows in ego.groups.items():
        for row in rows.tolist():
            assert len(row) == size and row == sorted(row)
            got.setdefault(tuple(row), 0)
            got[tuple(row)] += 1
    want = {}
    for v in range(n):
        ball = tuple(sorted(nx.single_source_shortest_path_length(g, v, cutoff=hops)))
        want[ball] = want.get(ball, 0) + 1
    assert got == want


def test_ego_subgraphs_of_a_large_batch_never_build_n_by_n():
    """The expressiveness protocol batches thousands of relabelled copies: 100k nodes as 10k disjoint 10-cycles.
    A dense n × n distance matrix (80 GB) cannot be built; the sparse balls take a fraction of a second."""
    k, m = 10_000, 10
    base = torch.arange(k * m).view(k, m)
    src = base.reshape(-1)
    dst = base.roll(-1, dims=1).reshape(-1)
    ego = ego_subgraphs(k * m, *undirected(list(zip(src.tolist(), dst.tolist(), strict=True))), hops=2,
                        node_graph=torch.arange(k).repeat_interleave(m))
    assert list(ego.groups) == [5] and ego.groups[5].shape == (k * m, 5) and ego.num_graphs == k
    # (a, b) lie in a common ball of 5 consecutive nodes when their cyclic distance is at most 4: all but 1 of 10
    assert len(ego.pairs) == k * m * 9
    assert set(ego.groups[5][0].tolist()) == {0, 1, 2, 8, 9}


def test_basis_is_equivariant_and_independent():
    torch.manual_seed(0)
    x2, x1 = torch.randn(2, 5, 5, 3, dtype=torch.float64), torch.randn(2, 5, 3, dtype=torch.float64)
    p = torch.randperm(5)
    x2p, x1p = x2[:, p][:, :, p], x1[:, p]
    assert torch.allclose(_basis_2_to_2(x2)[:, p][:, :, p], _basis_2_to_2(x2p))
    assert torch.allclose(_basis_2_to_1(x2)[:, p], _basis_2_to_1(x2p))
    assert torch.allclose(_basis_1_to_2(x1)[:, p][:, :, p], _basis_1_to_2(x1p))
    # the 15 maps are linearly independent (Maron et al.: dim of the 2→2 space is 15 = bell(4))
    basis = _basis_2_to_2(torch.randn(40, 5, 5, 1, dtype=torch.float64))[..., 0]     # [40, 5, 5, 15]
    assert torch.linalg.matrix_rank(basis.permute(3, 0, 1, 2).reshape(15, -1)) == 15


@pytest.mark.parametrize("hops", [1, 2])
def test_spen_permutation_equivariant_nodes_and_invariant_output(hops):
    torch.manual_seed(0)
    edges, perm, x, xp, edges_p, ef = relabelled_random_graph(9, 0.3, seed=4)  # ef: edge order unchanged
    model = SPEN(2, 3, width=6, layers=2, edge_dim=1, size_buckets=(2, 3, 4)).double().eval()
    s, d = undirected(edges)
    sp, dp = undirected(edges_p)
    ego, egop = ego_subgraphs(9, s, d, hops=hops), ego_subgraphs(9, sp, dp, hops=hops)
    h, hp = model.node_states(x, ego, s, d, ef), model.node_states(xp, egop, sp, dp, ef)
    assert torch.allclose(h, hp[perm], atol=1e-10) and h.std() > 1e-3
    assert torch.allclose(model(x, ego, s, d, ef), model(xp, egop, sp, dp, ef), atol=1e-10)


def test_weights_are_bucketed_by_subgraph_size():
    torch.manual_seed(0)
    s, d = undirected([(0, 1), (1, 2), (2, 3)])                    # ego sizes 2, 3, 3, 2
    ego = ego_subgraphs(4, s, d, hops=1)
    x = torch.randn(4, 1, dtype=torch.float64)
    model = SPEN(1, 1, width=4, layers=1, size_buckets=(2, 3)).double().eval()
    assert [model.bucket(n) for n in (1, 2, 3, 4, 10)] == [0, 0, 1, 2, 2]
    before = model(x, ego, s, d)
    with torch.no_grad():
        model.layers[0].w22[2].add_(1.0)                            # bucket of sizes > 3: unused here
    assert torch.allclose(before, model(x, ego, s, d))
    with torch.no_grad():
        model.layers[0].w22[1].add_(1.0)                            # size-3 bucket: used
    assert not torch.allclose(before, model(x, ego, s, d))


def test_separates_two_triangles_from_hexagon():
    tri = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)]
    hexagon = [(i, (i + 1) % 6) for i in range(6)]
    torch.manual_seed(0)
    model = SPEN(1, 2, width=8, layers=2).double().eval()
    x = torch.ones(6, 1, dtype=torch.float64)
    outs = [model(x, ego_subgraphs(6, *undirected(e), hops=1), *undirected(e)) for e in (tri, hexagon)]
    assert (outs[0] - outs[1]).abs().max() > 1e-6
