"""Exact shortest-path distances and hop rings (the k-hop edge sets of DRew and LASER).

DRew (Gutteridge et al., ICML 2023, §3) lets layer t aggregate, for every k ≤ t + 1, over the *ring*
``A_k = {(i, j) : d_G(i, j) = k}`` — nodes at shortest-path distance exactly k. These are not walk-count k-hop
graphs (``dgl.khop_graph`` connects i and j when a walk of length k exists, which includes nodes at distance
k − 2, k − 4, … and i itself); the papers' reference code builds them from shortest paths, and so does this module.

Distances come from scipy's breadth-first search (``scipy.sparse.csgraph.shortest_path``, unweighted). Unreachable
pairs have distance ``inf``; they are never cast to an integer and never appear in a ring.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from graphbench.rewiring.base import GraphLike, check_size, edge_arrays


def shortest_path_distances(graph: GraphLike, num_nodes: int | None = None, *, directed: bool = False) -> np.ndarray:
    """All-pairs hop distances ``D[i, j]`` as float64 ``[n, n]``, ``inf`` where j is unreachable from i.

    ``directed=False`` (default) reads every edge in both directions; ``directed=True`` follows edges from source to
    destination, so ``D[i, j]`` is the length of the shortest directed path i → … → j.
    """
    src, dst, n = edge_arrays(graph, num_nodes)
    check_size(n, "shortest_path_distances")
    keep = src != dst
    a = csr_matrix((np.ones(int(keep.sum())), (src[keep], dst[keep])), shape=(n, n))
    a.data[:] = 1.0  # parallel edges were summed; every hop costs 1
    return shortest_path(a, method="D", directed=directed, unweighted=True)


def hop_rings(graph: GraphLike, k_max: int, num_nodes: int | None = None, *,
              directed: bool = False) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The exact hop rings ``{k: (src, dst)}`` for k = 1..k_max: all ordered pairs with ``d(src, dst) = k``.

    Messages flow ``src → dst`` (for ``directed=True`` a directed path of length k leads from src to dst). Pairs at
    distance > k_max or unreachable (``inf``) appear in no ring; node pairs in each ring are sorted by (dst, src).
    Ring 1 is the simple graph itself (self-loops and parallel edges dropped). Every k in 1..k_max has an entry,
    empty arrays where no pair is that far apart.
    """
    if k_max < 1:
        raise ValueError(f"k_max must be >= 1, got {k_max}")
    dist = shortest_path_distances(graph, num_nodes, directed=directed)
    rings: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    finite = np.isfinite(dist)
    for k in range(1, k_max + 1):
        # compare in float before any cast: inf never equals k
        dst, src = np.nonzero((dist.T == float(k)) & finite.T)
        rings[k] = (src.astype(np.int64), dst.astype(np.int64))
    return rings


def clamped_distances(dist: np.ndarray, unreachable: int) -> np.ndarray:
    """Distances as int64 with ``inf`` replaced by ``unreachable`` *before* the cast (casting inf is undefined)."""
    out = np.where(np.isfinite(dist), dist, float(unreachable))
    return out.astype(np.int64)


def drew_schedule(layer: int, nu: float = 1.0, k_max: int | None = None) -> list[tuple[int, int]]:
    """DRew's per-layer wiring (Gutteridge et al., ICML 2023, Eq. 5–6): the ``(k, source_layer)`` pairs layer t
    (0-based) aggregates. Layer t sees hop rings k = 1..min(t + 1, k_max) and takes hop k's messages from the state
    of layer ``t − τ_ν(k)`` with delay ``τ_ν(k) = max(0, k − ν)``; ν = ∞ (``math.inf``) means no delay (every ring
    reads x^(t)), ν = 1 is the fully delayed default (hop k reads x^(t−k+1))."""
    if layer < 0:
        raise ValueError(f"layer must be >= 0, got {layer}")
    if not nu >= 1:
        raise ValueError(f"the delay parameter nu must be >= 1 (or inf), got {nu}")
    top = layer + 1 if k_max is None else min(layer + 1, k_max)
    return [(k, layer - int(max(0.0, k - nu))) for k in range(1, top + 1)]
