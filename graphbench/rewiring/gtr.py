"""GTR — Greedy Total Resistance rewiring. Black, Wan, Nayyeri, Wang, "Understanding Oversquashing in GNNs through
the Lens of Effective Resistance", ICML 2023 (§5; reference code ``gtr_rewiring/src/gtr.py``).

Greedily add the non-edge ``{s, t}`` whose addition lowers the total effective resistance ``R_tot`` the most. With
``P = L⁺`` and ``b = e_s − e_t``, adding ``{s, t}`` is the rank-1 update ``L + b bᵀ``; by Sherman–Morrison (valid
because b is orthogonal to the kernel of L when s and t share a component)

    P' = P − (P b)(P b)ᵀ / (1 + R_st),        R_st = bᵀ P b,

so ``tr(P)`` drops by ``B_st / (1 + R_st)`` with ``B_st = bᵀ P² b = ‖P b‖²`` (the squared biharmonic distance), and
``R_tot = n · tr(L⁺)`` (per component: ``n_c · tr(L_c⁺)``) drops by ``n_c · B_st / (1 + R_st)``. Each step scores all
allowed pairs from ``P`` and ``Q = P²``, adds the best, and updates ``P`` (rank 1) and ``Q`` (rank 2) in O(n²);
only the initial pseudo-inverse is O(n³). Everything is float64 (the error of the updates accumulates over steps).

Allowed pairs: non-adjacent, distinct, in the same connected component (a pair across components has infinite
resistance; GTR does not join components). Ties go to the lexicographically smallest pair; GTR is deterministic.

Deviation: the reference scores ``B/(1 + R)`` without the factor ``n_c``; that equals the exact decrease up to a
constant on a connected graph (the common case) but not across components of different sizes. Here the score is
the exact decrease of the within-component total resistance. Added edges get ``etype = 1``, input edges 0, as in
the reference (meant for relational GNNs).
"""

from __future__ import annotations

import numpy as np

from graphbench.rewiring.base import GraphLike, Rewiring, adjacency, assemble, connected_components, edge_arrays
from graphbench.rewiring.measures import laplacian_pinv


def gtr_scores(p: np.ndarray, q: np.ndarray, comp_size: np.ndarray) -> np.ndarray:
    """Exact decrease of the (within-component) total resistance for adding each pair: ``n_c · B / (1 + R)``."""
    dp, dq = np.diag(p), np.diag(q)
    r = dp[:, None] + dp[None, :] - 2.0 * p
    b = dq[:, None] + dq[None, :] - 2.0 * q
    return comp_size[:, None] * b / (1.0 + r)


def gtr_edges(graph: GraphLike, num_nodes: int | None = None, *,
              num_edges: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """The pairs GTR adds, in order, and the decrease of total resistance each achieved: ``(pairs [k, 2], gain [k])``.

    Stops early when no allowed pair is left (e.g. every component is complete).
    """
    if num_edges < 0:
        raise ValueError(f"num_edges must be >= 0, got {num_edges}")
    adj = adjacency(graph, num_nodes)
    n = adj.shape[0]
    comp = connected_components(adj)
    comp_size = np.bincount(comp)[comp].astype(np.float64)
    allowed = (comp[:, None] == comp[None, :]) & ~adj
    allowed = np.triu(allowed, k=1)
    p = laplacian_pinv(adj)
    q = p @ p
    pairs, gains = [], []
    for _ in range(num_edges):
        if not allowed.any():
            break
        score = np.where(allowed, gtr_scores(p, q, comp_size), -np.inf)
        flat = int(np.argmax(score))  # first maximum in row-major order = smallest pair on ties
        s, t = divmod(flat, n)
        pairs.append((s, t))
        gains.append(float(score[s, t]))
        v = p[:, s] - p[:, t]  # P b
        w = q[:, s] - q[:, t]  # Q b = P (P b)
        c = 1.0 + v[s] - v[t]  # 1 + R_st
        p = p - np.outer(v, v) / c
        q = q - (np.outer(w, v) + np.outer(v, w)) / c + (v @ v) * np.outer(v, v) / c**2
        allowed[s, t] = False
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2), np.asarray(gains, dtype=np.float64)


def gtr(graph: GraphLike, num_nodes: int | None = None, *, num_edges: int = 10) -> Rewiring:
    """GTR-rewired graph: the input edges (``etype = 0``) plus ``num_edges`` greedy pairs, both directions
    (``etype = 1``). Deterministic; the reference's ``PrecomputeGTREdges`` computes the same list once."""
    src, dst, n = edge_arrays(graph, num_nodes)
    pairs, _ = gtr_edges((src, dst), n, num_edges=num_edges)
    return assemble(src, dst, n, pairs, np.ones(len(pairs), dtype=np.int64))
