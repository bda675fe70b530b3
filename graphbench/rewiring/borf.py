"""BORF — Batch Ollivier–Ricci Flow. Nguyen, Nong, Nguyen, Ho, Osher, Nguyen, "Revisiting Over-smoothing and
Over-squashing Using Ollivier-Ricci Curvature", ICML 2023 (Algorithm 1; reference ``preprocessing/borf.py::borf3``).

Each of ``iterations`` batches:

1. compute the Ollivier–Ricci curvature κ (α = 0) of every edge, with its optimal transport plan, on the current
   graph (``graphbench.rewiring.curvature.orc_edge``; POT's exact ``ot.emd``);
2. for each of the ``batch_add`` most negatively curved edges (u, v) (over-squashing): take the pair
   ``(p, q) ∈ N(u) × N(v)`` carrying the largest transport **cost** ``π(p, q) · d(p, q)`` (the reference's
   ``rc_transport_cost``; ``select="mass"`` takes the largest mass ``π(p, q)`` instead) and add {p, q} unless p = q or
   it is already an edge;
3. remove the ``batch_remove`` most positively curved edges (over-smoothing).

All curvatures of a batch come from the graph at the start of the batch, as in the reference. Sorting by κ is stable
over edges in lexicographic order and the argmax takes the first maximum, so BORF is deterministic (no seed).

Deviations from the reference, documented: the graph stays undirected (the reference runs on a networkx DiGraph built
from the symmetric edge list, so it adds and removes single directions), and ``batch_remove = 0`` removes nothing
(the reference's ``_C[-0:]`` would select every edge). Net added edges get ``etype = 1`` (the reference sets every
edge type to 0; a non-relational model ignores the type).
"""

from __future__ import annotations

import numpy as np

from graphbench.rewiring.base import GraphLike, Rewiring, adjacency, edge_arrays, from_edits, undirected_pairs
from graphbench.rewiring.curvature import orc_edge
from graphbench.rewiring.hops import shortest_path_distances

SELECT = ("cost", "mass")


def borf(graph: GraphLike, num_nodes: int | None = None, *, iterations: int = 1, batch_add: int = 4,
         batch_remove: int = 2, select: str = "cost") -> Rewiring:
    """BORF-rewired graph. Reference grids: graph classification ``iterations`` ∈ 1..5, ``batch_add`` ∈ 1..5,
    ``batch_remove`` ∈ 0..3; node classification ``batch_add`` ∈ {10, …, 80}, ``batch_remove`` ∈ {10, 20, 30},
    ``iterations`` ∈ {1, 2, 3}. Deterministic."""
    if select not in SELECT:
        raise ValueError(f"select must be one of {SELECT}, got {select!r}")
    for name, value in (("iterations", iterations), ("batch_add", batch_add), ("batch_remove", batch_remove)):
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    src, dst, n = edge_arrays(graph, num_nodes)
    before = adjacency((src, dst), n)
    adj = before.copy()
    order: list[tuple[int, int]] = []
    for _ in range(iterations):
        pairs = undirected_pairs(adj)
        if pairs.size == 0:
            break
        dist = shortest_path_distances((pairs[:, 0], pairs[:, 1]), n)
        results = [orc_edge(adj, dist, int(u), int(v)) for u, v in pairs]
        kappa = np.array([r[0] for r in results])
        ranked = np.argsort(kappa, kind="stable")
        most_negative = ranked[:batch_add]
        most_positive = ranked[ranked.size - batch_remove:] if batch_remove > 0 else ranked[:0]
        for e in most_negative:
            _, si, sj, plan, cost = results[e]
            weight = plan * cost if select == "cost" else plan
            a, b = np.unravel_index(int(np.argmax(weight)), weight.shape)
            p, q = int(si[a]), int(sj[b])
            if p != q and not adj[p, q]:
                adj[p, q] = adj[q, p] = True
                order.append((p, q))
        for e in most_positive:
            u, v = (int(x) for x in pairs[e])
            adj[u, v] = adj[v, u] = False
    return from_edits(src, dst, n, before, adj, order)
