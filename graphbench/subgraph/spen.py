"""SPEN — Subgraph Permutation Equivariant Networks (Mitton & Murray-Smith, arXiv 2111.11840; first titled "Local
Permutation Equivariance for Graph Neural Networks"; official code ``JoshuaMitton/LPEGN``).

1. :func:`ego_subgraphs` (pre-processing, pure): for every node i its ``hops``-hop ego network S_i (the centre
   included — the paper's definition; the LPEGN code includes it only when the input has self-loops), grouped by
   size |S_i| so that each group is one dense batch.
2. Each layer applies, per subgraph, the linear permutation-equivariant maps of Maron et al. ("Invariant and
   Equivariant Graph Networks", ICLR 2019) between order-2 (pair) and order-1 (node) tensors of the subgraph's
   node set: **2→2** (15 basis operations), **1→2** (5), **2→1** (5), **1→1** (2), plus biases. Sums over indices
   are means (the code's normalisation), so one set of weights fits several sizes. Weights are **bucketed by
   subgraph size** (``size_buckets``: bucket b holds sizes ≤ ``size_buckets[b]``, the last one everything larger):
   subgraphs of the same bucket share weights (the code's ``weight_degrees``/``degree_mapping``).
3. **Sync**: order-2 outputs for a global pair (a, b) are averaged over all subgraphs containing both a and b;
   order-1 outputs for node a over all subgraphs containing a. Then ELU (and an optional residual).
4. Readout per subgraph: the 2→0 basis (mean of the diagonal, mean of all entries) and 1→0 (mean) → Linear →
   ELU → mean over the subgraphs of a graph → MLP head (the code's FC 256 → 128 → out is ``head_hidden``).

Initial tensors: order-1 = node features; order-2 = [adjacency 1[a→b], 1[a = b], edge features of a→b (zeros
off-edge)]. Because each map is equivariant in the subgraph's node order and weights depend only on the size,
the whole network is permutation equivariant (node states) and invariant (graph output). Not modelled: GraphNorm
and dropout 0.01 of the code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from graphbench.subgraph.layers import scatter_mean

#: Default size buckets: sizes 1..8 get their own weights, then ≤ 12, ≤ 16, larger.
DEFAULT_BUCKETS: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 7, 8, 12, 16)


@dataclass
class EgoSubgraphs:
    """Ego networks of a (batched) graph, grouped by size. ``groups[s] [B_s, s]``: node ids of each subgraph of
    size s (the centre and its ≤ hops neighbours, ascending ids); ``pair_index[s] [B_s, s, s]``: id of each
    (a, b) in the global pair list ``pairs [Pg, 2]``; ``subgraph_graph[s] [B_s]``: the graph each belongs to."""

    num_nodes: int
    num_graphs: int
    groups: dict[int, torch.Tensor]
    pair_index: dict[int, torch.Tensor]
    subgraph_graph: dict[int, torch.Tensor]
    pairs: torch.Tensor


def ego_subgraphs(num_nodes: int, src: torch.Tensor, dst: torch.Tensor, *, hops: int = 1,
                  node_graph: torch.Tensor | None = None) -> EgoSubgraphs:
    """The ``hops``-hop ego networks (out-neighbourhoods along ``src → dst``) of every node; ``node_graph [N]``:
    graph id of each node in a batch (default: one graph)."""
    from scipy.sparse import csr_matrix, identity

    if hops < 0:
        raise ValueError(f"hops must be >= 0, got {hops}")
    n = int(num_nodes)
    s, d = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    # Row i of (A + I)^hops (sparse, A[i, j] = 1 for an edge i → j) holds the nodes within ``hops`` of i. Sparse
    # powers keep memory at the size of the ego networks; a dense distance matrix of a whole batch (tens of
    # thousands of nodes in the expressiveness protocol's batches of relabelled copies) does not fit.
    step = (csr_matrix((np.ones(len(s)), (s, d)), shape=(n, n)) + identity(n, format="csr")).tocsr()
    reach = identity(n, format="csr")
    for _ in range(hops):
        reach = (reach @ step).tocsr()
        reach.data[:] = 1.0
    reach.sort_indices()                                                            # ascending node ids per row
    sizes = torch.from_numpy(np.diff(reach.indptr).astype(np.int64))
    indices = torch.from_numpy(reach.indices.astype(np.int64))
    indptr = torch.from_numpy(reach.indptr.astype(np.int64))
    node_graph = torch.zeros(n, dtype=torch.int64) if node_graph is None else node_graph
    groups, graph_of = {}, {}
    for size in sorted(set(sizes.tolist())):
        centres = (sizes == size).nonzero().view(-1)
        groups[size] = indices[indptr[centres][:, None] + torch.arange(size)]      # [B_s, size]
        graph_of[size] = node_graph[centres]
    keys = torch.cat([(g[:, :, None] * n + g[:, None, :]).reshape(-1) for g in groups.values()]) if groups \
        else torch.zeros(0, dtype=torch.int64)
    uniq, inverse = torch.unique(keys, return_inverse=True)
    pair_index, start = {}, 0
    for size, g in groups.items():
        m = g.shape[0] * size * size
        pair_index[size] = inverse[start:start + m].view(g.shape[0], size, size)
        start += m
    pairs = torch.stack([uniq // max(n, 1), uniq % max(n, 1)], 1)
    num_graphs = int(node_graph.max()) + 1 if n else 0
    return EgoSubgraphs(n, num_graphs, groups, pair_index, graph_of, pairs)


def _basis_2_to_2(x: torch.Tensor) -> torch.Tensor:
    """The 15 equivariant linear maps (Maron et al. 2019) of ``x [B, n, n, c]`` → ``[B, n, n, 15, c]``."""
    b, n, _, c = x.shape
    eye = torch.eye(n, dtype=x.dtype, device=x.device).view(1, n, n, 1)
    diag = torch.diagonal(x, dim1=1, dim2=2).transpose(1, 2)       # [B, n, c]
    row = x.mean(2)                                                  # [B, n, c]  mean over b of x[a, b]
    col = x.mean(1)                                                  # [B, n, c]  mean over a of x[a, b]
    mdiag = diag.mean(1)[:, None, None, :]                           # [B, 1, 1, c]
    mall = x.mean((1, 2))[:, None, None, :]

    def on_diag(v):   # [B, n, c] -> [B, n, n, c] on the diagonal
        return eye * v[:, :, None, :]

    ops = [
        on_diag(diag), on_diag(row), on_diag(col), eye * mdiag, eye * mall,
        col[:, None, :, :].expand(b, n, n, c), col[:, :, None, :].expand(b, n, n, c),
        row[:, None, :, :].expand(b, n, n, c), row[:, :, None, :].expand(b, n, n, c),
        x, x.transpose(1, 2),
        diag[:, None, :, :].expand(b, n, n, c), diag[:, :, None, :].expand(b, n, n, c),
        mall.expand(b, n, n, c), mdiag.expand(b, n, n, c),
    ]
    return torch.stack(ops, 3)


def _basis_2_to_1(x: torch.Tensor) -> torch.Tensor:
    """The 5 maps ``[B, n, n, c]`` → ``[B, n, 5, c]``."""
    b, n, _, c = x.shape
    diag = torch.diagonal(x, dim1=1, dim2=2).transpose(1, 2)
    ops = [diag, x.mean(2), x.mean(1), diag.mean(1, keepdim=True).expand(b, n, c),
           x.mean((1, 2))[:, None, :].expand(b, n, c)]
    return torch.stack(ops, 2)


def _basis_1_to_2(v: torch.Tensor) -> torch.Tensor:
    """The 5 maps ``[B, n, c]`` → ``[B, n, n, 5, c]``."""
    b, n, c = v.shape
    eye = torch.eye(n, dtype=v.dtype, device=v.device).view(1, n, n, 1)
    mean = v.mean(1)[:, None, None, :]
    ops = [eye * v[:, :, None, :], v[:, :, None, :].expand(b, n, n, c), v[:, None, :, :].expand(b, n, n, c),
           eye * mean, mean.expand(b, n, n, c)]
    return torch.stack(ops, 3)


def _basis_1_to_1(v: torch.Tensor) -> torch.Tensor:
    """The 2 maps ``[B, n, c]`` → ``[B, n, 2, c]``."""
    return torch.stack([v, v.mean(1, keepdim=True).expand_as(v)], 2)


class EquivariantLayer(nn.Module):
    """2→2, 1→2, 2→1, 1→1 equivariant maps with one weight set per size bucket.
    ``forward(x2 [B, n, n, c2], x1 [B, n, c1], bucket) -> ([B, n, n, d2], [B, n, d1])``."""

    def __init__(self, c2: int, c1: int, d2: int, d1: int, num_buckets: int) -> None:
        super().__init__()

        def w(*shape):
            return nn.Parameter(torch.randn(num_buckets, *shape) / np.sqrt(shape[0] * shape[1]))

        self.w22, self.w12 = w(15, c2, d2), w(5, c1, d2)
        self.w21, self.w11 = w(5, c2, d1), w(2, c1, d1)
        self.b2_all, self.b2_diag = nn.Parameter(torch.zeros(num_buckets, d2)), nn.Parameter(
            torch.zeros(num_buckets, d2))
        self.b1 = nn.Parameter(torch.zeros(num_buckets, d1))

    def forward(self, x2: torch.Tensor, x1: torch.Tensor, bucket: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = x2.shape[1]
        eye = torch.eye(n, dtype=x2.dtype, device=x2.device).view(1, n, n, 1)
        y2 = (torch.einsum("bijkc,kcd->bijd", _basis_2_to_2(x2), self.w22[bucket])
              + torch.einsum("bijkc,kcd->bijd", _basis_1_to_2(x1), self.w12[bucket])
              + self.b2_all[bucket] + eye * self.b2_diag[bucket])
        y1 = (torch.einsum("bikc,kcd->bid", _basis_2_to_1(x2), self.w21[bucket])
              + torch.einsum("bikc,kcd->bid", _basis_1_to_1(x1), self.w11[bucket]) + self.b1[bucket])
        return y2, y1


class SPEN(nn.Module):
    """SPEN (module docstring). ``forward(x [N, in_dim], ego: EgoSubgraphs, src, dst, efeat=None)`` →
    ``[num_graphs, out_dim]``; :meth:`node_states` returns the synced order-1 states ``[N, hidden]``."""

    def __init__(self, in_dim: int, out_dim: int, *, hidden: int = 32, layers: int = 3, edge_dim: int = 0,
                 size_buckets: tuple[int, ...] = DEFAULT_BUCKETS, residual: bool = True,
                 head_hidden: int = 128) -> None:
        super().__init__()
        if list(size_buckets) != sorted(set(size_buckets)) or not size_buckets:
            raise ValueError(f"size_buckets must be strictly increasing, got {size_buckets}")
        self.size_buckets, self.residual, self.edge_dim = tuple(size_buckets), residual, edge_dim
        nb = len(size_buckets) + 1
        c2 = 2 + edge_dim
        dims2, dims1 = [c2] + [hidden] * layers, [in_dim] + [hidden] * layers
        self.layers = nn.ModuleList(EquivariantLayer(dims2[i], dims1[i], dims2[i + 1], dims1[i + 1], nb)
                                    for i in range(layers))
        self.readout = nn.Linear(2 * hidden + hidden, hidden)
        self.head = nn.Sequential(nn.Linear(hidden, head_hidden), nn.ELU(), nn.Linear(head_hidden, out_dim))

    def bucket(self, size: int) -> int:
        return next((b for b, bound in enumerate(self.size_buckets) if size <= bound), len(self.size_buckets))

    def initial_pairs(self, x: torch.Tensor, ego: EgoSubgraphs, src: torch.Tensor, dst: torch.Tensor,
                      efeat: torch.Tensor | None) -> torch.Tensor:
        n = ego.num_nodes
        keys = ego.pairs[:, 0] * n + ego.pairs[:, 1]
        edge_keys = torch.as_tensor(src) * n + torch.as_tensor(dst)
        pos = torch.searchsorted(keys, edge_keys)                    # keys are sorted (torch.unique)
        ok = (pos < len(keys)) & (keys[pos.clamp(max=len(keys) - 1)] == edge_keys)
        out = x.new_zeros(len(keys), 2 + self.edge_dim)
        out[pos[ok], 0] = 1.0
        out[:, 1] = (ego.pairs[:, 0] == ego.pairs[:, 1]).to(x.dtype)
        if self.edge_dim:
            if efeat is None:
                raise ValueError(f"this SPEN was built with edge_dim={self.edge_dim} but got no edge features")
            out[pos[ok], 2:] = efeat[ok].to(x.dtype)
        return out

    def _states(self, x, ego, src, dst, efeat):
        p = self.initial_pairs(x, ego, src, dst, efeat)
        h = x
        for layer in self.layers:
            out2 = p.new_zeros(0, layer.b2_all.shape[1])
            acc2, idx2, acc1, idx1 = [], [], [], []
            for size, nodes in ego.groups.items():
                pidx = ego.pair_index[size]
                y2, y1 = layer(p[pidx], h[nodes], self.bucket(size))
                acc2.append(y2.reshape(-1, y2.shape[-1]))
                idx2.append(pidx.reshape(-1))
                acc1.append(y1.reshape(-1, y1.shape[-1]))
                idx1.append(nodes.reshape(-1))
            out2 = scatter_mean(torch.cat(acc2), torch.cat(idx2), len(ego.pairs))     # sync to global pairs
            out1 = scatter_mean(torch.cat(acc1), torch.cat(idx1), ego.num_nodes)      # sync to global nodes
            out2, out1 = F.elu(out2), F.elu(out1)
            if self.residual and out2.shape == p.shape and out1.shape == h.shape:
                out2, out1 = out2 + p, out1 + h
            p, h = out2, out1
        return p, h

    def node_states(self, x: torch.Tensor, ego: EgoSubgraphs, src: torch.Tensor, dst: torch.Tensor,
                    efeat: torch.Tensor | None = None) -> torch.Tensor:
        return self._states(x, ego, src, dst, efeat)[1]

    def forward(self, x: torch.Tensor, ego: EgoSubgraphs, src: torch.Tensor, dst: torch.Tensor,
                efeat: torch.Tensor | None = None) -> torch.Tensor:
        p, h = self._states(x, ego, src, dst, efeat)
        reps, graph_ids = [], []
        for size, nodes in ego.groups.items():
            x2, x1 = p[ego.pair_index[size]], h[nodes]
            diag = torch.diagonal(x2, dim1=1, dim2=2).mean(-1)             # 2→0: mean of the diagonal
            reps.append(torch.cat([diag, x2.mean((1, 2)), x1.mean(1)], 1))  # 2→0 (all), 1→0
            graph_ids.append(ego.subgraph_graph[size])
        z = F.elu(self.readout(torch.cat(reps)))
        return self.head(scatter_mean(z, torch.cat(graph_ids), ego.num_graphs))
