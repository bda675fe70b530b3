"""Positional and structural encodings as registered transforms: RWSE, LapPE, shortest-path distances.

- ``rwse``: random-walk return probabilities (Dwivedi et al., ICLR 2022), exact, never an n × n matrix above
  ``DENSE_MAX_NODES`` nodes (column blocks of the sparse walk matrix instead), so PubMed-sized graphs work.
- ``lappe``: the k eigenvectors of the symmetric normalised Laplacian after the trivial one (Dwivedi et al.,
  "Benchmarking GNNs", 2020; GraphGPS), zero-padded for graphs with fewer nodes; their signs are flipped at random
  per graph while training (the declared ``sign_flip`` augmentation, applied by the trainer's collator).
- ``spd``: exact shortest-path distances between node pairs (BFS, unweighted), ``∞`` replaced by the declared
  ``unreachable`` value *before* the integer cast, as a pair list (``spd_index`` ``[2, P]`` node ids, ``spd``
  ``[P]``) that a batch offsets like any node-index tensor.
"""

from __future__ import annotations

import dgl
import numpy as np
import scipy.sparse as sp
import scipy.sparse.csgraph as csgraph
import torch

from graphbench.hparams import HParam
from graphbench.transforms.base import Concat, Node, NodeIndex, TransformResult, register_transform

DENSE_MAX_NODES = 2048  # dense n × n float64 up to 32 MiB; above, column blocks of the sparse walk matrix
BLOCK_BYTES = 64 * 2 ** 20  # memory for one block of walk columns
SPD_MAX_PAIRS = 4_000_000  # all-pairs distances above this need a `cutoff`
BFS_DENSE_MAX_NODES = 256  # all-sources BFS as boolean matrix products up to this size, scipy's Dijkstra above


def _dense_adjacency(graph: dgl.DGLGraph) -> np.ndarray:
    """``a[u, v] = 1`` for every edge ``u → v`` (parallel edges once), float64; for small graphs, where scipy's
    sparse bookkeeping costs more than the arithmetic."""
    n = graph.num_nodes()
    src, dst = (t.numpy() for t in graph.edges())
    a = np.zeros((n, n))
    a[src, dst] = 1.0
    return a


def _adjacency(graph: dgl.DGLGraph) -> sp.csr_matrix:
    n = graph.num_nodes()
    src, dst = (t.numpy() for t in graph.edges())
    a = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(n, n))
    a.sum_duplicates()
    a.data[:] = 1.0  # a multigraph's parallel edges count once, as in an adjacency matrix
    return a


def random_walk_se(graph: dgl.DGLGraph, steps: int, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Random-walk structural encoding ``p_i = [RW_ii, RW²_ii, …, RW^k_ii]`` with ``RW = A D⁻¹`` (RW_ji is the
    probability to step from i to j; edges as stored, so an undirected graph stores both directions): the
    probability that a walk from ``i`` is back at ``i`` after 1..k steps. ``[num_nodes, steps]``, ``dtype``
    (computed in float64; float32 by default).

    Exact for every size: dense for small graphs; above ``DENSE_MAX_NODES`` the walk matrix stays sparse and is
    applied to blocks of unit columns (``X ← RW X``), keeping only each block's diagonal, so memory is
    O(edges + n · block) and time O(steps · edges · n / block) sparse products.
    """
    n = graph.num_nodes()
    if n == 0:
        return torch.zeros(0, steps, dtype=dtype)
    out = np.empty((n, steps))
    if n <= DENSE_MAX_NODES:
        a = _dense_adjacency(graph)
        deg = a.sum(axis=1)
        rw = a.T * np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)[None, :]
        power = rw
        for k in range(steps):
            out[:, k] = power.diagonal()
            if k + 1 < steps:
                power = rw @ power
        return torch.from_numpy(out).to(dtype)
    a = _adjacency(graph)  # a[u, v] = 1 for an edge u -> v
    deg = np.asarray(a.sum(axis=1)).ravel()
    inv = np.divide(1.0, deg, out=np.zeros_like(deg), where=deg > 0)
    rw = sp.csr_matrix(a.T.multiply(inv[None, :]))  # column u: one-step distribution of a walk from u
    block = max(1, min(n, BLOCK_BYTES // (8 * n)))
    for start in range(0, n, block):
        cols = np.arange(start, min(start + block, n))
        x = np.zeros((n, len(cols)))
        x[cols, np.arange(len(cols))] = 1.0
        for k in range(steps):
            x = rw @ x
            out[cols, k] = x[cols, np.arange(len(cols))]
    return torch.from_numpy(out).to(dtype)


@register_transform("rwse", version=2, paper="Dwivedi et al., ICLR 2022 (LSPE)",
                    hparams={"steps": HParam(int, 16, "walk lengths 1..steps (the encoding's width)", low=1)},
                    outputs={"rwse": Node(role="pe", width="steps")})
def rwse(graph: dgl.DGLGraph, extras: dict, *, steps: int) -> TransformResult:
    """Random-walk structural encoding: the return probabilities of random walks of length 1..steps
    (sparse and exact for large graphs)."""
    return TransformResult(ndata={"rwse": random_walk_se(graph, steps)})


def laplacian_pe(graph: dgl.DGLGraph, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(eigvecs [n, k], eigvals [k])`` of ``L = I − D^{-1/2} A D^{-1/2}`` (A symmetrised), ascending, the first
    (trivial) pair dropped, zero-padded when ``n ≤ k``. Dense ``eigh`` up to ``DENSE_MAX_NODES`` nodes, else
    ``scipy.sparse.linalg.eigsh``."""
    n = graph.num_nodes()
    m = min(k + 1, n)
    if n <= DENSE_MAX_NODES:
        a = _dense_adjacency(graph)
        a = np.maximum(a, a.T)
        deg = a.sum(axis=1)
        inv_sqrt = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0)
        # torch's eigh: numpy's (OpenBLAS) is ~20x slower on the highly degenerate spectra of small trees
        vals, vecs = torch.linalg.eigh(torch.from_numpy(np.eye(n) - inv_sqrt[:, None] * a * inv_sqrt[None, :]))
        vals, vecs = vals[:m].numpy(), vecs[:, :m].numpy()
    else:
        from scipy.sparse.linalg import eigsh

        a = _adjacency(graph)
        a = ((a + a.T) > 0).astype(np.float64)
        deg = np.asarray(a.sum(axis=1)).ravel()
        inv_sqrt = np.divide(1.0, np.sqrt(deg), out=np.zeros_like(deg), where=deg > 0)
        lap = sp.identity(n) - sp.diags(inv_sqrt) @ a @ sp.diags(inv_sqrt)
        vals, vecs = eigsh(lap.tocsc(), k=m, which="SA", tol=1e-6, v0=np.ones(n))
        order = np.argsort(vals)
        vals, vecs = vals[order], vecs[:, order]
    vecs, vals = vecs[:, 1:], vals[1:]
    out_vecs, out_vals = np.zeros((n, k)), np.zeros(k)
    out_vecs[:, :vecs.shape[1]], out_vals[:len(vals)] = vecs, vals
    return torch.from_numpy(out_vecs).float(), torch.from_numpy(out_vals).float()


@register_transform("lappe", version=1, paper="Dwivedi et al., 'Benchmarking GNNs' (2020); Rampášek et al., "
                    "GraphGPS (NeurIPS 2022)",
                    hparams={"k": HParam(int, 8, "eigenvectors after the trivial one (the encoding's width)", low=1)},
                    outputs={"lappe": Node(role="pe", width="k", augment="sign_flip"), "lappe_eigval": Node()})
def lappe(graph: dgl.DGLGraph, extras: dict, *, k: int) -> TransformResult:
    """Laplacian eigenvector PE: the k lowest non-trivial eigenvectors of the symmetric normalised Laplacian
    (zero-padded), with random sign flips per graph while training; eigenvalues in ``lappe_eigval``."""
    vecs, vals = laplacian_pe(graph, k)
    return TransformResult(ndata={"lappe": vecs, "lappe_eigval": vals.expand(graph.num_nodes(), k).contiguous()})


def shortest_path_distances(graph: dgl.DGLGraph, *, cutoff: int = 0, unreachable: int = -1
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(pairs [2, P] long, dist [P] long)``: exact hop distances from ``pairs[0]`` to ``pairs[1]`` along edge
    directions (BFS). Every ordered pair (self-pairs with distance 0 included) when ``cutoff == 0``; otherwise
    only the pairs with ``dist ≤ cutoff``. Unreachable pairs get ``unreachable``, substituted for ``∞`` in
    float64 before the cast to integers (``int(inf)`` is undefined behaviour in numpy / torch casts)."""
    n = graph.num_nodes()
    if cutoff == 0 and n * n > SPD_MAX_PAIRS:
        raise ValueError(f"all-pairs distances of a {n}-node graph are {n * n} pairs (> {SPD_MAX_PAIRS}); "
                         "set the transform's cutoff to keep only pairs within that many hops")
    limit = np.inf if cutoff == 0 else float(cutoff)
    if n <= BFS_DENSE_MAX_NODES:
        dist = dense_bfs(_dense_adjacency(graph) > 0, limit)
    else:
        dist = csgraph.dijkstra(_adjacency(graph), directed=True, unweighted=True, limit=limit)
    if cutoff == 0:
        dist = np.where(np.isinf(dist), float(unreachable), dist)  # ∞ → declared value, before any cast
        src, dst = np.divmod(np.arange(n * n), n)
        return torch.from_numpy(np.stack([src, dst])).long(), torch.from_numpy(dist.reshape(-1).astype(np.int64))
    src, dst = np.nonzero(np.isfinite(dist))
    return torch.from_numpy(np.stack([src, dst])).long(), torch.from_numpy(dist[src, dst].astype(np.int64))


def dense_bfs(adj: np.ndarray, limit: float) -> np.ndarray:
    """Hop distances from every source at once (frontier × adjacency per level), up to ``limit`` hops; ∞ where
    unreachable. ``adj[u, v]``: an edge ``u → v`` (bool). Also the subgraph product graph's distances on small
    graphs (:func:`graphbench.subgraph.product.shortest_path_distances`)."""
    n = len(adj)
    dist = np.full((n, n), np.inf)
    np.fill_diagonal(dist, 0.0)
    reached = np.eye(n, dtype=bool)
    frontier, step, a = reached.copy(), 0, adj.astype(np.float32)
    while frontier.any() and step < limit:
        step += 1
        frontier = ((frontier.astype(np.float32) @ a) > 0) & ~reached
        dist[frontier] = step
        reached |= frontier
    return dist


@register_transform("spd", version=1, paper="exact BFS distances (Graphormer, DRew, subgraph GNNs)",
                    hparams={"cutoff": HParam(int, 0, "keep pairs within this many hops (0: every pair)", low=0),
                             "unreachable": HParam(int, -1, "distance given to unreachable pairs (replaces ∞)")},
                    outputs={"spd_index": NodeIndex(dim=1), "spd": Concat()})
def spd(graph: dgl.DGLGraph, extras: dict, *, cutoff: int, unreachable: int) -> TransformResult:
    """Shortest-path distances as a pair list: ``spd_index`` [2, P] (node ids, offset per batch) and ``spd`` [P];
    ∞ clamped to ``unreachable`` before the integer cast."""
    pairs, dist = shortest_path_distances(graph, cutoff=cutoff, unreachable=unreachable)
    return TransformResult(extras={"spd_index": pairs, "spd": dist})
