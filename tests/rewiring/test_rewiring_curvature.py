"""Curvatures equal their definitions computed by hand (sets for balanced Forman, an LP for Ollivier–Ricci), and
SDRF / BORF do what their algorithms say (issue #13)."""

from __future__ import annotations

import itertools
from collections import Counter

import networkx as nx
import numpy as np
import pytest
from scipy.optimize import linprog

from graphbench.rewiring import balanced_forman_curvature, borf, ollivier_ricci_curvature, sdrf
from graphbench.rewiring.sdrf import _softmax, curvature_improvements, sdrf_candidates


def edges(g: nx.Graph) -> tuple[np.ndarray, np.ndarray]:
    e = np.asarray(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    return e[:, 0], e[:, 1]


def hand_bfc(g: nx.Graph, i: int, j: int) -> float:
    """Topping et al. 2022, Definition 1, written with sets."""
    di, dj = g.degree(i), g.degree(j)
    if min(di, dj) == 1:
        return 0.0
    ni, nj = set(g[i]), set(g[j])
    tri = len(ni & nj)
    sq_i = {k for k in ni - nj - {j} if any(w in nj - ni - {i} for w in g[k])}
    sq_j = {w for w in nj - ni - {i} if any(k in ni - nj - {j} for k in g[w])}
    # γ_max: (number of w ∈ N(k) ∩ N(j) not adjacent to i, i itself included) − 1, and symmetrically
    gammas = [len(set(g[k]) & (nj - ni)) - 1 for k in sq_i] + [len(set(g[w]) & (ni - nj)) - 1 for w in sq_j]
    gamma_max = max(gammas, default=0)
    ric = 2 / di + 2 / dj - 2 + 2 * tri / max(di, dj) + tri / min(di, dj)
    if gamma_max > 0:
        ric += (len(sq_i) + len(sq_j)) / (gamma_max * max(di, dj))
    return ric


def hand_orc(g: nx.Graph, i: int, j: int, alpha: float = 0.0) -> float:
    """κ = 1 − W₁(μ_i, μ_j), W₁ solved as a linear programme over the transport polytope."""
    d = dict(nx.all_pairs_shortest_path_length(g))

    def measure(x):
        m = {y: (1 - alpha) / g.degree(x) for y in g[x]}
        if alpha:
            m[x] = alpha
        return m

    mi, mj = measure(i), measure(j)
    a, b = list(mi), list(mj)
    cost = np.array([[d[p][q] for q in b] for p in a], dtype=float).ravel()
    rows = [np.kron(np.eye(len(a))[r], np.ones(len(b))) for r in range(len(a))]
    cols = [np.kron(np.ones(len(a)), np.eye(len(b))[c]) for c in range(len(b))]
    res = linprog(cost, A_eq=np.array(rows + cols), b_eq=[mi[p] for p in a] + [mj[q] for q in b],
                  bounds=(0, None), method="highs")
    assert res.success
    return 1.0 - res.fun / d[i][j]


def graphs() -> dict[str, nx.Graph]:
    out = {"C4": nx.cycle_graph(4), "C5": nx.cycle_graph(5), "C8": nx.cycle_graph(8), "K5": nx.complete_graph(5),
           "tree": nx.balanced_tree(3, 2), "grid": nx.grid_2d_graph(3, 4), "barbell": nx.barbell_graph(4, 2),
           "petersen": nx.petersen_graph()}
    for s in range(3):
        out[f"gnp{s}"] = nx.gnp_random_graph(12, 0.3, seed=s)
    return {k: nx.convert_node_labels_to_integers(g) for k, g in out.items()}


@pytest.mark.parametrize("name", sorted(graphs()))
def test_balanced_forman_equals_definition(name):
    g = graphs()[name]
    pairs, values = balanced_forman_curvature(edges(g), g.number_of_nodes())
    assert len(pairs) == g.number_of_edges()
    for (u, v), c in zip(pairs, values):
        assert c == pytest.approx(hand_bfc(g, int(u), int(v)), abs=1e-12)


def test_balanced_forman_closed_forms():
    _, k5 = balanced_forman_curvature(edges(nx.complete_graph(5)), 5)
    assert np.allclose(k5, 5 / 4)  # K_n: n / (n − 1)
    _, c4 = balanced_forman_curvature(edges(nx.cycle_graph(4)), 4)
    assert np.allclose(c4, 1.0)
    _, c7 = balanced_forman_curvature(edges(nx.cycle_graph(7)), 7)
    assert np.allclose(c7, 0.0)
    star_path = nx.Graph([(0, 1), (0, 2), (0, 3), (3, 4), (3, 5)])  # internal edge (0, 3): degrees 3 and 3
    pairs, vals = balanced_forman_curvature(edges(star_path), 6)
    got = {tuple(map(int, p)): v for p, v in zip(pairs, vals)}
    assert got[(0, 3)] == pytest.approx(2 / 3 + 2 / 3 - 2) and got[(0, 1)] == 0.0


@pytest.mark.parametrize("name", sorted(graphs()))
def test_ollivier_ricci_equals_linear_programme(name):
    g = graphs()[name]
    pairs, values = ollivier_ricci_curvature(edges(g), g.number_of_nodes())
    for (u, v), c in zip(pairs, values):
        assert c == pytest.approx(hand_orc(g, int(u), int(v)), abs=1e-9)


def test_ollivier_ricci_closed_forms_and_laziness():
    _, k5 = ollivier_ricci_curvature(edges(nx.complete_graph(5)), 5)
    assert np.allclose(k5, 3 / 4)  # K_n with α = 0: (n − 2)/(n − 1)
    _, c8 = ollivier_ricci_curvature(edges(nx.cycle_graph(8)), 8)
    assert np.allclose(c8, 0.0)
    g = graphs()["gnp1"]
    pairs, lazy = ollivier_ricci_curvature(edges(g), g.number_of_nodes(), alpha=0.5)
    for (u, v), c in zip(pairs[:8], lazy[:8]):
        assert c == pytest.approx(hand_orc(g, int(u), int(v), alpha=0.5), abs=1e-9)


# ---------------------------------------------------------------- SDRF

def test_sdrf_improvements_are_exact_curvature_changes():
    g = graphs()["tree"]
    from graphbench.rewiring.base import adjacency
    adj = adjacency(edges(g), g.number_of_nodes())
    for i, j in [(0, 1), (1, 4)]:
        cands = sdrf_candidates(adj, i, j)
        assert cands and all(not adj[k, m] and k != m for k, m in cands)
        ball_i, ball_j = set(g[i]) | {i}, set(g[j]) | {j}
        assert all((k in ball_i and m in ball_j) or (m in ball_i and k in ball_j) for k, m in cands)
        got = curvature_improvements(adj, i, j, cands)
        for (k, m), x in zip(cands, got):
            h = g.copy()
            h.add_edge(k, m)
            assert x == pytest.approx(hand_bfc(h, i, j) - hand_bfc(g, i, j), abs=1e-12)
        assert np.array_equal(adj, adjacency(edges(g), g.number_of_nodes()))  # restored


def test_sdrf_samples_from_the_softmax_of_improvements():
    g = nx.path_graph(5)
    from graphbench.rewiring.base import adjacency
    adj = adjacency(edges(g), 5)
    pairs, curv = balanced_forman_curvature(edges(g), 5)
    i, j = (int(x) for x in pairs[int(np.argmin(curv))])
    cands = sdrf_candidates(adj, i, j)
    p = _softmax(2.0 * curvature_improvements(adj, i, j, cands))
    runs = 400
    counts = Counter(tuple(map(int, sdrf(edges(g), 5, loops=1, tau=2.0, removal_bound=None, seed=s).added[0]))
                     for s in range(runs))
    assert set(counts) <= set(cands)
    for c, pc in zip(cands, p):
        assert abs(counts.get(c, 0) / runs - pc) < 4 * np.sqrt(pc * (1 - pc) / runs) + 1e-9


def test_sdrf_greedy_limit_removal_and_seed():
    g = nx.barbell_graph(5, 3)
    n = g.number_of_nodes()
    greedy = sdrf(edges(g), n, loops=1, tau=1e6, removal_bound=None)
    pairs, curv = balanced_forman_curvature(edges(g), n)
    i, j = (int(x) for x in pairs[int(np.argmin(curv))])
    from graphbench.rewiring.base import adjacency
    adj = adjacency(edges(g), n)
    cands = sdrf_candidates(adj, i, j)
    best = curvature_improvements(adj, i, j, cands).max()
    k, m = map(int, greedy.added[0])
    h = g.copy()
    h.add_edge(k, m)
    assert hand_bfc(h, i, j) - hand_bfc(g, i, j) == pytest.approx(best)
    # removal: after the addition, the most curved edge goes when its curvature exceeds C+
    removing = sdrf(edges(g), n, loops=1, tau=1e6, removal_bound=0.5)
    assert removing.num_removed == 1
    u, v = map(int, removing.removed[0])
    after = max(hand_bfc(h, a, b) for a, b in h.edges())
    assert after > 0.5 and hand_bfc(h, u, v) == pytest.approx(after)
    assert (u, v) not in {tuple(sorted(e)) for e in zip(removing.src.tolist(), removing.dst.tolist())}
    a = sdrf(edges(g), n, loops=8, tau=0.5, seed=3)
    assert a.added.tolist() == sdrf(edges(g), n, loops=8, tau=0.5, seed=3).added.tolist()
    assert len({str(sdrf(edges(g), n, loops=8, tau=0.5, seed=s).added.tolist()) for s in range(6)}) > 1


# ---------------------------------------------------------------- BORF

def test_borf_adds_across_the_most_negative_edge_and_removes_the_most_positive():
    g = nx.barbell_graph(5, 2)
    n = g.number_of_nodes()
    kappa = {tuple(sorted(e)): hand_orc(g, *e) for e in g.edges()}
    worst = min(kappa.values())
    out = borf(edges(g), n, iterations=1, batch_add=1, batch_remove=1)
    assert out.num_added == 1 and out.num_removed == 1
    p, q = map(int, out.added[0])
    assert not g.has_edge(p, q) and p != q
    # (p, q) ∈ N(u) × N(v) for a most negatively curved edge (u, v)
    assert any(kappa[e] == pytest.approx(worst) and ((p in g[e[0]] and q in g[e[1]]) or (q in g[e[0]] and p in g[e[1]]))
               for e in kappa)
    u, v = map(int, out.removed[0])
    assert kappa[(u, v)] == pytest.approx(max(kappa.values()))
    assert borf(edges(g), n, iterations=2, batch_add=2, batch_remove=0).num_removed == 0
    again = borf(edges(g), n, iterations=2, batch_add=2, batch_remove=1)
    assert again.added.tolist() == borf(edges(g), n, iterations=2, batch_add=2, batch_remove=1).added.tolist()


def test_borf_raises_the_curvature_of_the_bottleneck():
    g = nx.barbell_graph(5, 2)
    n = g.number_of_nodes()
    before = ollivier_ricci_curvature(edges(g), n)[1].min()
    out = borf(edges(g), n, iterations=3, batch_add=2, batch_remove=0)
    assert ollivier_ricci_curvature(out.edge_list(), n)[1].min() > before


def test_every_added_pair_is_new():
    for g in graphs().values():
        n = g.number_of_nodes()
        for out in (sdrf(edges(g), n, loops=5, seed=0), borf(edges(g), n, iterations=2, batch_add=3)):
            assert all(not g.has_edge(int(u), int(v)) and u != v for u, v in out.added)
            assert all(g.has_edge(int(u), int(v)) for u, v in out.removed)
            assert len({tuple(p) for p in out.added.tolist()}) == out.num_added


def test_small_graph_helpers_agree_on_pair_order():
    g = nx.complete_graph(4)
    pairs, _ = balanced_forman_curvature(edges(g), 4)
    assert pairs.tolist() == [list(p) for p in itertools.combinations(range(4), 2)]


@pytest.mark.parametrize("name", sorted(graphs()))
def test_vectorised_and_single_edge_bfc_agree(name):
    from graphbench.rewiring.base import adjacency, undirected_pairs
    from graphbench.rewiring.curvature import bfc_edge, bfc_edges
    g = graphs()[name]
    adj = adjacency(edges(g), g.number_of_nodes())
    pairs = undirected_pairs(adj)
    assert np.allclose(bfc_edges(adj, pairs), [bfc_edge(adj, int(u), int(v)) for u, v in pairs], atol=1e-12)
