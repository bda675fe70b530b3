"""Shared plumbing of the rewiring algorithms: input graphs, the simple undirected skeleton they work on, and the
result type every pre-processing rewiring returns.

Every rewiring here reads its input as a *simple undirected* graph: edge directions are forgotten, self-loops and
parallel edges are dropped (``adjacency``). Its output (``Rewiring``) keeps the input's own directed edges untouched
(self-loops and parallel edges included, so edge features can be carried over by edge id), drops the input edges
between removed pairs, and appends the added pairs. Edge types: ``0`` marks an input edge and ``≥ 1`` an added one,
except LASER, which labels by radius (see ``graphbench.rewiring.laser``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dgl
import numpy as np
import torch

#: Dense n × n work (distances, pseudo-inverses, matrix powers) above this many nodes is refused with a clear error.
MAX_NODES = 10_000

EdgeList = tuple[np.ndarray, np.ndarray]
GraphLike = dgl.DGLGraph | EdgeList


def edge_arrays(graph: GraphLike, num_nodes: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """``(src, dst, num_nodes)`` as int64 numpy arrays from a DGL graph or an edge list ``(src, dst)``.

    For an edge list ``num_nodes`` is required (isolated nodes exist only through it); for a DGL graph it must be
    omitted or equal ``graph.num_nodes()``.
    """
    if isinstance(graph, dgl.DGLGraph):
        if graph.is_block or len(graph.ntypes) != 1 or len(graph.etypes) != 1:
            raise ValueError("rewiring works on homogeneous graphs; convert with dgl.to_homogeneous first")
        n = graph.num_nodes()
        if num_nodes is not None and num_nodes != n:
            raise ValueError(f"num_nodes={num_nodes} contradicts the DGL graph's {n} nodes; leave it out")
        src, dst = graph.edges()
        return src.cpu().numpy().astype(np.int64), dst.cpu().numpy().astype(np.int64), n
    if not isinstance(graph, tuple | list) or len(graph) != 2:
        raise TypeError(f"expected a DGL graph or an edge list (src, dst); got {type(graph).__name__}")
    if num_nodes is None:
        raise ValueError("an edge list needs num_nodes (isolated nodes are otherwise invisible)")
    src = np.asarray(graph[0].cpu() if isinstance(graph[0], torch.Tensor) else graph[0]).astype(np.int64).ravel()
    dst = np.asarray(graph[1].cpu() if isinstance(graph[1], torch.Tensor) else graph[1]).astype(np.int64).ravel()
    if src.shape != dst.shape:
        raise ValueError(f"src and dst differ in length ({src.size} vs {dst.size})")
    if src.size and (min(src.min(), dst.min()) < 0 or max(src.max(), dst.max()) >= num_nodes):
        raise ValueError(f"edge endpoints must lie in [0, {num_nodes}); got [{min(src.min(), dst.min())}, "
                         f"{max(src.max(), dst.max())}]")
    return src, dst, int(num_nodes)


def check_size(n: int, what: str) -> None:
    if n > MAX_NODES:
        raise ValueError(f"{what} keeps dense {n} x {n} matrices; {n} nodes is more than the {MAX_NODES} allowed "
                         f"(it is meant for per-graph pre-processing of graph-level datasets)")


def adjacency(graph: GraphLike, num_nodes: int | None = None) -> np.ndarray:
    """Dense boolean adjacency of the simple undirected skeleton: symmetric, no self-loops, no multi-edges."""
    src, dst, n = edge_arrays(graph, num_nodes)
    check_size(n, "rewiring")
    a = np.zeros((n, n), dtype=bool)
    a[src, dst] = True
    a[dst, src] = True
    np.fill_diagonal(a, False)
    return a


def undirected_pairs(adj: np.ndarray) -> np.ndarray:
    """The edges of a symmetric adjacency as ``[m, 2]`` pairs ``u < v`` in lexicographic order."""
    u, v = np.nonzero(np.triu(adj, k=1))
    return np.stack([u, v], axis=1).astype(np.int64)


def connected_components(adj: np.ndarray) -> np.ndarray:
    """Component label per node of a symmetric adjacency (scipy's BFS labelling)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components as cc

    _, labels = cc(csr_matrix(adj), directed=False)
    return labels.astype(np.int64)


def _pairs(x: np.ndarray | list) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    return x.reshape(-1, 2) if x.size else np.zeros((0, 2), dtype=np.int64)


@dataclass(frozen=True)
class Rewiring:
    """A rewired graph: the input's directed edges that survive, then the added ones.

    Attributes:
        num_nodes: number of nodes (rewiring never adds or removes nodes).
        src, dst: int64 ``[E']`` directed edges of the rewired graph.
        etype: int64 ``[E']`` edge type of each edge (``0`` input edge and ``≥ 1`` added, unless the algorithm says
            otherwise: LASER uses the radius).
        orig_eid: int64 ``[E']`` id of the input edge each edge is (``-1`` for added edges), to carry edge features.
        added: int64 ``[a, 2]`` the added node pairs in the order they were chosen (for a symmetric rewiring each
            pair is present in both directions in ``src``/``dst``).
        added_etype: int64 ``[a]`` edge type of each added pair.
        removed: int64 ``[r, 2]`` the removed pairs ``u < v`` (every input edge between them, both directions, is
            gone).
        orig_etype: the type given to input edges (0; LASER: 1).
    """

    num_nodes: int
    src: np.ndarray
    dst: np.ndarray
    etype: np.ndarray
    orig_eid: np.ndarray
    added: np.ndarray
    added_etype: np.ndarray
    removed: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))
    orig_etype: int = 0

    @property
    def num_added(self) -> int:
        return int(self.added.shape[0])

    @property
    def num_removed(self) -> int:
        return int(self.removed.shape[0])

    @property
    def num_edge_types(self) -> int:
        return int(self.etype.max()) + 1 if self.etype.size else 1

    def edge_list(self) -> EdgeList:
        return self.src, self.dst

    def to_dgl(self, like: dgl.DGLGraph | None = None, *, etype_key: str = "etype",
               added_edge_fill: float = 0.0) -> dgl.DGLGraph:
        """The rewired graph as a DGL graph with ``edata[etype_key]``.

        With ``like`` (the input graph), its node data are copied and its edge data are carried over to the
        surviving input edges by id; added edges get ``added_edge_fill`` in every edge-data field (LASER's reference
        code gives added edges a constant 0.1 feature; a registration chooses). If ``like`` already has edge types
        (a rewiring applied after another), input edges keep theirs and the added types are shifted past the largest
        one (GTR's reference does the same), so chained rewirings never merge relations.
        """
        g = dgl.graph((torch.from_numpy(self.src), torch.from_numpy(self.dst)), num_nodes=self.num_nodes)
        etype = torch.from_numpy(self.etype.copy())
        if like is not None and etype_key in like.edata:
            old = like.edata[etype_key].long()
            is_orig = torch.from_numpy(self.orig_eid >= 0)
            shift = int(old.max()) + 1 - (self.orig_etype + 1) if old.numel() else 0
            etype[is_orig] = old[torch.from_numpy(self.orig_eid[self.orig_eid >= 0])]
            etype[~is_orig] += shift
        g.edata[etype_key] = etype
        if like is not None:
            if like.num_nodes() != self.num_nodes:
                raise ValueError(f"like has {like.num_nodes()} nodes, the rewiring {self.num_nodes}")
            for key, value in like.ndata.items():
                g.ndata[key] = value
            keep = torch.from_numpy(self.orig_eid)
            is_orig = keep >= 0
            for key, value in like.edata.items():
                if key == etype_key:
                    continue
                out = torch.full((g.num_edges(), *value.shape[1:]), added_edge_fill, dtype=value.dtype)
                out[is_orig] = value[keep[is_orig]]
                g.edata[key] = out
        return g


def assemble(src: np.ndarray, dst: np.ndarray, n: int, added: np.ndarray | list, added_etype: np.ndarray | list,
             removed: np.ndarray | list = (), *, symmetric: bool = True, orig_etype: int = 0) -> Rewiring:
    """Build a ``Rewiring`` from the input edges, the added pairs (with types) and the removed pairs.

    ``symmetric`` adds each pair ``(u, v)`` as ``u → v`` and ``v → u``; otherwise as ``u → v`` only.
    """
    added = _pairs(added)
    added_etype = np.asarray(added_etype, dtype=np.int64).ravel()
    if added_etype.size != added.shape[0]:
        raise ValueError("one edge type per added pair")
    removed = _pairs(removed)
    keep = np.ones(src.size, dtype=bool)
    if removed.size:
        gone = np.zeros((n, n), dtype=bool)
        gone[removed[:, 0], removed[:, 1]] = True
        gone[removed[:, 1], removed[:, 0]] = True
        keep = ~gone[src, dst]
    eid = np.nonzero(keep)[0].astype(np.int64)
    if symmetric:
        a_src = np.concatenate([added[:, 0], added[:, 1]])
        a_dst = np.concatenate([added[:, 1], added[:, 0]])
        a_type = np.concatenate([added_etype, added_etype])
    else:
        a_src, a_dst, a_type = added[:, 0], added[:, 1], added_etype
    return Rewiring(
        num_nodes=n,
        src=np.concatenate([src[eid], a_src]).astype(np.int64),
        dst=np.concatenate([dst[eid], a_dst]).astype(np.int64),
        etype=np.concatenate([np.full(eid.size, orig_etype, dtype=np.int64), a_type]).astype(np.int64),
        orig_eid=np.concatenate([eid, np.full(a_src.size, -1, dtype=np.int64)]),
        added=added,
        added_etype=added_etype,
        removed=removed,
        orig_etype=orig_etype,
    )


def from_edits(src: np.ndarray, dst: np.ndarray, n: int, before: np.ndarray, after: np.ndarray,
               order: list[tuple[int, int]]) -> Rewiring:
    """``Rewiring`` of an add-and-remove algorithm (SDRF, BORF) from the skeleton ``before`` and ``after`` it ran.

    Only the net change counts: a pair added and later removed is neither; an input edge removed and later re-added
    stays an input edge. ``order`` lists every pair the algorithm added, in order; the net additions keep that order
    and get ``etype = 1``.
    """
    added, seen = [], set()
    for u, v in order:
        key = (min(u, v), max(u, v))
        if key not in seen and after[key] and not before[key]:
            seen.add(key)
            added.append(key)
    removed = undirected_pairs(before & ~after)
    return assemble(src, dst, n, added, np.ones(len(added), dtype=np.int64), removed)
