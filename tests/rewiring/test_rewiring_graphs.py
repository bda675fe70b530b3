"""Exact behaviour of the graph rewirings (issue #13): hop rings, LASER, GTR, FoSR, measures, the result type."""

from __future__ import annotations

import itertools
import math

import dgl
import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.rewiring import (
    fosr,
    gtr,
    hop_rings,
    laser,
    shortest_path_distances,
    spectral_gap,
    total_effective_resistance,
)
from graphbench.rewiring.base import adjacency, assemble
from graphbench.rewiring.fosr import _power_step
from graphbench.rewiring.gtr import gtr_edges
from graphbench.rewiring.hops import clamped_distances
from graphbench.rewiring.laser import connectivity, laser_selections, orbit_budget


def edges(g: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    e = np.asarray(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return e[:, 0], e[:, 1]


def random_connected(n: int, p: float, seed: int) -> nx.Graph:
    for s in itertools.count(seed * 1000):
        g = nx.gnp_random_graph(n, p, seed=s)
        if nx.is_connected(g):
            return g
    raise AssertionError


def nx_dist(g: nx.Graph) -> dict[int, dict[int, int]]:
    return dict(nx.all_pairs_shortest_path_length(g))


def brute_total_resistance(adj: np.ndarray) -> float:
    lap = np.diag(adj.sum(1)) - adj.astype(float)
    n = adj.shape[0]
    return float(n * np.trace(np.linalg.pinv(lap)))


# ---------------------------------------------------------------- inputs and result type

def test_inputs_are_checked_and_skeleton_is_simple_undirected():
    with pytest.raises(ValueError, match="num_nodes"):
        adjacency((np.array([0]), np.array([1])))
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        adjacency((np.array([0]), np.array([2])), 2)
    # one direction, a self-loop and a parallel edge → one undirected edge
    a = adjacency((np.array([0, 1, 0]), np.array([1, 1, 1])), 3)
    assert a.tolist() == [[False, True, False], [True, False, False], [False, False, False]]


def test_rewiring_keeps_edge_features_and_removes_both_directions():
    g = dgl.graph((torch.tensor([0, 1, 1, 2]), torch.tensor([1, 0, 2, 1])), num_nodes=4)
    g.ndata["feat"] = torch.arange(4).float()
    g.edata["feat"] = torch.tensor([10.0, 11.0, 12.0, 13.0])
    src, dst = (t.numpy() for t in g.edges())
    r = assemble(src, dst, 4, added=[(0, 3)], added_etype=[1], removed=[(1, 2)])
    out = r.to_dgl(g, added_edge_fill=-1.0)
    pairs = sorted(zip(out.edges()[0].tolist(), out.edges()[1].tolist(), out.edata["feat"].tolist(),
                       out.edata["etype"].tolist()))
    assert pairs == [(0, 1, 10.0, 0), (0, 3, -1.0, 1), (1, 0, 11.0, 0), (3, 0, -1.0, 1)]
    assert torch.equal(out.ndata["feat"], g.ndata["feat"])
    assert r.num_added == 1 and r.num_removed == 1 and r.num_edge_types == 2


# ---------------------------------------------------------------- hop rings

@pytest.mark.parametrize("seed", range(3))
def test_hop_rings_are_exact_shortest_path_rings(seed):
    g = nx.disjoint_union(random_connected(12, 0.2, seed), nx.path_graph(5))  # two components
    n = g.number_of_nodes()
    rings = hop_rings(edges(g), 4, n)
    d = nx_dist(g)
    for k in range(1, 5):
        expected = sorted((s, t) for s in g for t, dk in d[s].items() if dk == k)
        assert sorted(zip(*(x.tolist() for x in rings[k]))) == expected
    # a walk-count 2-hop graph would contain (i, i) and the 1-hop pairs of triangles; the ring never does
    src, dst = rings[2]
    assert not np.any(src == dst)


def test_hop_rings_directed_and_unreachable():
    # directed path 0 → 1 → 2 plus an isolated node 3
    src, dst = np.array([0, 1]), np.array([1, 2])
    rings = hop_rings((src, dst), 3, 4, directed=True)
    assert list(zip(*rings[2])) == [(0, 2)]
    assert rings[3][0].size == 0
    undirected = hop_rings((src, dst), 2, 4)
    assert sorted(zip(*(x.tolist() for x in undirected[2]))) == [(0, 2), (2, 0)]
    dist = shortest_path_distances((src, dst), 4)
    assert np.isinf(dist[0, 3])
    assert clamped_distances(dist, 99)[0, 3] == 99 and clamped_distances(dist, 99)[0, 2] == 2


# ---------------------------------------------------------------- LASER

def test_orbit_budget_rounding():
    assert orbit_budget(30, 0.1) == 3  # 0.1 * 30 = 3.0000000000000004 must not round up to 4
    assert orbit_budget(3, 0.5) == 2 and orbit_budget(5, 0.5) == 3
    assert orbit_budget(4, 0.0) == 1 and orbit_budget(4, 0.0, min_additions=0) == 0
    assert orbit_budget(0, 0.5) == 0 and orbit_budget(2, 1.0) == 2


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("rho", [0.1, 0.5])
def test_laser_locality_sparsity_and_least_connected(seed, rho):
    g = random_connected(16, 0.15, seed)
    n = g.number_of_nodes()
    d = nx_dist(g)
    L = 4
    sel, radius = laser_selections(edges(g), n, num_snapshots=L, rho=rho, seed=seed)
    mu = connectivity(adjacency(edges(g), n))
    for i in range(n):
        for r in range(2, L + 1):
            orbit = [j for j, dj in d[i].items() if dj == r]
            mine = sel[(sel[:, 0] == i) & (radius == r), 1]
            assert mine.size == orbit_budget(len(orbit), rho)  # exactly the budget, never more
            assert all(d[i][int(j)] == r for j in mine)  # locality: distance exactly r
            rest = [j for j in orbit if j not in set(mine.tolist())]
            if rest and mine.size:
                assert mu[i, mine].max() <= mu[i, rest].min()  # the least connected ones
    rw = laser(edges(g), n, num_snapshots=L, rho=rho, seed=seed)
    for (u, v), t in zip(rw.added, rw.added_etype):
        assert d[int(u)][int(v)] == t  # edge type = radius
    # symmetric: every added pair in both directions, once per pair
    added = {(int(s), int(t)) for s, t, o in zip(rw.src, rw.dst, rw.orig_eid) if o < 0}
    assert added == {(int(u), int(v)) for u, v in rw.added} | {(int(v), int(u)) for u, v in rw.added}
    assert {tuple(sorted(map(int, p))) for p in sel} == {tuple(map(int, p)) for p in rw.added}
    assert set(rw.etype[rw.orig_eid >= 0].tolist()) == {1}


def test_laser_released_reading_sends_each_node_its_budget_towards_lower_ids():
    g = random_connected(14, 0.2, 7)
    n = g.number_of_nodes()
    d = nx_dist(g)
    rw = laser(edges(g), n, num_snapshots=3, rho=0.5, symmetric=False)
    new = rw.orig_eid < 0
    assert (rw.dst[new] < rw.src[new]).all()  # i → j with j < i only
    for i in range(n):
        for r in (2, 3):
            lower_orbit = sum(1 for j, dj in d[i].items() if dj == r and j < i)
            assert int(((rw.src == i) & new & (rw.etype == r)).sum()) == orbit_budget(lower_orbit, 0.5)


def test_laser_is_seeded():
    ring = nx.cycle_graph(12)  # every orbit is a tie: the seed decides
    runs = [laser(edges(ring), 12, num_snapshots=3, rho=0.5, seed=s).added.tolist() for s in range(6)]
    assert laser(edges(ring), 12, num_snapshots=3, rho=0.5, seed=3).added.tolist() == runs[3]
    assert len({str(r) for r in runs}) > 1


# ---------------------------------------------------------------- GTR

@pytest.mark.parametrize("seed", range(4))
def test_gtr_each_greedy_step_is_the_exact_best_decrease(seed):
    g = random_connected(11, 0.25, seed)
    n = g.number_of_nodes()
    pairs, gains = gtr_edges(edges(g), n, num_edges=4)
    adj = adjacency(edges(g), n)
    for (s, t), gain in zip(pairs, gains):
        before = brute_total_resistance(adj)
        best = -np.inf
        for u, v in itertools.combinations(range(n), 2):
            if not adj[u, v]:
                trial = adj.copy()
                trial[u, v] = trial[v, u] = True
                best = max(best, before - brute_total_resistance(trial))
        adj[s, t] = adj[t, s] = True
        actual = before - brute_total_resistance(adj)
        assert actual == pytest.approx(best, rel=1e-9, abs=1e-9)
        assert gain == pytest.approx(actual, rel=1e-9, abs=1e-9)  # the rank-1/rank-2 updates stayed exact
    rw = gtr(edges(g), n, num_edges=4)
    assert total_effective_resistance(rw.edge_list(), n) == pytest.approx(
        total_effective_resistance(edges(g), n) - gains.sum(), rel=1e-9)
    assert set(rw.added_etype.tolist()) == {1} and set(rw.etype[rw.orig_eid >= 0].tolist()) == {0}


def test_gtr_keeps_components_apart_and_stops_when_complete():
    g = nx.disjoint_union(nx.path_graph(5), nx.path_graph(3))
    pairs, _ = gtr_edges(edges(g), 8, num_edges=10)
    comp = {v: 0 for v in range(5)} | {v: 1 for v in range(5, 8)}
    assert all(comp[int(u)] == comp[int(v)] for u, v in pairs)
    assert len(pairs) == 7  # path5 has 6 non-edges, path3 has 1: GTR stops after 7 of the 10
    assert len(gtr_edges(edges(nx.complete_graph(4)), 4, num_edges=3)[0]) == 0


# ---------------------------------------------------------------- FoSR

GAP_GRAPHS = {
    "barbell": nx.barbell_graph(6, 3), "lollipop": nx.lollipop_graph(8, 6), "path": nx.path_graph(20),
    "tree": nx.balanced_tree(2, 4),
}


@pytest.mark.parametrize("name", sorted(GAP_GRAPHS))
@pytest.mark.parametrize("seed", range(3))
def test_fosr_raises_the_spectral_gap(name, seed):
    g = GAP_GRAPHS[name]
    n = g.number_of_nodes()
    rw = fosr(edges(g), n, num_edges=5, seed=seed)
    assert rw.num_added == 5
    assert spectral_gap(rw.edge_list(), n) > spectral_gap(edges(g), n) * 1.5
    assert not any(adjacency(edges(g), n)[u, v] or u == v for u, v in rw.added)


def test_fosr_power_iteration_finds_the_second_eigenvector():
    g = nx.barbell_graph(6, 3)
    adj = adjacency(edges(g), g.number_of_nodes()).astype(float)
    deg = adj.sum(1)
    x = 2 * np.random.default_rng(0).random(adj.shape[0]) - 1
    for _ in range(500):
        x = _power_step(x, adj, deg)
    norm_adj = adj / np.sqrt(np.outer(deg, deg))
    vecs = np.linalg.eigh(norm_adj)[1]
    assert abs(float(x @ vecs[:, -2])) > 0.999


def test_fosr_is_seeded():
    g = nx.cycle_graph(16)
    first = fosr(edges(g), 16, num_edges=4, seed=1).added.tolist()
    assert fosr(edges(g), 16, num_edges=4, seed=1).added.tolist() == first
    assert len({str(fosr(edges(g), 16, num_edges=4, seed=s).added.tolist()) for s in range(5)}) > 1


# ---------------------------------------------------------------- measures

def test_measures_match_closed_forms():
    n = 9
    assert total_effective_resistance(edges(nx.path_graph(n)), n) == pytest.approx((n**3 - n) / 6)
    assert total_effective_resistance(edges(nx.complete_graph(n)), n) == pytest.approx(n - 1)
    cycle = sum(k * (n - k) / n for k in range(1, n)) * n / 2  # R(u, v) = k(n − k)/n on C_n
    assert total_effective_resistance(edges(nx.cycle_graph(n)), n) == pytest.approx(cycle)
    assert spectral_gap(edges(nx.complete_graph(n)), n) == pytest.approx(n / (n - 1))
    assert spectral_gap(edges(nx.cycle_graph(n)), n) == pytest.approx(1 - math.cos(2 * math.pi / n))
    split = nx.disjoint_union(nx.path_graph(3), nx.path_graph(2))
    assert spectral_gap(edges(split), 5) == 0.0
    assert total_effective_resistance(edges(split), 5) == math.inf
    assert total_effective_resistance(edges(split), 5, within_components=True) == pytest.approx(4 + 1)


def test_chained_rewirings_keep_relations_apart():
    g = dgl.graph((torch.tensor([0, 1, 1, 2, 2, 3]), torch.tensor([1, 0, 2, 1, 3, 2])), num_nodes=4)  # path
    first = laser(g, num_snapshots=3, rho=1.0).to_dgl(g)  # types 1 (input), 2, 3
    assert sorted(set(first.edata["etype"].tolist())) == [1, 2, 3]
    second = gtr(first, num_edges=0).to_dgl(first)
    assert torch.equal(second.edata["etype"], first.edata["etype"])
    star = dgl.graph((torch.tensor([0, 0, 0]), torch.tensor([1, 2, 3])), num_nodes=4)
    star.edata["etype"] = torch.tensor([0, 1, 1])
    out = gtr(star, num_edges=1).to_dgl(star)
    assert out.edata["etype"].tolist() == [0, 1, 1, 2, 2]  # the added pair gets a new type past the old ones
    lz = laser(star, num_snapshots=2, rho=1.0).to_dgl(star)
    assert set(lz.edata["etype"][3:].tolist()) == {2}  # radius 2 → first free type (old max 1, + r − 1)


def test_drew_schedule_uses_hops_up_to_t_plus_one_and_delayed_states():
    from graphbench.rewiring.hops import drew_schedule
    assert drew_schedule(0) == [(1, 0)]
    assert drew_schedule(3, nu=1) == [(1, 3), (2, 2), (3, 1), (4, 0)]
    assert drew_schedule(3, nu=math.inf) == [(1, 3), (2, 3), (3, 3), (4, 3)]
    assert drew_schedule(3, nu=2) == [(1, 3), (2, 3), (3, 2), (4, 1)]
    assert drew_schedule(5, nu=1, k_max=2) == [(1, 5), (2, 4)]
    for t in range(8):
        assert [k for k, _ in drew_schedule(t)] == list(range(1, t + 2))
        assert all(0 <= s <= t for _, s in drew_schedule(t, nu=1))
    with pytest.raises(ValueError):
        drew_schedule(2, nu=0.5)


@pytest.mark.parametrize("n", [0, 1, 3])
def test_edgeless_and_tiny_graphs(n):
    from graphbench.rewiring import borf, sdrf
    empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    for rw in (laser(empty, n), gtr(empty, n), sdrf(empty, n), borf(empty, n)):
        assert rw.num_added == 0 and rw.src.size == 0 and rw.num_nodes == n
    assert fosr(empty, n, num_edges=5).num_added == n * (n - 1) // 2  # FoSR may join components
    assert all(s.size == 0 for s, _ in hop_rings(empty, 2, n).values())


def test_laser_first_etype_and_generator_seed():
    g = nx.cycle_graph(12)
    one = laser(edges(g), 12, num_snapshots=3, rho=0.5, seed=np.random.default_rng(4))
    assert one.added.tolist() == laser(edges(g), 12, num_snapshots=3, rho=0.5, seed=4).added.tolist()
    zero = laser(edges(g), 12, num_snapshots=3, rho=0.5, seed=4, first_etype=0)
    assert np.array_equal(zero.etype, one.etype - 1) and zero.to_dgl().edata["etype"].max().item() == 2
