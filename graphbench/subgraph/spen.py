"""SPEN — Subgraph Permutation Equivariant Networks (Mitton & Murray-Smith, arXiv 2111.11840; first titled "Local
Permutation Equivariance for Graph Neural Networks"; official code ``JoshuaMitton/LPEGN@98458de0c182``). Equations,
choices and the reference code's locations: ``docs/models/spen.md``.

1. :func:`ego_subgraphs` (pre-processing, pure): for every node i its ``hops``-hop ego network S_i (the centre
   included — the paper's definition; the LPEGN code includes it because its inputs carry the node labels on the
   diagonal, which makes every labelled node its own neighbour), grouped by size |S_i| so that each group is one
   dense batch.
2. Each layer applies, per subgraph, the linear permutation-equivariant maps of Maron et al. ("Invariant and
   Equivariant Graph Networks", ICLR 2019) between order-2 (pair) and order-1 (node) tensors of the subgraph's
   node set: **2→2** (15 basis operations), **1→2** (5), **2→1** (5), **1→1** (2), plus biases, and concatenates
   the order-2 and order-1 outputs as the code does (:class:`EquivariantLayer`; the first layer reads the order-2
   input only). Sums over indices are means (the code's normalisation), so one set of weights fits several sizes.
   Weights are **bucketed by subgraph size** (``size_buckets``: bucket b holds sizes ≤ ``size_buckets[b]``, the
   last one everything larger), the code's ``weight_degrees``/``degree_mapping``.
3. **Sync**: order-2 outputs for a global pair (a, b) are averaged over all subgraphs containing both a and b;
   order-1 outputs for node a over all subgraphs containing a. Then the residual (from the second layer on, before
   the activation), ELU and GraphNorm, in the code's order.
4. Readout per subgraph: the 2→0 basis (mean of the diagonal, mean of all entries) and 1→0 (mean), concatenated,
   ELU, mean over the subgraphs of a graph, then the code's fully connected head 2·width → 256 → 128 → out with
   ReLU and dropout 0.5.

Because each map is equivariant in the subgraph's node order and weights depend only on the size, the whole network
is permutation equivariant (node states) and invariant (graph output).
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
    size s (the centre — unless left out — and its ≤ hops neighbours, ascending ids); ``pair_index[s]
    [B_s, s, s]``: id of each (a, b) in the global pair list ``pairs [Pg, 2]``; ``subgraph_graph[s] [B_s]``: the
    graph each belongs to."""

    num_nodes: int
    num_graphs: int
    groups: dict[int, torch.Tensor]
    pair_index: dict[int, torch.Tensor]
    subgraph_graph: dict[int, torch.Tensor]
    pairs: torch.Tensor


def ego_subgraphs(num_nodes: int, src: torch.Tensor, dst: torch.Tensor, *, hops: int = 1,
                  node_graph: torch.Tensor | None = None, centre: bool = True) -> EgoSubgraphs:
    """The ``hops``-hop ego networks (out-neighbourhoods along ``src → dst``) of every node; ``node_graph [N]``:
    graph id of each node in a batch (default: one graph). ``centre=False``: each node's subgraph leaves the node
    itself out (at ``hops`` 1 its open neighbourhood, the LPEGN code's subgraphs on label-free graphs,
    docs/models/spen.md §1); a node with no neighbour then has no subgraph."""
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
    if not centre:
        reach.setdiag(0)
        reach.eliminate_zeros()
    reach.sort_indices()                                                            # ascending node ids per row
    sizes = torch.from_numpy(np.diff(reach.indptr).astype(np.int64))
    indices = torch.from_numpy(reach.indices.astype(np.int64))
    indptr = torch.from_numpy(reach.indptr.astype(np.int64))
    node_graph = torch.zeros(n, dtype=torch.int64) if node_graph is None else node_graph
    groups, graph_of = {}, {}
    for size in sorted(set(sizes.tolist()) - {0}):  # an empty subgraph (centre=False, no neighbour) has no states
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


def _basis_2_to_0(x: torch.Tensor) -> torch.Tensor:
    """The 2 maps ``[B, n, n, c]`` → ``[B, 2, c]``: mean of the diagonal, mean of all entries."""
    return torch.stack([torch.diagonal(x, dim1=1, dim2=2).mean(-1), x.mean((1, 2))], 1)


def _coeffs(num_buckets: int, basis: int, c_in: int, c_out: int) -> nn.Parameter:
    """One weight set per size bucket, ``N(0, 2 / (c_in + c_out))`` as the code's equivariant layers."""
    return nn.Parameter(torch.randn(num_buckets, basis, c_in, c_out) * np.sqrt(2.0 / (c_in + c_out)))


class EquivariantLayer(nn.Module):
    """One SPEN layer (docs/models/spen.md §2) with one weight set per size bucket. ``forward(x2 [B, n, n, c2],
    x1 [B, n, c1] or None, bucket) -> ([B, n, n, d2], [B, n, d1])``.

    With an order-1 input (``c1 > 0``) the outputs are the concatenations ``[P₂₂(x2), P₁₂(x1)]`` and
    ``[P₂₁(x2), P₁₁(x1)]`` of ``width`` channels each (2·width in all, as the code's ``torch.cat``); without one (the
    first layer) ``P₂₂(x2)`` and ``P₂₁(x2)`` of 2·width channels. Biases: all entries and diagonal for 2→2, one per
    channel for the others, initialised 0."""

    def __init__(self, c2: int, c1: int, width: int, num_buckets: int) -> None:
        super().__init__()
        d = width if c1 else 2 * width
        self.w22, self.w21 = _coeffs(num_buckets, 15, c2, d), _coeffs(num_buckets, 5, c2, d)
        self.b22_all, self.b22_diag = (nn.Parameter(torch.zeros(num_buckets, d)) for _ in range(2))
        self.b21 = nn.Parameter(torch.zeros(num_buckets, d))
        self.order1 = bool(c1)
        if c1:
            self.w12, self.w11 = _coeffs(num_buckets, 5, c1, d), _coeffs(num_buckets, 2, c1, d)
            self.b12, self.b11 = (nn.Parameter(torch.zeros(num_buckets, d)) for _ in range(2))

    def forward(self, x2: torch.Tensor, x1: torch.Tensor | None, bucket: int) -> tuple[torch.Tensor, torch.Tensor]:
        n = x2.shape[1]
        eye = torch.eye(n, dtype=x2.dtype, device=x2.device).view(1, n, n, 1)
        y2 = (torch.einsum("bijkc,kcd->bijd", _basis_2_to_2(x2), self.w22[bucket]) + self.b22_all[bucket]
              + eye * self.b22_diag[bucket])
        y1 = torch.einsum("bikc,kcd->bid", _basis_2_to_1(x2), self.w21[bucket]) + self.b21[bucket]
        if not self.order1:
            return y2, y1
        z2 = torch.einsum("bijkc,kcd->bijd", _basis_1_to_2(x1), self.w12[bucket]) + self.b12[bucket]
        z1 = torch.einsum("bikc,kcd->bid", _basis_1_to_1(x1), self.w11[bucket]) + self.b11[bucket]
        return torch.cat([y2, z2], -1), torch.cat([y1, z1], -1)


class GraphNorm(nn.Module):
    """GraphNorm (Cai et al., ICML 2021), the code's ``torch_geometric.nn.GraphNorm``: per graph,
    ``γ ⊙ (x − α ⊙ mean) / sqrt(var + ε) + β`` with learned ``γ`` (1), ``β`` (0), ``α`` (1)."""

    def __init__(self, dim: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.ones(dim)), nn.Parameter(torch.zeros(dim))
        self.mean_scale, self.eps = nn.Parameter(torch.ones(dim)), eps

    def forward(self, x: torch.Tensor, graph: torch.Tensor, num_graphs: int) -> torch.Tensor:
        out = x - scatter_mean(x, graph, num_graphs)[graph] * self.mean_scale
        std = (scatter_mean(out * out, graph, num_graphs) + self.eps).sqrt()[graph]
        return self.weight * out / std + self.bias


class SPEN(nn.Module):
    """SPEN (module docstring; docs/models/spen.md). ``forward(x [N, in_dim], ego: EgoSubgraphs, src, dst,
    efeat=None)`` → ``[num_graphs, out_dim]``; :meth:`node_states` returns the synced order-1 states
    ``[N, 2·width]``.

    ``x`` are the raw node features (one-hot labels for categorical ones, as the code's diagonal label channels);
    the order-2 input of a pair (a, b) is ``[Â_ab, Â_ab + x_a,1·1[a=b], …, Â_ab + x_a,F·1[a=b], e_ab]`` with
    ``Â = D^{-1/2} A D^{-1/2}`` (the code's ``noramlize_graph``: the normalised adjacency in every channel, the
    labels added on the diagonal) and the edge features ``e`` (zeros off-edge) where the dataset has them."""

    def __init__(self, in_dim: int, out_dim: int, *, width: int = 64, layers: int = 5, edge_dim: int = 0,
                 size_buckets: tuple[int, ...] = DEFAULT_BUCKETS, residual: bool = True, norm: bool = True,
                 head_dims: tuple[int, ...] = (256, 128), head_dropout: float = 0.5) -> None:
        super().__init__()
        if list(size_buckets) != sorted(set(size_buckets)) or not size_buckets:
            raise ValueError(f"size_buckets must be strictly increasing, got {size_buckets}")
        if layers < 1:
            raise ValueError(f"SPEN needs at least one equivariant layer, got {layers}")
        self.size_buckets, self.residual, self.edge_dim, self.in_dim = tuple(size_buckets), residual, edge_dim, in_dim
        nb = len(size_buckets) + 1
        c2, d = 1 + in_dim + edge_dim, 2 * width
        self.layers = nn.ModuleList(EquivariantLayer(c2 if i == 0 else d, 0 if i == 0 else d, width, nb)
                                    for i in range(layers))
        self.norms2 = nn.ModuleList(GraphNorm(d) for _ in range(layers)) if norm else None
        self.norms1 = nn.ModuleList(GraphNorm(d) for _ in range(layers)) if norm else None
        self.w20, self.w10 = _coeffs(nb, 2, d, width), _coeffs(nb, 1, d, width)
        self.b20, self.b10 = (nn.Parameter(torch.zeros(nb, width)) for _ in range(2))
        dims = (d,) + tuple(head_dims)
        fc: list[nn.Module] = []
        for i in range(len(head_dims)):
            fc += [nn.Linear(dims[i], dims[i + 1]), nn.ReLU(), nn.Dropout(head_dropout)]
        fc.append(nn.Linear(dims[-1], out_dim))
        self.head = nn.Sequential(*fc)
        for m in self.head:
            if isinstance(m, nn.Linear):   # the code's fully_connected: Xavier-normal weights, bias 0.1
                nn.init.xavier_normal_(m.weight)
                nn.init.constant_(m.bias, 0.1)

    def bucket(self, size: int) -> int:
        return next((b for b, bound in enumerate(self.size_buckets) if size <= bound), len(self.size_buckets))

    def initial_pairs(self, x: torch.Tensor, ego: EgoSubgraphs, src: torch.Tensor, dst: torch.Tensor,
                      efeat: torch.Tensor | None) -> torch.Tensor:
        """The order-2 input on the global pair list ``[Pg, 1 + in_dim + edge_dim]`` (class docstring)."""
        n = ego.num_nodes
        x = x.to(self.w20.dtype)
        src, dst = torch.as_tensor(src), torch.as_tensor(dst)
        keys = ego.pairs[:, 0] * n + ego.pairs[:, 1]
        edge_keys = src * n + dst
        pos = torch.searchsorted(keys, edge_keys)                    # keys are sorted (torch.unique)
        ok = (pos < len(keys)) & (keys[pos.clamp(max=len(keys) - 1)] == edge_keys)
        deg = torch.zeros(n, dtype=x.dtype, device=x.device).index_add_(0, dst, torch.ones_like(dst, dtype=x.dtype))
        inv = torch.where(deg > 0, deg.clamp(min=1).rsqrt(), torch.zeros_like(deg))
        adj = x.new_zeros(len(keys))
        adj.index_add_(0, pos[ok], (inv[src] * inv[dst])[ok])
        diag = (ego.pairs[:, 0] == ego.pairs[:, 1]).to(x.dtype)[:, None]
        parts = [adj[:, None], adj[:, None] + diag * x.to(adj.dtype)[ego.pairs[:, 0]]]
        if self.edge_dim:
            if efeat is None:
                raise ValueError(f"this SPEN was built with edge_dim={self.edge_dim} but got no edge features")
            e = x.new_zeros(len(keys), self.edge_dim)
            e[pos[ok]] = efeat[ok].to(x.dtype).reshape(-1, self.edge_dim)
            parts.append(e)
        return torch.cat(parts, 1)

    def _states(self, x, ego, src, dst, efeat):
        p, h = self.initial_pairs(x, ego, src, dst, efeat), None
        node_graph = torch.zeros(ego.num_nodes, dtype=torch.int64, device=x.device)
        for size, nodes in ego.groups.items():
            node_graph[nodes] = ego.subgraph_graph[size][:, None].expand_as(nodes)
        pair_graph = node_graph[ego.pairs[:, 0]]
        res2 = res1 = None
        for i, layer in enumerate(self.layers):
            acc2, idx2, acc1, idx1 = [], [], [], []
            for size, nodes in ego.groups.items():
                pidx = ego.pair_index[size]
                y2, y1 = layer(p[pidx], None if h is None else h[nodes], self.bucket(size))
                acc2.append(y2.reshape(-1, y2.shape[-1]))
                idx2.append(pidx.reshape(-1))
                acc1.append(y1.reshape(-1, y1.shape[-1]))
                idx1.append(nodes.reshape(-1))
            p = scatter_mean(torch.cat(acc2), torch.cat(idx2), len(ego.pairs))     # sync to global pairs
            h = scatter_mean(torch.cat(acc1), torch.cat(idx1), ego.num_nodes)      # sync to global nodes
            if self.residual and res2 is not None:                                # from the second layer on
                p, h = p + res2, h + res1
            res2, res1 = p, h
            p, h = F.elu(p), F.elu(h)
            if self.norms2 is not None:
                p = self.norms2[i](p, pair_graph, ego.num_graphs)
                h = self.norms1[i](h, node_graph, ego.num_graphs)
        return p, h

    def node_states(self, x: torch.Tensor, ego: EgoSubgraphs, src: torch.Tensor, dst: torch.Tensor,
                    efeat: torch.Tensor | None = None) -> torch.Tensor:
        return self._states(x, ego, src, dst, efeat)[1]

    def forward(self, x: torch.Tensor, ego: EgoSubgraphs, src: torch.Tensor, dst: torch.Tensor,
                efeat: torch.Tensor | None = None) -> torch.Tensor:
        p, h = self._states(x, ego, src, dst, efeat)
        reps, graph_ids = [], []
        for size, nodes in ego.groups.items():
            b = self.bucket(size)
            z2 = torch.einsum("bkc,kcd->bd", _basis_2_to_0(p[ego.pair_index[size]]), self.w20[b]) + self.b20[b]
            z1 = torch.einsum("bc,cd->bd", h[nodes].mean(1), self.w10[b, 0]) + self.b10[b]
            reps.append(torch.cat([z2, z1], 1))                                   # 2→0 and 1→0, per subgraph
            graph_ids.append(ego.subgraph_graph[size])
        z = F.elu(torch.cat(reps))
        return self.head(scatter_mean(z, torch.cat(graph_ids), ego.num_graphs))
