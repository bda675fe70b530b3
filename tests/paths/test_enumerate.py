"""Path enumeration (PathNN SP / SP+ / AP) against brute force, node-order independence, conventions, cap."""

from __future__ import annotations

import itertools

import dgl
import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.paths import PathLimitError, enumerate_many, enumerate_paths, graph_paths


def _edges(g: nx.Graph):
    e = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return np.concatenate([e[:, 0], e[:, 1]]), np.concatenate([e[:, 1], e[:, 0]])


def _brute(g: nx.Graph, kind: str, cutoff: int) -> dict[int, set[tuple]]:
    """Anchor-last path sets by brute force: every node sequence of ≤ cutoff nodes, checked edge by edge."""
    out = {length: set() for length in range(1, cutoff)}
    dist = dict(nx.all_pairs_shortest_path_length(g))
    for length in range(1, cutoff):
        for seq in itertools.permutations(g.nodes(), length + 1):
            if not all(g.has_edge(a, b) for a, b in zip(seq, seq[1:])):
                continue
            if kind == "ap" or dist[seq[0]].get(seq[-1]) == length:
                out[length].add(seq)
    if kind == "sp":  # one per unordered pair: lexicographically smallest from the smaller end, both directions
        sp = {length: set() for length in out}
        for length, paths in out.items():
            best = {}
            for p in paths:
                if p[0] < p[-1] and (p[0], p[-1]) not in best or (p[0] < p[-1] and p < best[(p[0], p[-1])]):
                    best[(p[0], p[-1])] = p
            for p in best.values():
                sp[length] |= {p, p[::-1]}
        out = sp
    return out


def _as_sets(ps) -> dict[int, set[tuple]]:
    return {length: {tuple(r) for r in p.tolist()} for length, p in ps.paths.items()}


def _small_graphs():
    rng = np.random.default_rng(0)
    graphs = [nx.cycle_graph(5), nx.cycle_graph(6), nx.complete_graph(5), nx.path_graph(6), nx.star_graph(4),
              nx.balanced_tree(2, 2), nx.petersen_graph(), nx.grid_2d_graph(2, 3), nx.complete_bipartite_graph(2, 3)]
    atlas = [g for g in nx.graph_atlas_g()[1:] if g.number_of_nodes() >= 2 and nx.is_connected(g)]
    graphs += [atlas[i] for i in rng.choice(len(atlas), 40, replace=False)]
    graphs.append(nx.disjoint_union(nx.cycle_graph(4), nx.path_graph(3)))  # disconnected
    return [nx.convert_node_labels_to_integers(g) for g in graphs]


@pytest.mark.parametrize("kind", ["sp", "sp+", "ap"])
def test_equals_brute_force_on_small_graphs(kind):
    for g in _small_graphs():
        cutoff = 5 if g.number_of_nodes() <= 8 else 4
        src, dst = _edges(g)
        ps = enumerate_paths(src, dst, g.number_of_nodes(), kind, cutoff)
        expected = _brute(g, kind, cutoff)
        got = _as_sets(ps)
        assert got == expected, (kind, list(g.edges()))
        for length, p in ps.paths.items():  # no duplicates
            assert len(p) == len(expected[length])


def test_ap_equals_networkx_all_simple_paths_on_bigger_graphs():
    for seed in range(3):
        g = nx.gnm_random_graph(14, 24, seed=seed)
        src, dst = _edges(g)
        ps = enumerate_paths(src, dst, 14, "ap", 5)
        expected = {length: set() for length in range(1, 5)}
        for s in g.nodes():
            for t in g.nodes():
                if s != t:
                    for p in nx.all_simple_paths(g, s, t, cutoff=4):
                        expected[len(p) - 1].add(tuple(reversed(p)))  # anchor = start, stored last
        assert _as_sets(ps) == expected


@pytest.mark.parametrize("kind", ["sp+", "ap"])
def test_sets_do_not_depend_on_node_order(kind):
    rng = np.random.default_rng(1)
    for g in [nx.petersen_graph(), nx.gnm_random_graph(12, 20, seed=3), nx.grid_2d_graph(3, 3)]:
        g = nx.convert_node_labels_to_integers(g)
        n = g.number_of_nodes()
        perm = rng.permutation(n)  # new label of old node i
        h = nx.relabel_nodes(g, {i: int(perm[i]) for i in range(n)})
        a = enumerate_paths(*_edges(g), n, kind, 4)
        b = enumerate_paths(*_edges(h), n, kind, 4)
        inv = np.argsort(perm)
        mapped = {length: {tuple(inv[list(r)]) for r in p.tolist()} for length, p in b.paths.items()}
        assert mapped == _as_sets(a)


def test_sp_depends_on_node_order_only_through_the_choice_of_path():
    """SP keeps exactly one path per ordered pair at distance 1..K-1, whatever the labels."""
    g = nx.cycle_graph(6)  # opposite nodes have two shortest paths
    ps = enumerate_paths(*_edges(g), 6, "sp", 4)
    assert ps.counts() == {1: 12, 2: 12, 3: 6}
    assert (2, 1, 0, 3) not in _as_sets(ps)[3] and (3, 2, 1, 0) in _as_sets(ps)[3]  # 0-1-2-3 < 0-5-4-3


def test_conventions_anchor_distances_edge_ids():
    # a triangle 0-1-2 with a tail 2-3; directed edge list with ids
    src = torch.tensor([0, 1, 1, 2, 2, 0, 2, 3])
    dst = torch.tensor([1, 0, 2, 1, 0, 2, 3, 2])
    ps = enumerate_paths(src, dst, 4, "ap", 4)
    rows = ps.paths[3].tolist()
    assert [3, 2, 1, 0] in rows  # the path starting at anchor 0 going 0-1-2-3 is stored reversed
    i = rows.index([3, 2, 1, 0])
    assert ps.dists[3][i].tolist() == [2, 1, 1, 0]  # d(3,0)=2, d(2,0)=1, d(1,0)=1, d(0,0)=0
    assert ps.edge_ids[3][i].tolist() == [7, 3, 1]  # edges 3→2, 2→1, 1→0
    assert all(p[-1] == a for p, a in zip(ps.paths[1].tolist(), ps.paths[1][:, -1].tolist()))
    sp = enumerate_paths(src, dst, 4, "sp+", 4)
    assert torch.equal(sp.dists[2], torch.tensor([[2, 1, 0]]).expand(len(sp.paths[2]), 3))
    # only one direction listed: the id of the listed edge is used for both directions
    one = enumerate_paths(torch.tensor([0]), torch.tensor([1]), 2, "ap", 2)
    assert one.paths[1].tolist() == [[1, 0], [0, 1]] and one.edge_ids[1].tolist() == [[0], [0]]


def test_self_loops_and_multi_edges_are_ignored():
    g = nx.path_graph(4)
    src, dst = _edges(g)
    noisy = enumerate_paths(np.concatenate([src, [0, 1, 1]]), np.concatenate([dst, [0, 2, 1]]), 4, "ap", 4)
    assert _as_sets(noisy) == _as_sets(enumerate_paths(src, dst, 4, "ap", 4))


def test_cap_raises_clear_error():
    g = nx.complete_graph(8)
    src, dst = _edges(g)
    with pytest.raises(PathLimitError, match=r"8 nodes .* more than 100 AP paths at cutoff K=4.*lower the cutoff"):
        enumerate_paths(src, dst, 8, "ap", 4, max_paths=100)
    assert enumerate_paths(src, dst, 8, "ap", 4, max_paths=None).total() == 8 * 7 + 8 * 7 * 6 + 8 * 7 * 6 * 5
    gs = [dgl.graph((torch.tensor([0]), torch.tensor([1]))), dgl.from_networkx(g)]
    with pytest.raises(PathLimitError, match="graph 1: "):
        enumerate_many(gs, "ap", 4, max_paths=100)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown path kind"):
        enumerate_paths([0], [1], 2, "walks", 3)
    with pytest.raises(ValueError, match="cutoff"):
        enumerate_paths([0], [1], 2, "ap", 1)


@pytest.mark.parametrize("kind", ["sp", "sp+", "ap"])
def test_many_equals_one_by_one(kind):
    gs = [dgl.from_networkx(nx.gnm_random_graph(n, m, seed=n)) for n, m in [(7, 9), (1, 0), (10, 15), (5, 10)]]
    together = enumerate_many(gs, kind, 5, group_nodes=12)
    for g, ps in zip(gs, together):
        single = graph_paths(g, kind, 5)
        assert ps.num_nodes == g.num_nodes()
        for length in single.paths:
            assert torch.equal(ps.paths[length], single.paths[length])
            assert torch.equal(ps.dists[length], single.dists[length])
            assert torch.equal(ps.edge_ids[length], single.edge_ids[length])
