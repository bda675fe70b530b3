"""Path sets for PathNN (Michel et al., "Path Neural Networks: Expressive and Accurate Graph Neural Networks",
ICML 2023, §3 and the pre-processing of the reference code; docs/models/pathnn.md §1) as pure functions of a
graph's edge list.

Three path families, for a cutoff ``K`` = the largest number of **nodes** on a path (so lengths ℓ = 1 … K−1
edges, as the paper's ``cutoff``):

``"sp"`` (PathNN-SP)
    For each unordered pair {u, v} with 1 ≤ d(u, v) ≤ K−1, **one** shortest path, used in both directions. The
    paper takes igraph's (implementation-defined) choice; here it is chosen deterministically: the
    lexicographically smallest node sequence among the shortest paths that start at the smaller label
    ``min(u, v)``, and its reverse for the other direction. Like the paper's, this set depends on the node order.
``"sp+"`` (PathNN-SP+)
    **All** shortest paths between each such pair, in both directions. Independent of the node order.
``"ap"`` (PathNN-AP)
    **All simple paths** with 1 … K−1 edges starting at each node (each path once per end, so twice in all).
    Independent of the node order.

The graph is treated as undirected and simple (both directions of an edge, self-loops dropped, multi-edges
merged), as the reference code converts every graph with ``to_networkx(to_undirected=True)``.

Conventions of the returned :class:`PathSet` (those of the reference code, whose tensors are ``path_{ℓ+1}``,
``sp_dists_{ℓ+1}`` and ``edge_indices_{ℓ+1}``):

* ``paths[ℓ]`` is a LongTensor ``[num_paths, ℓ + 1]``; row ``(w_0, …, w_ℓ)`` is a path whose **last** node
  ``w_ℓ`` is the **anchor**, the node whose state the path updates (Eq. 2: the paths of a node are the paths
  that start at it; the reference stores them reversed, so that the LSTM reads the anchor last).
* ``dists[ℓ]`` ``[num_paths, ℓ + 1]``: ``dists[ℓ][p, t] = d(w_t, w_ℓ)``, the shortest-path distance of each
  node to the anchor — the AP distance encoding (so the last column is 0). For SP and SP+ it is simply ``ℓ − t``.
* ``edge_ids[ℓ]`` ``[num_paths, ℓ]``: ``edge_ids[ℓ][p, t − 1]`` is the id (position in the given edge list) of
  the edge ``w_{t−1} → w_t`` (if only ``w_t → w_{t−1}`` is listed, that one; with multi-edges the smallest id),
  for the edge-feature part of the LSTM token at step ``t``.
* Within one length, rows are sorted lexicographically by the anchor-first sequence (anchor, w_{ℓ−1}, …, w_0),
  so the output is deterministic.

Enumeration is vectorised frontier expansion in NumPy over CSR adjacency (no Python loop over nodes or paths):
each step extends every path of the previous length by every neighbour of its end and filters the candidates
(AP: the neighbour is not already on the path; SP+: the neighbour is first reached at this distance from the
start; SP: additionally only the lexicographically smallest path per (start, end) survives, which is exact
because the prefix of a lexicographically smallest shortest path is itself one). Many small graphs are best
enumerated together as one disjoint union (:func:`enumerate_many`), which amortises NumPy's per-call overhead.

A path set can explode (AP on dense graphs grows like degree^ℓ). ``max_paths`` caps the number of paths of one
graph (all lengths together); a graph above it raises :class:`PathLimitError` with its size and what to change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from graphbench.transforms.base import TransformInputError

PATH_KINDS = ("sp", "sp+", "ap")
#: Default cap on the paths of one graph (all lengths together). ZINC at K = 5 (AP) needs a few hundred.
DEFAULT_MAX_PATHS = 1_000_000
#: Candidate rows materialised at once while extending paths (bounds the working memory, not the result).
_CHUNK = 1 << 21


class PathLimitError(TransformInputError):
    """A graph has more paths than the configured cap; the message names the graph, its size and the remedy (a
    ``ValueError``; through the ``paths`` transform the message also names the dataset and the graph's index)."""


@dataclass(frozen=True)
class PathSet:
    """The paths of one graph, grouped by length ℓ (edges); see the module docstring for the conventions."""

    kind: str
    cutoff: int
    num_nodes: int
    paths: dict[int, torch.Tensor]
    dists: dict[int, torch.Tensor]
    edge_ids: dict[int, torch.Tensor] | None = field(default=None)

    @property
    def lengths(self) -> list[int]:
        return list(range(1, self.cutoff))

    def counts(self) -> dict[int, int]:
        """Number of paths per length ℓ."""
        return {length: int(p.shape[0]) for length, p in self.paths.items()}

    def total(self) -> int:
        return sum(self.counts().values())


# -- adjacency -----------------------------------------------------------------------------------------------------
def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.int64).reshape(-1)


def _unique(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a sort and a mask: faster than ``np.unique``'s hashing on these integer codes)."""
    a = np.sort(a)
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


def _csr(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric, simple CSR adjacency (indptr, indices), neighbours sorted ascending."""
    a = np.concatenate([src, dst])
    b = np.concatenate([dst, src])
    keep = a != b
    codes = _unique(a[keep] * n + b[keep])
    rows, cols = codes // n, codes % n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return indptr, cols


def _extend(cur: np.ndarray, indptr: np.ndarray, indices: np.ndarray, start: int, stop: int) -> np.ndarray:
    """All one-edge extensions of rows ``cur[start:stop]`` (a new last column), in row-major order."""
    part = cur[start:stop]
    last = part[:, -1]
    deg = indptr[last + 1] - indptr[last]
    total = int(deg.sum())
    rep = np.repeat(np.arange(len(part)), deg)
    first = np.cumsum(deg) - deg
    nbr = indices[indptr[last][rep] + (np.arange(total) - first[rep])]
    return np.concatenate([part[rep], nbr[:, None]], axis=1)


def _chunks(cur: np.ndarray, indptr: np.ndarray):
    """Row ranges of ``cur`` whose extensions each hold at most ~_CHUNK candidates."""
    last = cur[:, -1]
    work = np.cumsum(indptr[last + 1] - indptr[last])
    lo = 0
    while lo < len(cur):
        base = work[lo - 1] if lo else 0
        hi = int(np.searchsorted(work, base + _CHUNK, side="right"))
        hi = max(hi, lo + 1)
        yield lo, hi
        lo = hi


def _in_sorted(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    if len(sorted_codes) == 0:
        return np.zeros(len(codes), dtype=bool)
    pos = np.searchsorted(sorted_codes, codes)
    pos[pos == len(sorted_codes)] = 0
    return sorted_codes[pos] == codes


def _lex_sort(rows: np.ndarray) -> np.ndarray:
    """Rows sorted lexicographically (first column most significant)."""
    if len(rows) == 0:
        return rows
    return rows[np.lexsort(rows.T[::-1])]


def _first_per_pair(rows: np.ndarray, n: int) -> np.ndarray:
    """Of lexicographically sorted rows, the first one per (first, last) node pair."""
    codes = rows[:, 0] * n + rows[:, -1]
    order = np.argsort(codes, kind="stable")  # stable: the lexicographically first row of each pair leads
    sorted_codes = codes[order]
    lead = np.ones(len(codes), dtype=bool)
    lead[1:] = sorted_codes[1:] != sorted_codes[:-1]
    return _lex_sort(rows[np.sort(order[lead])])


# -- the three families ----------------------------------------------------------------------------------------------
def _expand(kind: str, cutoff: int, n: int, indptr: np.ndarray, indices: np.ndarray,
            check) -> dict[int, np.ndarray]:
    """Paths oriented start → end (start = anchor), per length ℓ = 1 … cutoff−1."""
    out: dict[int, np.ndarray] = {}
    cur = np.arange(n, dtype=np.int64)[:, None]
    seen = np.arange(n, dtype=np.int64) * (n + 1)  # codes start*n + node reached so far (d ≤ ℓ); sorted
    for length in range(1, cutoff):
        kept = []
        for lo, hi in _chunks(cur, indptr):
            cand = _extend(cur, indptr, indices, lo, hi)
            if kind == "ap":
                cand = cand[~(cand[:, :-1] == cand[:, -1:]).any(axis=1)]
            else:  # shortest paths: the new end is first reached at this distance from the start
                cand = cand[~_in_sorted(seen, cand[:, 0] * n + cand[:, -1])]
            kept.append(cand)
        cur = np.concatenate(kept) if kept else np.empty((0, length + 1), dtype=np.int64)
        if kind == "sp":
            cur = _first_per_pair(_lex_sort(cur), n)
        if kind != "ap":
            seen = _unique(np.concatenate([seen, cur[:, 0] * n + cur[:, -1]]))
        out[length] = cur
        check(out)
        if len(cur) == 0:
            for rest in range(length + 1, cutoff):
                out[rest] = np.empty((0, rest + 1), dtype=np.int64)
            break
    if kind == "sp":  # one path per unordered pair, from the smaller label, used in both directions
        for length, rows in out.items():
            rows = rows[rows[:, 0] < rows[:, -1]]
            out[length] = np.concatenate([rows, rows[:, ::-1]])
    return out


def _distances(n: int, indptr: np.ndarray, indices: np.ndarray, max_d: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted codes ``u*n + v`` of all pairs with d(u, v) ≤ max_d and their distances (BFS from all nodes at once)."""
    codes = [np.arange(n, dtype=np.int64) * (n + 1)]
    dist = [np.zeros(n, dtype=np.int64)]
    seen = codes[0]
    frontier = np.stack([np.arange(n), np.arange(n)], axis=1)  # (start, node)
    for d in range(1, max_d + 1):
        if len(frontier) == 0:
            break
        ext = _extend(frontier, indptr, indices, 0, len(frontier))
        new = _unique(ext[:, 0] * n + ext[:, -1])
        new = new[~_in_sorted(seen, new)]
        codes.append(new)
        dist.append(np.full(len(new), d, dtype=np.int64))
        seen = _unique(np.concatenate([seen, new]))
        frontier = np.stack([new // n, new % n], axis=1)
    all_codes, all_dist = np.concatenate(codes), np.concatenate(dist)
    order = np.argsort(all_codes)
    return all_codes[order], all_dist[order]


def _edge_lookup(src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Sorted codes ``a*n + b`` and the edge id for each: the id of a → b, else of b → a (smallest on ties)."""
    ids = np.arange(len(src), dtype=np.int64)
    fwd, rev = src * n + dst, dst * n + src
    codes = np.concatenate([fwd, rev])
    prio = np.concatenate([np.zeros(len(src)), np.ones(len(src))])  # a listed direction beats the reverse
    order = np.lexsort((np.concatenate([ids, ids]), prio, codes))
    codes, eid = codes[order], np.concatenate([ids, ids])[order]
    first = np.ones(len(codes), dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    return codes[first], eid[first]


def _orient(kind: str, rows: dict[int, np.ndarray], n: int, indptr, indices, cutoff, src, dst, with_edges):
    """Anchor-last tensors, distances and edge ids from start-first rows."""
    paths, dists, edges = {}, {}, {}
    if kind == "ap" and cutoff > 1:
        dcodes, dvals = _distances(n, indptr, indices, cutoff - 1)
    if with_edges:
        ecodes, evals = _edge_lookup(src, dst, n)
    for length, r in rows.items():
        r = _lex_sort(r)  # anchor-first order, deterministic
        flipped = np.ascontiguousarray(r[:, ::-1])
        paths[length] = torch.from_numpy(flipped)
        if kind == "ap":
            d = dvals[np.searchsorted(dcodes, r[:, :1] * n + r)][:, ::-1] if len(r) else r.copy()
        else:
            d = np.tile(np.arange(length, -1, -1), (len(flipped), 1))
        dists[length] = torch.from_numpy(np.ascontiguousarray(d))
        if with_edges:
            codes = flipped[:, :-1] * n + flipped[:, 1:]
            edges[length] = torch.from_numpy(evals[np.searchsorted(ecodes, codes)] if len(codes) else
                                             np.empty((0, length), dtype=np.int64))
    return paths, dists, (edges if with_edges else None)


def _validate(kind: str, cutoff: int) -> str:
    k = kind.lower()
    if k not in PATH_KINDS:
        raise ValueError(f"unknown path kind {kind!r}; choose one of {', '.join(PATH_KINDS)}")
    if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 2:
        raise ValueError(f"cutoff (the most nodes on a path, K) must be an integer >= 2, got {cutoff!r}")
    return k


def _limit_error(kind, cutoff, max_paths, counts, n_nodes, n_edges, which=""):
    return PathLimitError(
        f"{which}graph with {n_nodes} nodes and {n_edges} edges has more than {max_paths} {kind.upper()} paths "
        f"at cutoff K={cutoff} (so far per length: {counts}); lower the cutoff, use kind 'sp', or raise "
        "max_paths if the memory allows")


def enumerate_paths(src, dst, num_nodes: int, kind: str, cutoff: int, *, max_paths: int | None = DEFAULT_MAX_PATHS,
                    edge_ids: bool = True) -> PathSet:
    """The ``kind`` paths (``"sp"``, ``"sp+"`` or ``"ap"``) with 1 … ``cutoff``−1 edges of the graph given by the
    edge list ``src → dst`` on nodes ``0 … num_nodes−1`` (see the module docstring for conventions).

    ``max_paths`` caps the paths of the graph (all lengths); ``None`` means no cap. ``edge_ids=False`` skips the
    edge-id tensors.
    """
    kind = _validate(kind, cutoff)
    src, dst = _as_numpy(src), _as_numpy(dst)
    n = int(num_nodes)
    indptr, indices = _csr(src, dst, n)

    def check(rows):
        if max_paths is not None and sum(len(r) for r in rows.values()) > max_paths:
            raise _limit_error(kind, cutoff, max_paths, {k: len(v) for k, v in rows.items()}, n, len(indices) // 2)

    rows = _expand(kind, cutoff, n, indptr, indices, check)
    if kind == "sp":
        check(rows)
    paths, dists, edges = _orient(kind, rows, n, indptr, indices, cutoff, src, dst, edge_ids)
    return PathSet(kind, cutoff, n, paths, dists, edges)


def graph_paths(graph, kind: str, cutoff: int, **kwargs) -> PathSet:
    """:func:`enumerate_paths` of a DGLGraph (its edge ids are DGL's)."""
    s, d = graph.edges()
    return enumerate_paths(s, d, graph.num_nodes(), kind, cutoff, **kwargs)


def enumerate_many(graphs: Sequence, kind: str, cutoff: int, *, max_paths: int | None = DEFAULT_MAX_PATHS,
                   edge_ids: bool = True, group_nodes: int = 50_000) -> list[PathSet]:
    """:func:`graph_paths` of each DGLGraph in ``graphs``, computed on disjoint unions of up to ``group_nodes``
    nodes at a time (paths never leave a connected component, so the result is identical, only faster).

    ``max_paths`` applies to each graph separately; the error names the graph's position in ``graphs``.
    """
    kind = _validate(kind, cutoff)
    out: list[PathSet] = []
    i = 0
    while i < len(graphs):
        j, nodes = i, 0
        while j < len(graphs) and (j == i or nodes + graphs[j].num_nodes() <= group_nodes):
            nodes += graphs[j].num_nodes()
            j += 1
        out.extend(_enumerate_group(graphs[i:j], i, kind, cutoff, max_paths, edge_ids))
        i = j
    return out


def _enumerate_group(graphs, first_index, kind, cutoff, max_paths, edge_ids) -> list[PathSet]:
    import dgl  # only for batching the edge lists in one call

    batch = dgl.batch(list(graphs))
    sizes = batch.batch_num_nodes().numpy().astype(np.int64)
    esizes = batch.batch_num_edges().numpy().astype(np.int64)
    noff = np.concatenate([[0], np.cumsum(sizes)])
    eoff = np.concatenate([[0], np.cumsum(esizes)])
    s, d = batch.edges()
    src, dst = s.numpy().astype(np.int64), d.numpy().astype(np.int64)
    n = int(noff[-1])
    indptr, indices = _csr(src, dst, n)
    gid_of_node = np.repeat(np.arange(len(graphs)), sizes)

    def check(rows):
        if max_paths is None:
            return
        per_graph = sum(np.bincount(gid_of_node[r[:, 0]], minlength=len(graphs)) for r in rows.values()
                        if len(r))
        if np.ndim(per_graph) and (per_graph > max_paths).any():
            k = int(np.argmax(per_graph > max_paths))
            counts = {length: int((gid_of_node[r[:, 0]] == k).sum()) for length, r in rows.items()}
            raise _limit_error(kind, cutoff, max_paths, counts, int(sizes[k]), int(esizes[k]),
                               which=f"graph {first_index + k}: ")

    rows = _expand(kind, cutoff, n, indptr, indices, check)
    if kind == "sp":
        check(rows)
    paths, dists, edges = _orient(kind, rows, n, indptr, indices, cutoff, src, dst, edge_ids)
    # rows are sorted anchor-first, so each graph's paths are one contiguous block per length: split, then shift
    # node indices and edge ids back to the graph's own numbering (vectorised, one split per tensor)
    noff_t, eoff_t = torch.from_numpy(noff), torch.from_numpy(eoff)
    parts = {}
    for length, p in paths.items():
        gid = torch.from_numpy(gid_of_node)[p[:, -1]]
        counts = torch.bincount(gid, minlength=len(graphs)).tolist()
        parts[length] = (torch.split(p - noff_t[gid][:, None], counts), torch.split(dists[length], counts),
                         torch.split(edges[length] - eoff_t[gid][:, None], counts) if edges is not None else None)
    return [PathSet(kind, cutoff, int(sizes[k]),
                    {length: parts[length][0][k] for length in parts},
                    {length: parts[length][1][k] for length in parts},
                    {length: parts[length][2][k] for length in parts} if edges is not None else None)
            for k in range(len(graphs))]


__all__ = ["DEFAULT_MAX_PATHS", "PATH_KINDS", "PathLimitError", "PathSet", "enumerate_many", "enumerate_paths",
           "graph_paths"]
