"""FoSR — First-order Spectral Rewiring. Karhadkar, Banerjee, Montúfar, "FoSR: First-order spectral rewiring for
addressing oversquashing in GNNs", ICLR 2023 (Algorithm 1; reference code ``preprocessing/fosr.py``).

The spectral gap ``λ₂`` of the normalised Laplacian equals ``1 − μ₂`` with ``μ₂`` the second largest eigenvalue of
``Â = D^{-1/2} A D^{-1/2}``, whose top eigenvector is ``√d``. FoSR keeps an approximation ``x`` of the second
eigenvector by power iteration on ``I + Â`` with ``x`` projected off ``√d`` (the ``I`` makes the spectrum
non-negative so the iteration converges to ``μ₂``, not to ``−1`` on bipartite graphs). To first order in the added
edge, the change of ``μ₂`` is governed by ``y_u y_v`` with ``y = x / √(d + 1)``, so FoSR adds the non-edge
minimising ``y_u y_v`` — lowering ``μ₂`` and raising the gap — then updates the degrees and does one more
power-iteration step. ``x`` starts uniform in ``[−1, 1]`` from ``seed`` followed by ``initial_power_iters``
steps (the reference: 5 for graph classification; 50 elsewhere).

Isolated nodes have ``d = 0``; their ``d^{-1/2}`` is taken as 0 (the reference divides by zero). Ties go to the
first pair in row-major order, as in the reference's ``argmin``. Added edges get ``etype = 1``, input edges 0.
"""

from __future__ import annotations

import numpy as np

from graphbench.rewiring.base import GraphLike, Rewiring, adjacency, assemble, edge_arrays


def _power_step(x: np.ndarray, adj: np.ndarray, deg: np.ndarray) -> np.ndarray:
    sqrt_d = np.sqrt(deg)
    inv_sqrt = np.divide(1.0, sqrt_d, out=np.zeros_like(sqrt_d), where=deg > 0)
    total = deg.sum()
    if total > 0:
        x = x - (x @ sqrt_d) * sqrt_d / total  # project off the top eigenvector √d (norm² = Σd)
    y = x + inv_sqrt * (adj @ (inv_sqrt * x))
    norm = np.linalg.norm(y)
    return y / norm if norm > 0 else y


def fosr_edges(graph: GraphLike, num_nodes: int | None = None, *, num_edges: int = 10, initial_power_iters: int = 5,
               seed: int | np.random.Generator = 0) -> np.ndarray:
    """The pairs FoSR adds, in order, as ``[k, 2]`` (k < num_edges only if the graph becomes complete)."""
    if num_edges < 0:
        raise ValueError(f"num_edges must be >= 0, got {num_edges}")
    if initial_power_iters < 0:
        raise ValueError(f"initial_power_iters must be >= 0, got {initial_power_iters}")
    adj = adjacency(graph, num_nodes).astype(np.float64)
    n = adj.shape[0]
    deg = adj.sum(1)
    x = 2.0 * np.random.default_rng(seed).random(n) - 1.0
    for _ in range(initial_power_iters):
        x = _power_step(x, adj, deg)
    blocked = adj.astype(bool) | np.eye(n, dtype=bool)
    pairs = []
    for _ in range(num_edges):
        if blocked.all():
            break
        y = x / np.sqrt(deg + 1.0)
        products = np.where(blocked, np.inf, np.outer(y, y))
        u, v = divmod(int(np.argmin(products)), n)
        pairs.append((min(u, v), max(u, v)))
        adj[u, v] = adj[v, u] = 1.0
        blocked[u, v] = blocked[v, u] = True
        deg[u] += 1.0
        deg[v] += 1.0
        x = _power_step(x, adj, deg)
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def fosr(graph: GraphLike, num_nodes: int | None = None, *, num_edges: int = 10, initial_power_iters: int = 5,
         seed: int | np.random.Generator = 0) -> Rewiring:
    """FoSR-rewired graph: input edges (``etype = 0``) plus ``num_edges`` added pairs in both directions
    (``etype = 1``). Stochastic through the random start of the power iteration (``seed``); reference budgets:
    graph classification 5–40 edges per graph (LASER compares against 40)."""
    src, dst, n = edge_arrays(graph, num_nodes)
    pairs = fosr_edges((src, dst), n, num_edges=num_edges, initial_power_iters=initial_power_iters, seed=seed)
    return assemble(src, dst, n, pairs, np.ones(len(pairs), dtype=np.int64))
