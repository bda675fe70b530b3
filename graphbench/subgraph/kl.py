"""(k, l)-GNN with l = 1 ("IDMPNN"): Zhou, Wang, Zhang, "From Relational Pooling to Subgraph GNNs: A Universal
Framework for More Expressive GNNs", ICML 2023, §4–6; the equations, choices and the reference code's locations
are in ``docs/models/kl-gnn.md`` (official code ``zhouc20/KLGNN@a6b85b7316bf``, ``zinc/IDMPNN_Global.py``).

(k, l)-WL individualises an ordered k-tuple of nodes (distinct labels 1..k), runs l-WL on the labelled graph and
pools the colourings over orderings and tuples. For l = 1 the l-WL step is an MPNN. Two networks, the paper's
architectures (a) and (b) (docs/models/kl-gnn.md §2 and §3):

- :class:`KLGNN` (joint, the code's ``IDMPNN_Global``): the input encoding of the node at position j of an
  ordering is multiplied element-wise by ``IDEmb(j)``; ``layers`` MPNN layers on every individualised copy.
- :class:`KLGNNParallel` (the code's ``IDMPNN_Global_parallel``, what its ZINC script builds): ``graph_layers``
  MPNN layers on the original graph, and separately ``id_layers`` MPNN layers on the identifier embeddings of every
  individualised copy (no node features there); the two meet per tuple by a Hadamard product.

Both: mean over the k! orderings per node, ``global_layers`` MPNN layers on each tuple's graph, sum over the nodes,
Linear → ReLU per tuple (the inner multiset of the (k, l)-WL colour), pooling over a graph's tuples
(``mean``/``sum``/``max``), then the output map. Every MPNN layer is ``h_i ← h_i + MLP(Σ_{j ∈ N(i)} E(e_ji) ⊙ h_j)``
with one edge embedding ``E`` shared by all layers (``E = 1`` without edge features) and MLP = Linear → ReLU →
Linear → LayerNorm → ReLU, as in the code.

Tuples (:func:`sample_tuples`, pre-processing): all k-subsets, optionally only those whose pairwise shortest-path
distances are ≤ ``max_dist`` (the code's ``distlimitu``). Training uses ``⌊rate · T⌋ + 1`` of a graph's T tuples
drawn afresh every step (the code's ``rate``); evaluation uses every tuple, as the code does, so a prediction does
not depend on the batch or the node numbering. A graph whose filter keeps no tuple gets one *empty* tuple (no node
individualised: the plain MPNN reading of the graph, invariant to relabelling); a graph with fewer than k nodes gets
one tuple of all its nodes, padded with ``-1`` (docs/models/kl-gnn.md §4).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import torch
from torch import nn

from graphbench.subgraph.layers import scatter_mean, scatter_sum
from graphbench.subgraph.product import shortest_path_distances

SUBSET_POOLS = ("mean", "sum", "max")
COMBINES = ("hadamard", "add")


def sample_tuples(num_nodes: int, src: torch.Tensor, dst: torch.Tensor, k: int, *, rate: float = 1.0,
                  max_dist: int | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """k-subsets of the nodes of one graph as ``[T, k]`` int64 (ascending node ids; local ids).

    ``max_dist``: keep only subsets whose pairwise shortest-path distances (along ``src → dst``) are all
    ``≤ max_dist``; ``rate ∈ (0, 1]``: keep ``min(T, ⌊rate · T⌋ + 1)`` of them uniformly at random (the code's
    count; ``generator`` makes it reproducible). A graph with fewer than ``k`` nodes gets one subset of all its
    nodes padded with ``-1``; a graph whose filter keeps nothing gets one empty subset (all ``-1``: no node is
    individualised), the same whatever the node numbering.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"rate must be in (0, 1], got {rate}")
    n = int(num_nodes)
    if n < k:
        row = torch.full((1, k), -1, dtype=torch.int64)
        row[0, :n] = torch.arange(n)
        return row
    subsets = torch.tensor(list(itertools.combinations(range(n), k)), dtype=torch.int64).reshape(-1, k)
    if max_dist is not None and k > 1:
        dist = shortest_path_distances(n, src, dst)
        ok = torch.ones(len(subsets), dtype=torch.bool)
        for i, j in itertools.combinations(range(k), 2):
            ok &= (dist[subsets[:, i], subsets[:, j]] <= max_dist) & (dist[subsets[:, j], subsets[:, i]] <= max_dist)
        subsets = subsets[ok]
    if len(subsets) == 0:
        return torch.full((1, k), -1, dtype=torch.int64)
    if rate < 1.0:
        keep = min(len(subsets), math.floor(rate * len(subsets)) + 1)
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
    return torch.arange(total, device=counts.device) - _exclusive_cumsum(counts).repeat_interleave(
        counts, output_size=total)


def id_mlp(dim: int) -> nn.Sequential:
    """The code's layer MLP: Linear → ReLU → Linear → LayerNorm → ReLU."""
    return nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim), nn.LayerNorm(dim), nn.ReLU())


@dataclass
class TupleGraphs:
    """The individualised copies of a batch: copy ``c = t · k! + o`` is tuple ``t`` under ordering ``o``; its nodes
    are the nodes of the tuple's graph (``orig_node``), ``label`` is 0 for a node outside the tuple and ``j + 1``
    for position ``j`` of the ordering. ``src``/``dst``/``orig_edge`` are the copies' edges; ``slot`` maps a copy's
    node to its (tuple, node) row, ``tuple_of_slot`` such a row to its tuple; ``tuple_slots`` is ``[T·n_t]``
    (slot → original node) for the per-tuple graphs after the orderings are pooled."""

    orig_node: torch.Tensor
    label: torch.Tensor
    src: torch.Tensor
    dst: torch.Tensor
    orig_edge: torch.Tensor
    slot: torch.Tensor
    tuple_of_slot: torch.Tensor
    slot_node: torch.Tensor
    slot_src: torch.Tensor
    slot_dst: torch.Tensor
    slot_edge: torch.Tensor
    num_tuples: int


def tuple_graphs(inp: KLInput, orderings: torch.Tensor) -> TupleGraphs:
    """Index tensors of every individualised copy and of every tuple's graph (see :class:`TupleGraphs`)."""
    k = orderings.shape[1]
    if inp.tuples.shape[1] != k:
        raise ValueError(f"tuples have {inp.tuples.shape[1]} columns but the model has k = {k}")
    dev = inp.tuples.device
    node_start, edge_start = _exclusive_cumsum(inp.node_counts), _exclusive_cumsum(inp.edge_counts)
    n_orders, T = orderings.shape[0], inp.tuples.shape[0]

    def replicate(owner_graph: torch.Tensor):
        """Nodes and edges of one graph copy per entry of ``owner_graph``."""
        n_per = inp.node_counts[owner_graph]
        start = _exclusive_cumsum(n_per)
        local = _local_arange(n_per)
        orig_node = node_start[owner_graph].repeat_interleave(n_per) + local
        e_per = inp.edge_counts[owner_graph]
        owner_of_edge = torch.arange(len(owner_graph), device=dev).repeat_interleave(e_per)
        orig_edge = edge_start[owner_graph].repeat_interleave(e_per) + _local_arange(e_per)
        shift = (start - node_start[owner_graph])[owner_of_edge]
        return n_per, start, local, orig_node, inp.src[orig_edge] + shift, inp.dst[orig_edge] + shift, orig_edge

    copy_tuple = torch.arange(T, device=dev).repeat_interleave(n_orders)          # copy c = t · k! + o
    copy_order = torch.arange(n_orders, device=dev).repeat(T)
    copy_graph = inp.tuple_graph[copy_tuple]
    n_per, copy_start, local, orig_node, src, dst, orig_edge = replicate(copy_graph)
    label = torch.zeros(int(n_per.sum()), dtype=torch.int64, device=dev)
    chosen = inp.tuples[copy_tuple[:, None], orderings[copy_order]]                 # [C, k] global ids in order
    pos = torch.arange(1, k + 1, device=dev).expand_as(chosen)
    real = chosen >= 0
    where = (copy_start[:, None] + chosen - node_start[copy_graph][:, None])[real]
    label[where] = pos[real]
    tn, t_start, _, slot_node, s_src, s_dst, s_edge = replicate(inp.tuple_graph)
    slot = t_start[copy_tuple].repeat_interleave(n_per) + local
    return TupleGraphs(orig_node, label, src, dst, orig_edge, slot,
                       torch.arange(T, device=dev).repeat_interleave(tn), slot_node, s_src, s_dst, s_edge, T)


def mpnn_step(mlp: nn.Module, h: torch.Tensor, src: torch.Tensor, dst: torch.Tensor,
              gate: torch.Tensor | None) -> torch.Tensor:
    """``h_i + MLP(Σ_{j→i} E(e_ji) ⊙ h_j)`` (``gate``: the edges' ``E``, ``None``: 1)."""
    msg = h[src] if gate is None else h[src] * gate
    return h + mlp(scatter_sum(msg, dst, h.shape[0]))


class _KLBase(nn.Module):
    """The parts the joint and the parallel network share: inputs, edge embedding, orderings, the per-tuple
    global layers and readout (docs/models/kl-gnn.md §3), tuple pooling, chunked evaluation."""

    def __init__(self, in_dim: int | None, out_dim: int, *, k: int, hidden: int, global_layers: int,
                 subset_pool: str, edge_dim: int | None, encode: bool) -> None:
        super().__init__()
        if k not in (1, 2, 3, 4):
            raise ValueError(f"k must be 1..4 (k! orderings per subset), got {k}")
        if subset_pool not in SUBSET_POOLS:
            raise ValueError(f"unknown subset_pool {subset_pool!r}; choose one of {SUBSET_POOLS}")
        self.k, self.hidden, self.subset_pool = k, hidden, subset_pool
        self.register_buffer("orderings", torch.tensor(list(itertools.permutations(range(k))), dtype=torch.int64),
                             persistent=False)
        # encode=False: x is already [N, hidden] and efeat [E, hidden] (the registry model's encoders)
        self.encoder = nn.Linear(in_dim, hidden) if encode else nn.Identity()
        self.edge_encoder = nn.Linear(edge_dim, hidden) if (encode and edge_dim) else nn.Identity()
        # the code's IDEmb has k + 2 rows: positions 0..k-1, k unused, k + 1 "not in the tuple" (parallel model)
        self.id_embedding = nn.Embedding(k + 2, hidden)
        self.global_mlps = nn.ModuleList(id_mlp(hidden) for _ in range(global_layers))
        self.tuple_readout = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU())     # the code's setmlp2

    def gate(self, efeat: torch.Tensor | None) -> torch.Tensor | None:
        return None if efeat is None else self.edge_encoder(efeat)

    def per_tuple(self, h: torch.Tensor, tg: TupleGraphs, gate: torch.Tensor | None) -> torch.Tensor:
        """Per-tuple node states ``[T·n, d]`` → ``global_layers`` MPNN layers on each tuple's graph → sum over the
        nodes → Linear → ReLU: one vector per tuple ``[T, d]``."""
        g = None if gate is None else gate[tg.slot_edge]
        for mlp in self.global_mlps:
            h = mpnn_step(mlp, h, tg.slot_src, tg.slot_dst, g)
        return self.tuple_readout(scatter_sum(h, tg.tuple_of_slot, tg.num_tuples))

    def tuple_embeddings(self, x: torch.Tensor, inp: KLInput, gate: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def embed(self, x: torch.Tensor, inp: KLInput, efeat: torch.Tensor | None = None, *,
              chunk_copies: int | None = None) -> torch.Tensor:
        """One vector per tuple ``[T, hidden]``; ``chunk_copies``: in chunks of at most about this many node
        copies (tuples are independent, so the result is the same; bounds memory where nothing is kept for
        backward)."""
        x, gate = self.encoder(x), self.gate(efeat)
        if chunk_copies is None:
            return self.tuple_embeddings(x, inp, gate)
        copies = inp.node_counts[inp.tuple_graph] * self.orderings.shape[0]
        chunk = torch.div(torch.cumsum(copies, 0) - copies, max(int(chunk_copies), 1), rounding_mode="floor")
        parts = []
        for c in torch.unique(chunk).tolist():   # contiguous ranges: the tuple order is kept
            m = chunk == c
            parts.append(self.tuple_embeddings(x, KLInput(inp.src, inp.dst, inp.node_counts, inp.edge_counts,
                                                          inp.tuples[m], inp.tuple_graph[m]), gate))
        return torch.cat(parts) if parts else x.new_zeros(0, self.hidden)

    def pool_tuples(self, z: torch.Tensor, inp: KLInput) -> torch.Tensor:
        """Pool the tuple embeddings ``z [T, d]`` of every graph: ``[num_graphs, d]``."""
        if self.subset_pool == "max":
            g = z.new_full((inp.num_graphs, z.shape[1]), float("-inf"))
            return g.scatter_reduce(0, inp.tuple_graph[:, None].expand_as(z), z, reduce="amax")
        if self.subset_pool == "sum":
            return scatter_sum(z, inp.tuple_graph, inp.num_graphs)
        return scatter_mean(z, inp.tuple_graph, inp.num_graphs)

    def head(self, g: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor, inp: KLInput, efeat: torch.Tensor | None = None, *,
                chunk_copies: int | None = None) -> torch.Tensor:
        """``x [N, in_dim]``, ``efeat [E, edge_dim]`` or ``None`` → ``[num_graphs, out_dim]``."""
        return self.head(self.pool_tuples(self.embed(x, inp, efeat, chunk_copies=chunk_copies), inp))


class KLGNN(_KLBase):
    """Joint (k, 1)-GNN, the paper's architecture (a) (module docstring; docs/models/kl-gnn.md §2):
    ``h⁰ = Enc(x) ⊙ IDEmb(j)`` on the node at position j of the ordering (other nodes keep ``Enc(x)``), ``layers``
    MPNN layers on every copy, mean over orderings, Linear → ReLU, ``global_layers`` layers per tuple, sum over
    nodes, Linear → ReLU, tuple pooling, Linear."""

    def __init__(self, in_dim: int | None, out_dim: int, *, k: int = 2, hidden: int = 64, layers: int = 4,
                 global_layers: int = 0, subset_pool: str = "max", edge_dim: int | None = None,
                 encode: bool = True) -> None:
        super().__init__(in_dim, out_dim, k=k, hidden=hidden, global_layers=global_layers, subset_pool=subset_pool,
                         edge_dim=edge_dim, encode=encode)
        self.mlps = nn.ModuleList(id_mlp(hidden) for _ in range(layers))
        self.order_readout = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU())     # the code's setmlp1
        self.out = nn.Linear(hidden, out_dim)

    def tuple_embeddings(self, x: torch.Tensor, inp: KLInput, gate: torch.Tensor | None) -> torch.Tensor:
        tg = tuple_graphs(inp, self.orderings)
        h = x[tg.orig_node]
        marked = tg.label > 0
        h = torch.where(marked[:, None], h * self.id_embedding(torch.clamp(tg.label - 1, min=0)), h)
        g = None if gate is None else gate[tg.orig_edge]
        for mlp in self.mlps:
            h = mpnn_step(mlp, h, tg.src, tg.dst, g)
        h = self.order_readout(scatter_mean(h, tg.slot, len(tg.slot_node)))    # relational pooling per node
        return self.per_tuple(h, tg, gate)

    def head(self, g: torch.Tensor) -> torch.Tensor:
        return self.out(g)


class KLGNNParallel(_KLBase):
    """Parallel (k, 1)-GNN, the paper's architecture (b) and the code's ZINC network (module docstring;
    docs/models/kl-gnn.md §3): ``graph_layers`` MPNN layers on the original graph's node states ``x``;
    ``id_layers`` MPNN layers on every copy's identifiers ``z⁰ = IDEmb(j)`` (``IDEmb(k + 1)`` off the tuple); per
    tuple ``MLP₄(x ⊙ Linear→ReLU(mean_orderings z))`` (``combine="add"``: ``x + …``), ``global_layers`` layers,
    sum over nodes, Linear → ReLU, tuple pooling, ``regression_layers`` residual MLP layers, Linear."""

    def __init__(self, in_dim: int | None, out_dim: int, *, k: int = 4, hidden: int = 64, graph_layers: int = 8,
                 id_layers: int = 5, global_layers: int = 5, regression_layers: int = 4, subset_pool: str = "max",
                 combine: str = "hadamard", edge_dim: int | None = None, encode: bool = True) -> None:
        super().__init__(in_dim, out_dim, k=k, hidden=hidden, global_layers=global_layers, subset_pool=subset_pool,
                         edge_dim=edge_dim, encode=encode)
        if combine not in COMBINES:
            raise ValueError(f"unknown combine {combine!r}; choose one of {COMBINES}")
        self.combine = combine
        self.graph_mlps = nn.ModuleList(id_mlp(hidden) for _ in range(graph_layers))
        self.id_mlps = nn.ModuleList(id_mlp(hidden) for _ in range(id_layers))
        self.order_readout = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU())     # the code's setmlp1
        self.merge = id_mlp(hidden)                                                  # the code's setmlp4
        self.regression = nn.ModuleList(id_mlp(hidden) for _ in range(regression_layers))   # setmlp3
        self.out = nn.Linear(hidden, out_dim)

    def tuple_embeddings(self, x: torch.Tensor, inp: KLInput, gate: torch.Tensor | None) -> torch.Tensor:
        for mlp in self.graph_mlps:                    # the original graph, once per batch
            x = mpnn_step(mlp, x, inp.src, inp.dst, gate)
        tg = tuple_graphs(inp, self.orderings)
        z = self.id_embedding(torch.where(tg.label > 0, tg.label - 1, self.k + 1))
        g = None if gate is None else gate[tg.orig_edge]
        for mlp in self.id_mlps:
            z = mpnn_step(mlp, z, tg.src, tg.dst, g)
        z = self.order_readout(scatter_mean(z, tg.slot, len(tg.slot_node)))    # relational pooling per node
        h = x[tg.slot_node]
        h = self.merge(h * z if self.combine == "hadamard" else h + z)
        return self.per_tuple(h, tg, gate)

    def head(self, g: torch.Tensor) -> torch.Tensor:
        for mlp in self.regression:
            g = g + mlp(g)
        return self.out(g)
