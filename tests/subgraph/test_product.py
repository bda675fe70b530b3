"""The product graph of small graphs matches hand-built index sets for every atomic aggregation."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.subgraph.product import (
    ATOMIC_AGGREGATIONS,
    batch_product_graphs,
    build_product_graph,
    clamp_distances,
    shortest_path_distances,
)


def undirected(edges):
    src = [a for a, b in edges] + [b for a, b in edges]
    dst = [b for a, b in edges] + [a for a, b in edges]
    return torch.tensor(src), torch.tensor(dst)


def as_set(index: torch.Tensor) -> set[tuple[int, int]]:
    return {(int(s), int(d)) for s, d in index.t()}


def test_single_edge_literal_index_sets():
    # n = 2, edge 0-1; pair ids (0,0)=0, (0,1)=1, (1,0)=2, (1,1)=3. Entries are (src pair, dst pair).
    src, dst = undirected([(0, 1)])
    pg = build_product_graph(2, src, dst, policy="marking")
    assert pg.pairs.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    expected = {
        "uL": {(0, 1), (1, 0), (2, 3), (3, 2)},          # inside subgraph u: (u,w) -> (u,v), w ~ v
        "vL": {(0, 2), (2, 0), (1, 3), (3, 1)},          # across subgraphs: (w,v) -> (u,v), w ~ u
        "uG": {(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3)},
        "vG": {(0, 0), (2, 0), (0, 2), (2, 2), (1, 1), (3, 1), (1, 3), (3, 3)},
        "uu": {(0, 0), (0, 1), (3, 2), (3, 3)},
        "vv": {(0, 0), (3, 1), (0, 2), (3, 3)},
        "vu": {(0, 0), (2, 1), (1, 2), (3, 3)},
        "uv": {(0, 0), (1, 1), (2, 2), (3, 3)},
    }
    for agg in ATOMIC_AGGREGATIONS:
        assert as_set(pg.edges[agg]) == expected[agg], agg
    assert pg.label.tolist() == [1, 0, 0, 1]
    # local aggregations carry the id of the input edge they follow: edge 0 is 0->1, edge 1 is 1->0
    ul = dict(zip(map(tuple, pg.edges["uL"].t().tolist()), pg.edge_ids["uL"].tolist()))
    assert ul[(0, 1)] == 0 and ul[(1, 0)] == 1 and ul[(2, 3)] == 0
    vl = dict(zip(map(tuple, pg.edges["vL"].t().tolist()), pg.edge_ids["vL"].tolist()))
    assert vl[(0, 2)] == 0 and vl[(2, 0)] == 1


def test_path_with_one_hop_ego_subgraphs_literal():
    # path 0-1-2, hops = 1: G^0 = {0,1}, G^1 = {0,1,2}, G^2 = {1,2}; pairs in row-major order
    src, dst = undirected([(0, 1), (1, 2)])
    pg = build_product_graph(3, src, dst, policy="distance", hops=1)
    pairs = [tuple(p) for p in pg.pairs.tolist()]
    assert pairs == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 1), (2, 2)]
    pid = {p: i for i, p in enumerate(pairs)}
    ul = {(pid[(0, 0)], pid[(0, 1)]), (pid[(0, 1)], pid[(0, 0)]),
          (pid[(1, 0)], pid[(1, 1)]), (pid[(1, 1)], pid[(1, 0)]), (pid[(1, 1)], pid[(1, 2)]),
          (pid[(1, 2)], pid[(1, 1)]), (pid[(2, 1)], pid[(2, 2)]), (pid[(2, 2)], pid[(2, 1)])}
    assert as_set(pg.edges["uL"]) == ul
    # vL into (u,v) from (w,v), w ~ u, both pairs existing: e.g. (1,2) <- (2,2) only ((0,2) does not exist)
    vl = {(pid[(w, v)], pid[(u, v)]) for (u, v) in pairs for w in range(3)
          if abs(w - u) == 1 and (w, v) in pid}
    assert as_set(pg.edges["vL"]) == vl
    assert (pid[(2, 2)], pid[(1, 2)]) in vl and len(vl) == 8
    assert pg.label.tolist() == [0, 1, 1, 0, 1, 1, 0]
    assert as_set(pg.edges["vu"]) == {(pid[(v, u)], pid[(u, v)]) for (u, v) in pairs}


def brute_force(n, edges_directed, member):
    pairs = [(u, v) for u in range(n) for v in range(n) if member[u][v]]
    pid = {p: i for i, p in enumerate(pairs)}
    nbr_in = {x: [w for (w, y) in edges_directed if y == x] for x in range(n)}
    out = {a: set() for a in ATOMIC_AGGREGATIONS}
    for (u, v) in pairs:
        d = pid[(u, v)]
        out["uL"] |= {(pid[(u, w)], d) for w in nbr_in[v] if (u, w) in pid}
        out["vL"] |= {(pid[(w, v)], d) for w in nbr_in[u] if (w, v) in pid}
        out["uG"] |= {(pid[(u, w)], d) for w in range(n) if (u, w) in pid}
        out["vG"] |= {(pid[(w, v)], d) for w in range(n) if (w, v) in pid}
        out["uu"].add((pid[(u, u)], d))
        out["vv"].add((pid[(v, v)], d))
        if (v, u) in pid:
            out["vu"].add((pid[(v, u)], d))
        out["uv"].add((d, d))
    return pairs, out


@pytest.mark.parametrize("hops", [None, 1, 2])
def test_random_graph_matches_definition(hops):
    g = nx.gnp_random_graph(9, 0.3, seed=3)
    g.add_edge(7, 8)
    edges = list(g.edges())
    src, dst = undirected(edges)
    directed = list(zip(src.tolist(), dst.tolist()))
    sp = dict(nx.all_pairs_shortest_path_length(g))
    member = [[hops is None or sp[u].get(v, 10**9) <= hops for v in range(9)] for u in range(9)]
    pairs, expected = brute_force(9, directed, member)
    pg = build_product_graph(9, src, dst, policy="distance", hops=hops, max_dist=3)
    assert [tuple(p) for p in pg.pairs.tolist()] == pairs
    for agg in ATOMIC_AGGREGATIONS:
        assert as_set(pg.edges[agg]) == expected[agg], agg
        assert pg.edges[agg].shape[1] == len(expected[agg])           # no duplicate entries
    labels = [min(sp[u].get(v, 3), 3) for (u, v) in pairs]
    assert pg.label.tolist() == labels
    if hops is None:
        n, e = 9, len(directed)
        assert pg.num_typed_edges() == {"uL": n * e, "vL": n * e, "uG": n ** 3, "vG": n ** 3, "uu": n * n,
                                        "vv": n * n, "vu": n * n, "uv": n * n}


def test_unreachable_distance_is_clamped_before_cast():
    src, dst = undirected([(0, 1)])                                 # node 2 isolated
    dist = shortest_path_distances(3, src, dst)
    assert torch.isinf(dist[0, 2]) and dist.dtype == torch.float64
    assert clamp_distances(dist, 5).tolist() == [[0, 1, 5], [1, 0, 5], [5, 5, 0]]
    assert clamp_distances(dist, 5, unreachable=6)[2, 0] == 6
    pg = build_product_graph(3, src, dst, policy="distance", max_dist=5, unreachable=6)
    assert int(pg.label.max()) == 6 and int(pg.label.min()) == 0 and pg.num_labels == 7
    # a far-but-reachable pair is clamped at max_dist
    src, dst = undirected([(i, i + 1) for i in range(9)])
    assert int(build_product_graph(10, src, dst, max_dist=4).label.max()) == 4


def test_ego_subgraphs_wider_than_the_graph_are_the_full_product_graph():
    import dgl

    from graphbench.subgraph.product import product_graph_of

    src, dst = undirected([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)])
    full, wide = product_graph_of(dgl.graph((src, dst), num_nodes=4)), build_product_graph(4, src, dst, hops=2)
    assert torch.equal(full.pairs, wide.pairs) and torch.equal(full.label, wide.label)
    for agg in ATOMIC_AGGREGATIONS:
        assert torch.equal(full.edges[agg], wide.edges[agg]), agg
    narrow = build_product_graph(4, src, dst, hops=1)
    assert narrow.num_pairs == 16 - 2                                  # only 1 and 3 are 2 hops apart


def test_batching_offsets():
    a = build_product_graph(2, *undirected([(0, 1)]), policy="marking")
    b = build_product_graph(3, *undirected([(0, 1), (1, 2)]), policy="marking")
    batch = batch_product_graphs([a, b])
    assert batch.num_pairs == 4 + 9 and batch.num_nodes == 5 and batch.num_graphs == 2
    assert batch.node[4:].tolist() == [2 + v for u, v in itertools.product(range(3), range(3))]
    assert batch.root[4:].tolist() == [2 + u for u, v in itertools.product(range(3), range(3))]
    assert torch.equal(batch.edges["uL"][:, a.edges["uL"].shape[1]:], b.edges["uL"] + 4)
    assert torch.equal(batch.edge_ids["uL"][a.edges["uL"].shape[1]:], b.edge_ids["uL"] + 2)
    assert batch.pair_graph.tolist() == [0] * 4 + [1] * 9


def test_bad_input_errors():
    with pytest.raises(ValueError, match="unknown generation policy"):
        build_product_graph(2, *undirected([(0, 1)]), policy="walks")
    with pytest.raises(ValueError, match="unknown atomic aggregation"):
        build_product_graph(2, *undirected([(0, 1)]), aggregations=("uX",))


def test_extras_batched_by_their_declared_rules_give_the_same_batch():
    """Emulates the transform interface's collation (node / edge / extra-graph offsets) on ``to_extras``."""
    import dgl

    from graphbench.subgraph.product import extra_specs, from_extras, to_extras

    graphs = [(2, *undirected([(0, 1)])), (4, *undirected([(0, 1), (1, 2), (2, 3)])), (3, *undirected([(0, 2)]))]
    products = [build_product_graph(n, s, d, hops=2) for n, s, d in graphs]
    per_graph = [to_extras(p) for p in products]
    specs = extra_specs(ATOMIC_AGGREGATIONS)
    assert set(specs) == set(per_graph[0])
    batched = {"sswl_pairs": dgl.batch([e["sswl_pairs"] for e in per_graph])}
    node_counts, edge_counts = [n for n, _, _ in graphs], [len(s) for _, s, _ in graphs]
    pair_counts = [p.num_pairs for p in products]
    for key, (index, dim, of) in specs.items():
        if index == "graph":
            continue
        counts = pair_counts if of == "sswl_pairs" else node_counts if index == "nodes" else edge_counts
        offsets = [sum(counts[:i]) for i in range(len(counts))]
        batched[key] = torch.cat([e[key] + off for e, off in zip(per_graph, offsets)], dim)
    got = from_extras(batched, num_nodes=sum(node_counts), num_graphs=3)
    ref = batch_product_graphs(products)
    for name in ("node", "root", "label", "pair_graph"):
        assert torch.equal(getattr(got, name), getattr(ref, name)), name
    for agg in ATOMIC_AGGREGATIONS:
        assert torch.equal(got.edges[agg], ref.edges[agg]), agg
    for agg in ("uL", "vL"):
        assert torch.equal(got.edge_ids[agg], ref.edge_ids[agg]), agg


@pytest.mark.parametrize("policy", ["distance", "marking"])
def test_full_product_graph_is_the_masked_construction_tensor_for_tensor(policy):
    """The closed-form full-subgraph construction gives exactly the tensors (values and order) of the masked
    construction with every node in every subgraph: on a disconnected graph with unsorted, duplicated and
    self-loop edges, so an index set built in another order, or a label of an unreachable pair, would differ."""
    from graphbench.subgraph.product import _full_product_graph, _masked_product_graph

    src = torch.tensor([5, 0, 2, 1, 3, 3, 0, 6, 2, 4, 1, 2])
    dst = torch.tensor([3, 1, 1, 0, 5, 4, 1, 6, 4, 3, 2, 0])          # 0→1 twice, a self-loop at 6, node 7 isolated
    n = 8
    dist = shortest_path_distances(n, src, dst)
    full = _full_product_graph(n, src, dst, dist, policy, 3, None, ATOMIC_AGGREGATIONS)
    masked = _masked_product_graph(n, src, dst, dist, torch.ones(n, n, dtype=torch.bool), policy, 3, None,
                                   ATOMIC_AGGREGATIONS)
    assert torch.equal(full.pairs, masked.pairs) and torch.equal(full.label, masked.label)
    assert full.num_labels == masked.num_labels
    for agg in ATOMIC_AGGREGATIONS:
        assert torch.equal(full.edges[agg], masked.edges[agg]), agg
    for agg in ("uL", "vL"):
        assert torch.equal(full.edge_ids[agg], masked.edge_ids[agg]), agg
    assert torch.equal(build_product_graph(n, src, dst, policy=policy, max_dist=3).edges["uL"], full.edges["uL"])


def test_dense_bfs_distances_equal_scipy():
    """The dense all-sources BFS used for small graphs gives scipy's exact distances (directed edges, unreachable
    pairs infinite), and graphs above the threshold still go through scipy."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    import graphbench.subgraph.product as product

    gen = torch.Generator().manual_seed(0)
    for n, m in ((1, 0), (9, 14), (40, 60), (product.DENSE_BFS_NODES + 5, 300)):
        src, dst = torch.randint(0, n, (m,), generator=gen), torch.randint(0, n, (m,), generator=gen)
        adj = csr_matrix((np.ones(m), (src.numpy(), dst.numpy())), shape=(n, n))
        expected = shortest_path(adj, method="D", directed=True, unweighted=True)
        got = shortest_path_distances(n, src, dst).numpy()
        assert np.array_equal(got, expected), n
    assert np.isinf(product._dense_bfs(3, np.array([0]), np.array([1]))[1, 0])      # directed: 1 cannot reach 0
