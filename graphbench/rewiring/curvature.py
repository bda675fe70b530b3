"""Discrete edge curvatures used by the curvature rewirings (SDRF, BORF).

- **Balanced Forman curvature** (Topping, Di Giovanni, Chamberlain, Dong, Bronstein, "Understanding over-squashing
  and bottlenecks on graphs via curvature", ICLR 2022, Definition 1). For an edge (i, j) with degrees d_i, d_j::

      Ric(i, j) = 2/d_i + 2/d_j − 2 + 2|♯Δ|/max(d_i, d_j) + |♯Δ|/min(d_i, d_j)
                  + (|♯□^i| + |♯□^j|) / (γ_max · max(d_i, d_j))         (last term 0 when γ_max = 0)

  and ``Ric(i, j) = 0`` when ``min(d_i, d_j) = 1``. ``♯Δ`` are the triangles on (i, j); ``♯□^i`` the neighbours k of
  i, not adjacent to j and ≠ j, that close a 4-cycle i ~ k ~ w ~ j without diagonals (w a neighbour of j, not
  adjacent to i and ≠ i); ``γ_max`` the largest number of such 4-cycles through one such k (or w). The reference
  numba kernel (``gdl/curvature/numba.py``) has known defects (``break`` where ``continue`` is meant, so most rows
  are skipped; its 4-cycle count does not exclude diagonals); this follows the paper's definition instead.
- **Ollivier–Ricci curvature** (Ollivier 2009; as used by BORF, Nguyen et al., ICML 2023, §3):
  ``κ(i, j) = 1 − W₁(μ_i, μ_j) / d(i, j)`` with ``μ_i = α δ_i + (1 − α)/d_i Σ_{k ~ i} δ_k`` (BORF: ``α = 0``) and
  ``W₁`` the optimal-transport cost under the shortest-path metric of the graph, solved exactly by POT's network
  simplex (``ot.emd``).

Both take the simple undirected skeleton of the input; each returns ``(pairs [m, 2] with u < v, values [m])``.
"""

from __future__ import annotations

import numpy as np

from graphbench.rewiring.base import GraphLike, adjacency, undirected_pairs
from graphbench.rewiring.hops import shortest_path_distances


def bfc_edge(adj: np.ndarray, i: int, j: int) -> float:
    """Balanced Forman curvature of the edge (i, j) of the boolean symmetric adjacency ``adj``."""
    ai, aj = adj[i], adj[j]
    di, dj = int(ai.sum()), int(aj.sum())
    if min(di, dj) <= 1:
        return 0.0
    d_max, d_min = max(di, dj), min(di, dj)
    triangles = int(np.count_nonzero(ai & aj))
    only_i = ai & ~aj
    only_i[j] = False
    only_j = aj & ~ai
    only_j[i] = False
    # cycles[k, w]: k ∈ N(i) − (N(j) ∪ {j}), w ∈ N(j) \ (N(i) ∪ {i}), k ~ w  (a 4-cycle i-k-w-j without diagonals)
    cycles = adj[np.ix_(np.flatnonzero(only_i), np.flatnonzero(only_j))]
    rows, cols = cycles.sum(1), cycles.sum(0)
    squares = int(np.count_nonzero(rows)) + int(np.count_nonzero(cols))
    gamma_max = int(max(rows.max(initial=0), cols.max(initial=0)))
    ric = 2.0 / di + 2.0 / dj - 2.0 + 2.0 * triangles / d_max + triangles / d_min
    if gamma_max > 0:
        ric += squares / (gamma_max * d_max)
    return float(ric)


def bfc_edges(adj: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``bfc_edge`` for many edges at once (``pairs [m, 2]``), vectorised over edges with dense ``[m, n]`` masks:
    for edge e the 4-cycle counts through k ∈ N(i) − (N(j) ∪ {j}) are ``only_i ⊙ (only_j A)`` and symmetrically."""
    if pairs.size == 0:
        return np.zeros(0, dtype=np.float64)
    i, j = pairs[:, 0], pairs[:, 1]
    a = adj.astype(np.float64)
    deg = a.sum(1)
    di, dj = deg[i], deg[j]
    d_max, d_min = np.maximum(di, dj), np.minimum(di, dj)
    ai, aj = adj[i], adj[j]
    triangles = (ai & aj).sum(1)
    rows = np.arange(len(pairs))
    only_i = ai & ~aj
    only_i[rows, j] = False
    only_j = aj & ~ai
    only_j[rows, i] = False
    through_k = only_i * (only_j.astype(np.float64) @ a)  # [m, n]: 4-cycles i-k-w-j through each k
    through_w = only_j * (only_i.astype(np.float64) @ a)
    squares = (through_k > 0).sum(1) + (through_w > 0).sum(1)
    gamma_max = np.maximum(through_k.max(1), through_w.max(1))
    with np.errstate(divide="ignore", invalid="ignore"):
        ric = 2.0 / di + 2.0 / dj - 2.0 + 2.0 * triangles / d_max + triangles / d_min
        ric = ric + np.where(gamma_max > 0, squares / (np.maximum(gamma_max, 1.0) * d_max), 0.0)
    return np.where(d_min <= 1, 0.0, ric)


def balanced_forman_curvature(graph: GraphLike, num_nodes: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Balanced Forman curvature of every edge: ``(pairs [m, 2], Ric [m])``."""
    adj = adjacency(graph, num_nodes)
    pairs = undirected_pairs(adj)
    return pairs, bfc_edges(adj, pairs)


def _measure(adj: np.ndarray, i: int, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    nbrs = np.flatnonzero(adj[i])
    if alpha > 0:
        return np.concatenate([[i], nbrs]), np.concatenate([[alpha], np.full(nbrs.size, (1 - alpha) / nbrs.size)])
    return nbrs, np.full(nbrs.size, 1.0 / nbrs.size)


def orc_edge(adj: np.ndarray, dist: np.ndarray, i: int, j: int,
             alpha: float = 0.0) -> tuple[float, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ollivier–Ricci curvature of edge (i, j) and its optimal transport.

    Returns ``(κ, support_i, support_j, plan, cost)``: ``plan[a, b]`` is the mass moved from ``support_i[a]`` to
    ``support_j[b]`` and ``cost`` the ground distances between them.
    """
    import ot  # POT, on first use: it imports scikit-learn and scipy.stats, over a second per graphbench command

    si, mi = _measure(adj, i, alpha)
    sj, mj = _measure(adj, j, alpha)
    cost = dist[np.ix_(si, sj)]
    plan = ot.emd(mi, mj, cost)
    w1 = float((plan * cost).sum())
    return 1.0 - w1 / float(dist[i, j]), si, sj, plan, cost


def ollivier_ricci_curvature(graph: GraphLike, num_nodes: int | None = None, *,
                             alpha: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Ollivier–Ricci curvature of every edge with laziness ``alpha``: ``(pairs [m, 2], κ [m])``."""
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f"alpha must lie in [0, 1), got {alpha}")
    adj = adjacency(graph, num_nodes)
    pairs = undirected_pairs(adj)
    dist = shortest_path_distances((pairs[:, 0], pairs[:, 1]), adj.shape[0])
    values = [orc_edge(adj, dist, int(u), int(v), alpha)[0] for u, v in pairs]
    return pairs, np.asarray(values, dtype=np.float64)
