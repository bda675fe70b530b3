"""Candidate edges for learned rewiring (PR-MPNN, Qian et al., ICLR 2024, ``AugmentWithEdgeCandidate``).

``edge_candidates`` lists the node pairs an upstream scorer may add as edges: non-adjacent pairs ``u < v`` (the
graph read as undirected; no self-pairs), as ``cand_index`` ``[2, C]`` (a ``NodeIndex(dim=1)``, offset per
batch). ``pool = 0`` keeps every non-edge (the reference's ``all``); ``pool > 0`` keeps the ``pool`` pairs with
the largest exact shortest-path distance (the reference's ``longest_path`` heuristic; disconnected pairs count as
``max + 1`` and come first), ties broken by (u, v) so the list is deterministic.
"""

from __future__ import annotations

import dgl
import numpy as np
import torch
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from graphbench.hparams import HParam
from graphbench.transforms.base import NodeIndex, TransformResult, register_transform


def edge_candidates_of(graph: dgl.DGLGraph, pool: int = 0) -> torch.Tensor:
    """``[2, C]`` long: non-adjacent pairs ``u < v`` (see the module docstring)."""
    n = graph.num_nodes()
    if n < 2:
        return torch.zeros(2, 0, dtype=torch.long)
    src, dst = (t.numpy() for t in graph.edges())
    adj = np.zeros((n, n), dtype=bool)
    adj[src, dst] = adj[dst, src] = True
    u, v = np.triu_indices(n, k=1)
    keep = ~adj[u, v]
    u, v = u[keep], v[keep]
    if pool > 0 and len(u) > pool:
        # exact hop distances of the undirected graph: scipy's breadth-first search (as the reference)
        hops = shortest_path(csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)), method="D", directed=False,
                             unweighted=True)[u, v]
        d = np.where(np.isinf(hops), -1.0, hops).astype(np.int64)  # unreachable: -1 before the cast
        d = np.where(d < 0, d.max(initial=0) + 1, d)
        order = np.lexsort((v, u, -d))[:pool]  # farthest first, then (u, v)
        order.sort()  # keep (u, v) order within the pool
        u, v = u[order], v[order]
    return torch.from_numpy(np.stack([u, v])).long()


@register_transform("edge_candidates", version=1, paper="Qian et al., PR-MPNN, ICLR 2024 (candidate edges)",
                    hparams={"pool": HParam(int, 0, "keep the `pool` farthest non-edges (0: every non-edge)", low=0)},
                    outputs={"cand_index": NodeIndex(dim=1)})
def edge_candidates(graph: dgl.DGLGraph, extras: dict, *, pool: int) -> TransformResult:
    """Non-adjacent pairs u < v an upstream rewirer may add (``cand_index`` [2, C], offset per batch)."""
    return TransformResult(extras={"cand_index": edge_candidates_of(graph, pool)})
