"""Graph measures that rewiring papers report: total effective resistance and the spectral gap.

- **Effective resistance** (Black et al., ICML 2023, §3): ``R(u, v) = (e_u − e_v)ᵀ L⁺ (e_u − e_v)`` with ``L⁺`` the
  pseudo-inverse of the combinatorial Laplacian ``L = D − A``; the **total effective resistance** is
  ``R_tot = Σ_{u<v} R(u, v)``, equal to ``n · tr(L⁺)`` on a connected graph. Lower is less over-squashing.
- **Spectral gap** (Karhadkar et al., ICLR 2023; Topping et al., ICLR 2022): ``λ₂`` of the normalised Laplacian
  ``I − D^{-1/2} A D^{-1/2}``, 0 for a disconnected graph. Higher is better connected (Cheeger: ``h ≥ λ₂/2``).

Both read the input as the simple undirected graph (see ``graphbench.rewiring.base.adjacency``) and work in float64.
"""

from __future__ import annotations

import numpy as np

from graphbench.rewiring.base import GraphLike, adjacency, connected_components


def laplacian_pinv(adj: np.ndarray) -> np.ndarray:
    """``L⁺`` (float64) of the combinatorial Laplacian of a symmetric 0/1 adjacency (Hermitian pseudo-inverse)."""
    a = adj.astype(np.float64)
    lap = np.diag(a.sum(1)) - a
    return np.linalg.pinv(lap, hermitian=True)


def effective_resistances(graph: GraphLike, num_nodes: int | None = None) -> np.ndarray:
    """``[n, n]`` effective resistances ``R(u, v)``; ``inf`` between nodes of different components."""
    adj = adjacency(graph, num_nodes)
    p = laplacian_pinv(adj)
    d = np.diag(p)
    r = d[:, None] + d[None, :] - 2.0 * p
    comp = connected_components(adj)
    r[comp[:, None] != comp[None, :]] = np.inf
    np.fill_diagonal(r, 0.0)
    return r


def total_effective_resistance(graph: GraphLike, num_nodes: int | None = None, *,
                               within_components: bool = False) -> float:
    """``R_tot = Σ_{u<v} R(u, v)``; ``inf`` for a disconnected graph unless ``within_components``, which sums over
    the pairs inside one component only (what a rewiring that keeps components apart, like GTR, can lower)."""
    r = effective_resistances(graph, num_nodes)
    iu = np.triu_indices(r.shape[0], k=1)
    vals = r[iu]
    if within_components:
        vals = vals[np.isfinite(vals)]
    return float(vals.sum())


def spectral_gap(graph: GraphLike, num_nodes: int | None = None) -> float:
    """``λ₂`` of the normalised Laplacian (0.0 if the graph is disconnected; isolated nodes make it disconnected).

    Raises for fewer than 2 nodes, where λ₂ does not exist.
    """
    adj = adjacency(graph, num_nodes)
    n = adj.shape[0]
    if n < 2:
        raise ValueError(f"the spectral gap needs at least 2 nodes, got {n}")
    if np.unique(connected_components(adj)).size > 1:
        return 0.0
    a = adj.astype(np.float64)
    inv_sqrt = 1.0 / np.sqrt(a.sum(1))
    lap = np.eye(n) - inv_sqrt[:, None] * a * inv_sqrt[None, :]
    return float(np.linalg.eigvalsh(lap)[1])
