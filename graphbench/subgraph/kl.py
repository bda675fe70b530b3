"""(k, l)-GNN with l = 1 ("IDMPNN"): Zhou, Wang, Zhang, "From Relational Pooling to Subgraph GNNs: A Universal
Framework for More Expressive GNNs", ICML 2023, §4–6 (official code ``zhouc20/KLGNN``, ``zinc/IDMPNN_Global.py``).

(k, l)-WL individualises an ordered k-tuple of nodes (distinct labels 1..k), runs l-WL on the labelled graph and
pools the colourings over orderings and tuples. For l = 1 the l-WL step is an MPNN:

1. :func:`sample_tuples` (pre-processing, pure): all k-subsets of the nodes, optionally only those whose pairwise
   shortest-path distances are ≤ ``max_dist`` (the code's ``distlimitu``), optionally a random fraction ``rate``
   of them (training uses a fraction; the code's ``rate``).
2. For every subset and each of its k! orderings a copy of the graph is made; the input encoding of the node at
   position j of the ordering is multiplied element-wise by ``IDEmb(j + 1)``, every other node by ``IDEmb(0)``
   (the code's ``idemb`` Hadamard product).
3. ``layers`` MPNN layers on every copy: ``h_i ← h_i + MLP(Σ_{j ∈ N(i)} h_j ⊙ EdgeEnc(e_ji))`` (edge-type
   weighting only with edge features), MLP = Linear → ReLU → Linear → LayerNorm → ReLU as in the code.
4. Mean over the k! orderings (relational pooling) per node, an MLP, sum over nodes → one vector per subset;
   pool the subsets of a graph (``mean``/``sum``/``max``) → output MLP.
5. :meth:`KLGNN.ensemble`: test-time ensembling over ``times`` independent tuple samples (median or mean), as the
   code's ``sample_times``.

Not modelled (documented choices): the code's ``num_layer_global`` post-pooling layers on the original graph, the
``resolution`` cluster sampling, and the RWSE / transformer variants. A subset padded with ``-1`` (graphs with
fewer than k nodes) individualises only its real nodes.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from graphbench.subgraph.layers import scatter_mean, scatter_sum
from graphbench.subgraph.product import shortest_path_distances

SUBSET_POOLS = ("mean", "sum", "max")


def sample_tuples(num_nodes: int, src: torch.Tensor, dst: torch.Tensor, k: int, *, rate: float = 1.0,
                  max_dist: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """k-subsets of the nodes of one graph as ``[T, k]`` int64 (ascending node ids; local ids).

    ``max_dist``: keep only subsets whose pairwise shortest-path distances (along ``src → dst``) are all
    ``≤ max_dist``; ``rate ∈ (0, 1]``: keep ``ceil(rate · #subsets)`` of them uniformly at random (``generator``
    makes it reproducible), at least one. A graph with fewer than ``k`` nodes, or whose filter keeps nothing, gets
    one subset of all its nodes (up to ``k``) padded with ``-1``.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate must be in (0, 1], got {rate}")
    n = int(num_nodes)
    subsets = torch.tensor(list(itertools.combinations(range(n), k)), dtype=torch.int64).reshape(-1, k)
    if max_dist is not None and len(subsets) and k > 1:
        dist = shortest_path_distances(n, src, dst)
        ok = torch.ones(len(subsets), dtype=torch.bool)
        for i, j in itertools.combinations(range(k), 2):
            ok &= dist[subsets[:, i], subsets[:, j]] <= max_dist
        subsets = subsets[ok]
    if len(subsets) == 0:
        row = torch.full((1, k), -1, dtype=torch.int64)
        m = min(n, k)
        row[0, :m] = torch.arange(m)
        return row
    if rate < 1.0:
        keep = max(1, math.ceil(rate * len(subsets)))
        subsets = subsets[torch.randperm(len(subsets), generator=generator)[:keep].sort().values]
    return subsets


@dataclass
class KLInput:
    """A batch for :class:`KLGNN`: input graphs concatenated with node offsets (``src``, ``dst`` global ids, edges
    grouped by graph as ``dgl.batch`` orders them), ``tuples [T, k]`` global node ids (``-1`` padding kept),
    ``tuple_graph [T]``, per-graph ``node_counts`` and ``edge_counts``."""

    src: torch.Tensor
    dst: torch.Tensor
    node_counts: torch.Tensor
    edge_counts: torch.Tensor
    tuples: torch.Tensor
    tuple_graph: torch.Tensor

    @property
    def num_graphs(self) -> int:
        return int(self.node_counts.numel())


def kl_batch(graphs: list[tuple[int, torch.Tensor, torch.Tensor]], tuples: list[torch.Tensor]) -> KLInput:
    """Batch graphs ``(num_nodes, src, dst)`` (local ids) and their local tuples: node ids get node offsets,
    ``-1`` padding is kept."""
    off, src, dst, tup, tg = 0, [], [], [], []
    for i, ((n, s, d), t) in enumerate(zip(graphs, tuples, strict=True)):
        src.append(torch.as_tensor(s, dtype=torch.int64) + off)
        dst.append(torch.as_tensor(d, dtype=torch.int64) + off)
        tup.append(torch.where(t >= 0, t + off, t))
        tg.append(torch.full((len(t),), i, dtype=torch.int64))
        off += int(n)
    return KLInput(torch.cat(src), torch.cat(dst), torch.tensor([int(g[0]) for g in graphs]),
                   torch.tensor([len(g[1]) for g in graphs]), torch.cat(tup), torch.cat(tg))


def _exclusive_cumsum(x: torch.Tensor) -> torch.Tensor:
    return torch.cumsum(x, 0) - x


def _local_arange(counts: torch.Tensor) -> torch.Tensor:
    """``[0..c0-1, 0..c1-1, ...]``."""
    total = int(counts.sum())
    return torch.arange(total) - _exclusive_cumsum(counts).repeat_interleave(counts, output_size=total)


class KLGNN(nn.Module):
    """(k, 1)-GNN (module docstring). ``forward(x [N, in_dim], inp: KLInput, efeat=None) -> [num_graphs, out]``."""

    def __init__(self, in_dim: int, out_dim: int, *, k: int = 2, hidden: int = 64, layers: int = 4,
                 subset_pool: str = "mean", edge_dim: int | None = None) -> None:
        super().__init__()
        if k not in (1, 2, 3, 4):
            raise ValueError(f"k must be 1..4 (k! orderings per subset), got {k}")
        if subset_pool not in SUBSET_POOLS:
            raise ValueError(f"unknown subset_pool {subset_pool!r}; choose one of {SUBSET_POOLS}")
        self.k, self.subset_pool = k, subset_pool
        self.register_buffer("orderings", torch.tensor(list(itertools.permutations(range(k))), dtype=torch.int64),
                             persistent=False)
        self.encoder = nn.Linear(in_dim, hidden)
        self.id_embedding = nn.Embedding(k + 1, hidden)
        self.edge_encoders = nn.ModuleList(nn.Linear(edge_dim, hidden) for _ in range(layers)) if edge_dim else None
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.LayerNorm(hidden),
                          nn.ReLU()) for _ in range(layers))
        self.node_mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.head = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_dim))

    def tuple_embeddings(self, x: torch.Tensor, inp: KLInput, efeat: torch.Tensor | None = None) -> torch.Tensor:
        """One vector per subset, ``[T, hidden]`` (steps 2–4 of the module docstring)."""
        if inp.tuples.shape[1] != self.k:
            raise ValueError(f"tuples have {inp.tuples.shape[1]} columns but the model has k = {self.k}")
        node_start = _exclusive_cumsum(inp.node_counts)
        edge_start = _exclusive_cumsum(inp.edge_counts)
        n_orders = self.orderings.shape[0]
        T = inp.tuples.shape[0]
        copy_tuple = torch.arange(T).repeat_interleave(n_orders)                 # copy c = t · k! + o
        copy_order = torch.arange(n_orders).repeat(T)
        copy_graph = inp.tuple_graph[copy_tuple]
        n_per = inp.node_counts[copy_graph]
        copy_start = _exclusive_cumsum(n_per)
        local = _local_arange(n_per)
        orig_node = node_start[copy_graph].repeat_interleave(n_per) + local
        # individualisation labels: position j of ordering o gets label j + 1
        label = torch.zeros(int(n_per.sum()), dtype=torch.int64)
        chosen = inp.tuples[copy_tuple[:, None], self.orderings[copy_order]]      # [C, k] global ids in order
        pos = torch.arange(1, self.k + 1).expand_as(chosen)
        real = chosen >= 0
        where = (copy_start[:, None] + chosen - node_start[copy_graph][:, None])[real]
        label[where] = pos[real]
        h = self.encoder(x)[orig_node] * self.id_embedding(label)
        # replicate the edges of each copy's graph
        e_per = inp.edge_counts[copy_graph]
        copy_of_edge = torch.arange(len(copy_graph)).repeat_interleave(e_per)
        orig_edge = edge_start[copy_graph].repeat_interleave(e_per) + _local_arange(e_per)
        shift = (copy_start - node_start[copy_graph])[copy_of_edge]
        src, dst = inp.src[orig_edge] + shift, inp.dst[orig_edge] + shift
        for i, mlp in enumerate(self.mlps):
            msg = h[src]
            if self.edge_encoders is not None and efeat is not None:
                msg = msg * self.edge_encoders[i](efeat)[orig_edge]
            h = h + mlp(scatter_sum(msg, dst, h.shape[0]))
        # relational pooling: mean over the k! orderings of the same subset, node by node
        tuple_nodes = inp.node_counts[inp.tuple_graph]
        slot = _exclusive_cumsum(tuple_nodes)[copy_tuple].repeat_interleave(n_per) + local
        h = self.node_mlp(scatter_mean(h, slot, int(tuple_nodes.sum())))
        return scatter_sum(h, torch.arange(T).repeat_interleave(tuple_nodes), T)

    def forward(self, x: torch.Tensor, inp: KLInput, efeat: torch.Tensor | None = None, *,
                chunk_copies: int | None = None) -> torch.Tensor:
        """``chunk_copies``: embed the tuples in chunks of at most about this many node copies (tuples are
        independent, so the result is the same; bounds memory at evaluation, where nothing is kept for backward)."""
        if chunk_copies is None:
            z = self.tuple_embeddings(x, inp, efeat)
        else:
            copies = inp.node_counts[inp.tuple_graph] * self.orderings.shape[0]
            chunk = torch.div(torch.cumsum(copies, 0) - copies, max(int(chunk_copies), 1), rounding_mode="floor")
            parts = []
            for c in torch.unique(chunk).tolist():   # contiguous ranges: the tuple order is kept
                m = chunk == c
                parts.append(self.tuple_embeddings(x, KLInput(inp.src, inp.dst, inp.node_counts, inp.edge_counts,
                                                              inp.tuples[m], inp.tuple_graph[m]), efeat))
            z = torch.cat(parts) if parts else x.new_zeros(0, self.head[0].in_features)
        return self.readout(z, inp)

    def readout(self, z: torch.Tensor, inp: KLInput) -> torch.Tensor:
        """Pool the tuple embeddings ``z [T, hidden]`` per graph and apply the head."""
        if self.subset_pool == "max":
            g = z.new_full((inp.num_graphs, z.shape[1]), float("-inf"))
            g = g.scatter_reduce(0, inp.tuple_graph[:, None].expand_as(z), z, reduce="amax")
        elif self.subset_pool == "sum":
            g = scatter_sum(z, inp.tuple_graph, inp.num_graphs)
        else:
            g = scatter_mean(z, inp.tuple_graph, inp.num_graphs)
        return self.head(g)

    @torch.no_grad()
    def ensemble(self, x: torch.Tensor, sample: Callable[[torch.Generator], KLInput], *, times: int = 5,
                 reduce: str = "median", seed: int = 0, efeat: torch.Tensor | None = None) -> torch.Tensor:
        """Test-time ensembling: ``times`` forward passes on independent tuple samples ``sample(generator)``
        (e.g. :func:`sample_tuples` with ``rate < 1`` per graph + :func:`kl_batch`), combined by ``median`` or
        ``mean``."""
        if reduce not in ("median", "mean"):
            raise ValueError(f"reduce must be 'median' or 'mean', got {reduce!r}")
        if times < 1:
            raise ValueError(f"times must be >= 1, got {times}")
        gen = torch.Generator().manual_seed(seed)
        outs = torch.stack([self(x, sample(gen), efeat) for _ in range(times)])
        return outs.median(0).values if reduce == "median" else outs.mean(0)
