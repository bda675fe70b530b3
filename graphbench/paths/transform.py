"""The ``paths`` transform: PathNN's path sets (Michel et al., ICML 2023, §3;
docs/models/pathnn.md §1) as cached per-graph model inputs.

    transforms: [{name: paths, kind: ap, cutoff: 4}]       # or a PathNN model's input_transforms

``cutoff`` is the paper's ``K``: the **most nodes on a path**, so paths have 1 … K−1 edges and PathNN has K−1
layers (layer ℓ reads the paths with ℓ edges). ``kind`` is ``sp`` (one shortest path per pair, both directions),
``sp+`` (all shortest paths) or ``ap`` (all simple paths); see :mod:`graphbench.paths.enumerate`.

Outputs, one row per path, all lengths of a graph in one tensor (lengths ascending), left-aligned and padded with
``-1`` to the ``K`` columns a path of K−1 edges needs, so a batch concatenates them like any index tensor:

``path_nodes`` ``[P, K]`` (:func:`~graphbench.transforms.NodeIndex`: offset by each graph's first node)
    ``(w_0, …, w_ℓ, -1, …)``; the **anchor** (the node the path updates) is the last non-padding entry ``w_ℓ``.
``path_edges`` ``[P, K−1]`` (:func:`~graphbench.transforms.EdgeIndex`: offset by each graph's first edge)
    column ``t−1`` holds the id of the graph's edge ``w_{t−1} → w_t`` (the edge feature of LSTM token ``t``).
``path_dists`` ``[P, K]`` (:func:`~graphbench.transforms.Concat`, int8)
    ``d(w_t, w_ℓ)``, each node's shortest-path distance to the anchor: PathNN-AP's distance encoding (for SP and
    SP+ it is simply ``ℓ − t``).

The transform runs once per dataset and is cached on disk like every chain (:mod:`graphbench.transforms.apply`);
node ids are stored as int32 and distances as int8 to keep the cache small (a batch turns the ids into int64).
``max_paths`` caps the paths of one graph: a graph above it raises :class:`~graphbench.paths.PathLimitError`
naming the dataset, the graph's index and size, the cap and the remedy.
"""

from __future__ import annotations

import dgl
import torch

from graphbench.hparams import HParam
from graphbench.paths.enumerate import PATH_KINDS, PathSet, graph_paths
from graphbench.transforms.base import Concat, EdgeIndex, NodeIndex, TransformResult, register_transform

#: Default cap on one graph's paths in the transform (all lengths): far above molecules (ZINC at K = 5, AP: a few
#: hundred), low enough that a dense graph fails with a clear message before it fills the memory.
TRANSFORM_MAX_PATHS = 200_000
MAX_CUTOFF = 64  # distances are stored as int8; an LSTM over longer paths is not what PathNN does anyway


def padded(ps: PathSet) -> dict[str, torch.Tensor]:
    """A :class:`PathSet` as the transform's three padded tensors (see the module docstring)."""
    k = ps.cutoff
    nodes, edges, dists = [], [], []
    for length in ps.lengths:
        p = ps.paths[length]
        n_rows = p.shape[0]
        pad = k - 1 - length
        nodes.append(torch.cat([p, p.new_full((n_rows, pad), -1)], 1))
        e = ps.edge_ids[length] if ps.edge_ids is not None else p.new_full((n_rows, length), -1)
        edges.append(torch.cat([e, e.new_full((n_rows, pad), -1)], 1))
        d = ps.dists[length]
        dists.append(torch.cat([d, d.new_full((n_rows, pad), -1)], 1))
    return {"path_nodes": torch.cat(nodes).to(torch.int32), "path_edges": torch.cat(edges).to(torch.int32),
            "path_dists": torch.cat(dists).to(torch.int8)}


@register_transform(
    "paths", version=1, paper="Michel et al., Path Neural Networks, ICML 2023",
    hparams={
        "kind": HParam(str, "ap", "sp: one shortest path per pair; sp+: all shortest paths; ap: all simple paths",
                       choices=PATH_KINDS),
        "cutoff": HParam(int, 4, "K, the most nodes on a path (paths of 1..K-1 edges; PathNN has K-1 layers)",
                         low=2, high=MAX_CUTOFF),
        "max_paths": HParam(int, TRANSFORM_MAX_PATHS, "cap on the paths of one graph (all lengths); a graph above "
                            "it is an error naming it", low=1),
    },
    outputs={"path_nodes": NodeIndex(), "path_edges": EdgeIndex(), "path_dists": Concat()})
def paths(graph: dgl.DGLGraph, extras: dict, *, kind: str, cutoff: int, max_paths: int) -> TransformResult:
    """PathNN path sets: every path of 1..cutoff-1 edges (SP, SP+ or AP) with the anchor last, its edge ids and
    each node's distance to the anchor, padded with -1 (the graph is read as undirected and simple)."""
    ps = graph_paths(graph, kind, cutoff, max_paths=max_paths)
    return TransformResult(extras=padded(ps))


def unpad(path_nodes: torch.Tensor) -> torch.Tensor:
    """Each row's path length in edges (``-1`` for an all-padding row): the number of nodes minus one."""
    return (path_nodes >= 0).sum(1) - 1


__all__ = ["MAX_CUTOFF", "TRANSFORM_MAX_PATHS", "padded", "paths", "unpad"]
