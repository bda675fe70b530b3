"""Exact shortest-path hop rings as a registered, cached transform (DRew's k-hop edge sets).

``hops`` (parameter ``k``) lists every ordered node pair ``(i, j)`` with ``1 ≤ d_G(i, j) ≤ k``, where ``d_G`` is the
exact shortest-path (BFS) distance along edge directions, as a pair list ``hop_index`` ``[2, P]`` (source, target;
messages flow ``hop_index[0] → hop_index[1]``) and its distances ``hop_dist`` ``[P]``. The batch offsets
``hop_index`` by each graph's node offset (it is a ``NodeIndex(dim=1)``), so a model never offsets by hand.

These are DRew's rings ``A_k = {(i, j) : d(i, j) = k}`` (Gutteridge et al., ICML 2023, §3;
``make_k_hop_edges.py`` in the reference code), *not* walk-count k-hop graphs (``dgl.khop_graph`` connects nodes
joined by any walk of length k, which includes nodes at distance k − 2, k − 4, … and the node itself). Pairs
that are unreachable or farther than ``k`` are not listed; self-pairs (distance 0) neither. Within a graph the
pairs are sorted by (distance, source, target), so the output is deterministic.

The distances are the same BFS as the ``spd`` transform (``graphbench.transforms.pe.shortest_path_distances``
with ``cutoff=k``); the transform is deterministic and cached with the dataset like any chain.
"""

from __future__ import annotations

import dgl
import torch

from graphbench.hparams import HParam
from graphbench.transforms.base import Concat, NodeIndex, TransformResult, register_transform
from graphbench.transforms.pe import shortest_path_distances


def hop_pairs(graph: dgl.DGLGraph, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(pairs [2, P] long, dist [P] long)``: every ordered pair at exact hop distance 1..k, sorted by
    (distance, source, target)."""
    if k < 1:
        raise ValueError(f"hops: k must be >= 1, got {k}")
    pairs, dist = shortest_path_distances(graph, cutoff=k)
    keep = dist > 0
    pairs, dist = pairs[:, keep], dist[keep]
    n = max(graph.num_nodes(), 1)
    order = torch.argsort((dist * n + pairs[0]) * n + pairs[1])
    return pairs[:, order].contiguous(), dist[order].contiguous()


@register_transform("hops", version=1, paper="Gutteridge, Dong, Bronstein, Di Giovanni, DRew, ICML 2023 (exact "
                    "shortest-path k-hop rings)",
                    hparams={"k": HParam(int, 4, "largest hop distance listed (pairs at distance 1..k)", low=1)},
                    outputs={"hop_index": NodeIndex(dim=1), "hop_dist": Concat()})
def hops(graph: dgl.DGLGraph, extras: dict, *, k: int) -> TransformResult:
    """Exact hop rings 1..k as a pair list: ``hop_index`` [2, P] (node ids, offset per batch) and ``hop_dist`` [P]
    (BFS distances; pairs farther than k or unreachable are left out)."""
    pairs, dist = hop_pairs(graph, k)
    return TransformResult(extras={"hop_index": pairs, "hop_dist": dist})
