"""SDRF — Stochastic Discrete Ricci Flow. Topping, Di Giovanni, Chamberlain, Dong, Bronstein, "Understanding
over-squashing and bottlenecks on graphs via curvature", ICLR 2022 (Algorithm 1).

Each of ``loops`` iterations:

1. take the edge (i, j) of minimal balanced Forman curvature (the worst bottleneck);
2. for every candidate ``{k, l}``, ``k ∈ B_1(i) = N(i) ∪ {i}``, ``l ∈ B_1(j)``, k ≠ l, not already an edge, compute
   the improvement ``x_kl = Ric_{+kl}(i, j) − Ric(i, j)`` of the curvature of (i, j) if {k, l} were added;
3. sample one candidate with probability ``softmax(τ · x)`` and add it;
4. if ``removal_bound`` (C⁺) is set, remove the edge of maximal curvature when that curvature exceeds C⁺
   (curvatures recomputed after the addition).

It stops early when nothing can be added and nothing removed. Ties for the minimal/maximal edge go to the
lexicographically smallest pair; the sampling uses ``numpy.random.default_rng(seed)``, so a seed fixes the result.
Net added edges get ``etype = 1``; removed input edges disappear.

Where the reference code differs (``jctops/understanding-oversquashing@c14e91d:gdl/src/gdl/curvature/numba.py``,
copied with edge types added into ``kedar2/FoSR@1a7360c2c77c:preprocessing/sdrf.py``; see
``docs/models/rewiring.md`` §2): the candidate sets are the same, ``B_1(i) × B_1(j)`` in the undirected case. Its
curvature kernels ``break`` out of a row at the first non-edge (or the first already-adjacent candidate) where
``continue`` is meant, so most curvatures and most candidate gains are left at 0 — which edge is taken as the
bottleneck and the sampling probabilities differ from the exact ones computed here
(:func:`graphbench.rewiring.curvature.bfc_edge`). Its removal step reads the curvatures computed *before* that
iteration's addition; here they are recomputed after it (this matters only with removal, which FoSR's TU runs switch
off: ``remove_edges=False``).
"""

from __future__ import annotations

import numpy as np

from graphbench.rewiring.base import GraphLike, Rewiring, adjacency, edge_arrays, from_edits, undirected_pairs
from graphbench.rewiring.curvature import bfc_edge, bfc_edges


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


def _curvatures(adj: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pairs = undirected_pairs(adj)
    return pairs, bfc_edges(adj, pairs)


def sdrf_candidates(adj: np.ndarray, i: int, j: int) -> list[tuple[int, int]]:
    """Candidate pairs ``{k, l}`` (as ``(min, max)``, first-seen order) for improving edge (i, j)."""
    ball_i = np.concatenate([[i], np.flatnonzero(adj[i])])
    ball_j = np.concatenate([[j], np.flatnonzero(adj[j])])
    out, seen = [], set()
    for k in ball_i:
        for m in ball_j:
            key = (int(min(k, m)), int(max(k, m)))
            if k != m and not adj[k, m] and key not in seen:
                seen.add(key)
                out.append(key)
    return out


def curvature_improvements(adj: np.ndarray, i: int, j: int, candidates: list[tuple[int, int]]) -> np.ndarray:
    """``Ric_{+kl}(i, j) − Ric(i, j)`` for each candidate (adj is restored afterwards)."""
    base = bfc_edge(adj, i, j)
    out = np.empty(len(candidates))
    for c, (k, m) in enumerate(candidates):
        adj[k, m] = adj[m, k] = True
        out[c] = bfc_edge(adj, i, j) - base
        adj[k, m] = adj[m, k] = False
    return out


def sdrf(graph: GraphLike, num_nodes: int | None = None, *, loops: int = 10, tau: float = 1.0,
         removal_bound: float | None = 0.5, seed: int | np.random.Generator = 0) -> Rewiring:
    """SDRF-rewired graph. Hyperparameters (paper, Table 5): ``loops`` (max iterations, tens to thousands on node
    classification; a few to tens per graph on TU), temperature ``tau`` (> 0; larger is greedier), ``removal_bound``
    C⁺ (None disables removal). Stochastic (``seed``)."""
    if loops < 0:
        raise ValueError(f"loops must be >= 0, got {loops}")
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    src, dst, n = edge_arrays(graph, num_nodes)
    before = adjacency((src, dst), n)
    adj = before.copy()
    rng = np.random.default_rng(seed)
    order: list[tuple[int, int]] = []
    for _ in range(loops):
        pairs, curv = _curvatures(adj)
        if pairs.size == 0:
            break
        i, j = (int(x) for x in pairs[int(np.argmin(curv))])
        candidates = sdrf_candidates(adj, i, j)
        changed = False
        if candidates:
            x = curvature_improvements(adj, i, j, candidates)
            k, m = candidates[int(rng.choice(len(candidates), p=_softmax(tau * x)))]
            adj[k, m] = adj[m, k] = True
            order.append((k, m))
            changed = True
        if removal_bound is not None:
            pairs, curv = _curvatures(adj)
            top = int(np.argmax(curv)) if curv.size else -1
            if top >= 0 and curv[top] > removal_bound:
                u, v = (int(x) for x in pairs[top])
                adj[u, v] = adj[v, u] = False
                changed = True
        if not changed:
            break
    return from_edits(src, dst, n, before, adj, order)
