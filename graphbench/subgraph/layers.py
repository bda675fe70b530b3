"""One framework for node-based subgraph GNNs: layers built from the SSWL paper's atomic aggregations.

Zhang, Feng, Du, He, Wang, "A Complete Expressiveness Hierarchy for Subgraph GNNs via Subgraph Weisfeiler-Lehman
Tests", ICML 2023. Layer (paper Eq. 3 with the GIN instantiation of the official code ``subgraph23/SWL``,
``src/model.py``)::

    h'(u, v) = ReLU( Norm( Σ_{a ∈ A} MLP_a( (1 + ε_a) · h(u, v) + Σ_{src ∈ a(u, v)} m_a(src) ) ) )

with one ``MLP_a`` (Linear → Norm → ReLU → Linear) and one learned ``ε_a`` (initialised 0) per aggregation, and
messages ``m = ReLU(h_src + EdgeEnc_a(e))`` for the local aggregations ``uL``/``vL`` when edge features are given
(one edge encoder per local aggregation and layer, as the code's ``Bond`` modules), ``m = h_src`` otherwise. The
``uv`` aggregation is the self term alone (``MLP_uv((1 + ε)·h(u, v) + h(u, v))``). Equations and the reference
code's locations: ``docs/models/sswl.md``.

Pooling (paper §2, "VS" and "SV"; official code: an extra aggregation layer without self term ending with BatchNorm
→ ReLU, then a mean over all pairs; docs/models/sswl.md §3): ``VS`` sums ``h(u, ·)`` over the nodes of each
subgraph first, ``SV`` sums ``h(·, v)`` over subgraphs first; the sum is broadcast back to the pairs, goes through
``ReLU(Norm(MLP(·)))`` pair by pair (so BatchNorm's statistics are over pairs, as in the code) and is averaged over
all pair-nodes of a graph. Naming follows the paper's definition (VS = "vertex then subgraph" = pool over v within
each subgraph first); the official ``main_zinc.py`` and ``main_substructure.py`` disagree on which string means
which (docs/models/sswl.md §3).

**Implementation choice.** Message passing is ``torch.index_add`` over the typed index tensors of
:class:`~graphbench.subgraph.product.ProductGraph` (one scatter-sum per aggregation), not a DGL heterograph: the
pair-nodes have no DGL features of their own, the relation set changes per model, and ``index_add`` is the same
kernel DGL's ``copy_u``/``sum`` lowers to on CPU, without building an ``n²``-node graph object per batch. The global
aggregations ``uG``/``vG`` are segment sums over the pairs' root / node, broadcast back (``O(P)`` instead of the
``n³`` typed edges, which give the same sums; :data:`SEGMENT_AGGREGATIONS`).

**Named configurations** (:data:`CONFIGS`; paper Table 1 / ``main_zinc.py`` strings in brackets):

==================  ====================  =====  ===================================================================
name                aggregations          pool   paper model
==================  ====================  =====  ===================================================================
swl                 {uL}                  VS     SWL (``SWL_VS``): DS-GNN / NGNN / vanilla node-marking subgraph GNN
swl_sv              {uL}                  SV     SWL with SV pooling (``SWL_SV``)
pswl                {uL, vv}              VS     PSWL (``PSWL_VS``)
gswl                {uL, vG}              VS     GSWL (``GSWL``): DSS-GNN-like cross-subgraph global term
gnn_sswl            {uL, vL}              VS     GNN-SSWL (``SSWL``), the strongest SWL class
gnn_sswl_plus       {uL, vL, vv}          VS     GNN-SSWL+ (``SSWL_P``)
sun_like            {uL, uu, vv, uG, vG}  VS     SUN (Frasca et al. 2022) restricted to atomic terms: SUN's extra
                                                 "Σ_{w∈N(v)} Σ_x h(x, w)" term is a composition (vG then uL) that
                                                 the framework expresses only over two layers, and SUN's separate
                                                 weights for root pairs (u = v) are not modelled
gnn_ak_like         {uL, vv, vG}          VS     GNN-AK-ctx (Zhao et al. 2022): after each inner GNN the node
                                                 embedding of v combines its centroid state h(v, v) (→ vv) and its
                                                 context Σ_u h(u, v) (→ vG); GNN-AK's subgraph-pooled term
                                                 Σ_w h(v, w) is uG-then-vv, again a two-layer composition
==================  ====================  =====  ===================================================================

The SUN/GNN-AK rows are *-like*: the paper (§4) places both at or below SSWL, and these atomic sets are the closest
one-layer expressions, not reproductions.
"""

from __future__ import annotations

import torch
from torch import nn

from graphbench.data.base import FeatureSpec
from graphbench.nn.encoders import FeatureEncoder
from graphbench.nn.mlp import make_norm
from graphbench.subgraph.product import ATOMIC_AGGREGATIONS, LOCAL_AGGREGATIONS, ProductBatch

#: Named instances of the framework: aggregation set and pooling (see the module docstring).
CONFIGS: dict[str, dict] = {
    "swl": {"aggregations": ("uL",), "pool": "VS"},
    "swl_sv": {"aggregations": ("uL",), "pool": "SV"},
    "pswl": {"aggregations": ("uL", "vv"), "pool": "VS"},
    "gswl": {"aggregations": ("uL", "vG"), "pool": "VS"},
    "gnn_sswl": {"aggregations": ("uL", "vL"), "pool": "VS"},
    "gnn_sswl_plus": {"aggregations": ("uL", "vL", "vv"), "pool": "VS"},
    "sun_like": {"aggregations": ("uL", "uu", "vv", "uG", "vG"), "pool": "VS"},
    "gnn_ak_like": {"aggregations": ("uL", "vv", "vG"), "pool": "VS"},
}
POOLS = ("VS", "SV")
#: Global aggregations computed as segment sums over the pair's root (uG) or node (vG): they need no typed edges.
SEGMENT_AGGREGATIONS = ("uG", "vG")


def scatter_sum(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    """``out[i] = Σ_{j: index[j] = i} src[j]`` with ``size`` rows (zeros where nothing arrives)."""
    out = src.new_zeros((size,) + tuple(src.shape[1:]))
    return out.index_add_(0, index, src)


def scatter_mean(src: torch.Tensor, index: torch.Tensor, size: int) -> torch.Tensor:
    total = scatter_sum(src, index, size)
    count = scatter_sum(torch.ones_like(index, dtype=src.dtype), index, size).clamp(min=1)
    return total / count.view(-1, *([1] * (src.dim() - 1)))


def check_aggregations(aggregations) -> tuple[str, ...]:
    aggs = tuple(aggregations)
    if not aggs:
        raise ValueError("a subgraph layer needs at least one atomic aggregation")
    bad = [a for a in aggs if a not in ATOMIC_AGGREGATIONS]
    if bad:
        raise ValueError(f"unknown atomic aggregation(s) {bad}; choose from {ATOMIC_AGGREGATIONS}")
    if len(set(aggs)) != len(aggs):
        raise ValueError(f"duplicate aggregations in {aggs}")
    return aggs


def edge_spec_of(edge_dim: int | FeatureSpec | None) -> FeatureSpec:
    """An edge-feature spec from a spec, a dense width or ``None`` (no edge features)."""
    if isinstance(edge_dim, FeatureSpec):
        return edge_dim
    return FeatureSpec("dense", dim=int(edge_dim)) if edge_dim else FeatureSpec("none")


class SubgraphLayer(nn.Module):
    """One framework layer (module docstring). ``forward(h [P, d], batch, efeat=None) -> [P, d_out]``.

    ``edge_dim`` (a :class:`~graphbench.data.FeatureSpec` or a dense width): the layer owns one edge encoder per
    local aggregation (``uL``/``vL``), as the code's ``Bond`` modules, and ``efeat`` are the raw input-edge
    features ``[E, ...]``; without ``edge_dim``, ``efeat`` (if given) are already encoded ``[E, in_dim]`` and
    shared by the local aggregations. ``post=False`` returns the sum ``Σ_a MLP_a(...)`` without the outer norm and
    ReLU (a caller that applies them itself, e.g. the shared ``MessagePassingNet.layer_step``)."""

    def __init__(self, in_dim: int, out_dim: int, aggregations, *, norm: str = "batch", post: bool = True,
                 edge_dim: int | FeatureSpec | None = None) -> None:
        super().__init__()
        self.aggregations = check_aggregations(aggregations)
        self.post = post
        self.mlps = nn.ModuleDict({
            a: nn.Sequential(nn.Linear(in_dim, out_dim), make_norm(norm, out_dim), nn.ReLU(),
                             nn.Linear(out_dim, out_dim))
            for a in self.aggregations})
        self.eps = nn.ParameterDict({a: nn.Parameter(torch.zeros(1)) for a in self.aggregations})
        self.norm = make_norm(norm, out_dim) if post else nn.Identity()
        spec = edge_spec_of(edge_dim)
        self.edge_encoders = nn.ModuleDict({a: FeatureEncoder(spec, in_dim) for a in self.aggregations
                                            if a in LOCAL_AGGREGATIONS}) if spec.kind != "none" else None

    def aggregate(self, agg: str, h: torch.Tensor, batch: ProductBatch,
                  efeat: torch.Tensor | None) -> torch.Tensor:
        if agg in SEGMENT_AGGREGATIONS:
            # uG: Σ over every pair (u, w) of subgraph u = a segment sum over the root; vG: Σ over every pair
            # (w, v) holding node v = a segment sum over the node. Same result as the n³ typed edges, O(P) memory.
            key = batch.root if agg == "uG" else batch.node
            return scatter_sum(h, key, batch.num_nodes)[key]
        src, dst = batch.edges[agg]
        msg = h[src]
        if agg in LOCAL_AGGREGATIONS and efeat is not None:
            e = self.edge_encoders[agg](efeat, efeat.shape[0]) if self.edge_encoders is not None else efeat
            msg = torch.relu(msg + e[batch.edge_ids[agg]])
        return scatter_sum(msg, dst, h.shape[0])

    def forward(self, h: torch.Tensor, batch: ProductBatch, efeat: torch.Tensor | None = None) -> torch.Tensor:
        missing = [a for a in self.aggregations if a not in batch.edges and a not in SEGMENT_AGGREGATIONS]
        if missing:
            raise KeyError(f"the product graph lacks the typed edges of {missing}; build it with these aggregations")
        out = 0
        for a in self.aggregations:
            z = (1 + self.eps[a]) * h + self.aggregate(a, h, batch, efeat)
            out = out + self.mlps[a](z)
        return torch.relu(self.norm(out)) if self.post else out


class SubgraphPool(nn.Module):
    """VS / SV pooling (module docstring): ``[P, d] -> [num_graphs, d]``; the code's final aggregation layer
    ``ReLU(Norm(MLP(Σ)))`` applied pair by pair, then the mean over a graph's pairs."""

    def __init__(self, dim: int, pool: str = "VS", *, norm: str = "batch") -> None:
        super().__init__()
        if pool not in POOLS:
            raise ValueError(f"unknown pooling {pool!r}; choose one of {POOLS}")
        self.pool = pool
        self.mlp = nn.Sequential(nn.Linear(dim, dim), make_norm(norm, dim), nn.ReLU(), nn.Linear(dim, dim))
        self.norm = make_norm(norm, dim)

    def forward(self, h: torch.Tensor, batch: ProductBatch) -> torch.Tensor:
        key = batch.root if self.pool == "VS" else batch.node      # VS: Σ_v h(u, v) per root u; SV: Σ_u per v
        pooled = torch.relu(self.norm(self.mlp(scatter_sum(h, key, batch.num_nodes)[key])))
        return scatter_mean(pooled, batch.pair_graph, batch.num_graphs)


def wide_head(dim: int, out_dim: int, dropout: float = 0.0) -> nn.Sequential:
    """The code's prediction MLP: Linear(d, 2d) → ReLU → Linear(2d, out), no norm (``dropout`` before the last
    Linear; the code has none)."""
    return nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Dropout(dropout), nn.Linear(2 * dim, out_dim))


class SubgraphGNN(nn.Module):
    """A node-based subgraph GNN of the framework: ``h⁰(u, v) = NodeEnc(x_v) + LabelEmb(label(u, v))``, ``layers``
    × :class:`SubgraphLayer`, :class:`SubgraphPool`, head MLP (d → 2d → out, no norm, as the official code).

    ``forward(x [N, in_dim], batch, efeat=None [E, edge_dim]) -> [num_graphs, out_dim]``; ``node_x`` is float
    (dense features; use ones for featureless graphs). ``pair_states`` returns the last layer's ``h [P, d]``.
    """

    def __init__(self, in_dim: int, out_dim: int, *, hidden: int = 96, layers: int = 6, config: str | None = None,
                 aggregations=None, pool: str | None = None, num_labels: int = 6, edge_dim: int | None = None,
                 norm: str = "batch", residual: bool = False) -> None:
        super().__init__()
        if config is not None:
            if config not in CONFIGS:
                raise ValueError(f"unknown subgraph GNN configuration {config!r}; choose one of {sorted(CONFIGS)}")
            aggregations = aggregations or CONFIGS[config]["aggregations"]
            pool = pool or CONFIGS[config]["pool"]
        if aggregations is None:
            raise ValueError("give a named config or an aggregation set")
        self.aggregations = check_aggregations(aggregations)
        self.residual = residual
        self.node_encoder = nn.Linear(in_dim, hidden)
        self.label_embedding = nn.Embedding(num_labels, hidden)
        self.layers = nn.ModuleList(SubgraphLayer(hidden, hidden, self.aggregations, norm=norm, edge_dim=edge_dim)
                                    for _ in range(layers))
        self.pool = SubgraphPool(hidden, pool or "VS", norm=norm)
        self.head = wide_head(hidden, out_dim)

    def pair_states(self, x: torch.Tensor, batch: ProductBatch, efeat: torch.Tensor | None = None) -> torch.Tensor:
        if batch.num_pairs and int(batch.label.max()) >= self.label_embedding.num_embeddings:
            raise ValueError(f"pair label {int(batch.label.max())} exceeds the label embedding "
                             f"({self.label_embedding.num_embeddings} entries); raise num_labels or lower max_dist")
        h = self.node_encoder(x)[batch.node] + self.label_embedding(batch.label)
        for layer in self.layers:
            out = layer(h, batch, efeat)
            h = h + out if self.residual else out
        return h

    def forward(self, x: torch.Tensor, batch: ProductBatch, efeat: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.pool(self.pair_states(x, batch, efeat), batch))
