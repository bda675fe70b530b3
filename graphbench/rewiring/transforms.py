"""The pre-processing rewirings as registered, cached transforms (issue #13): ``laser``, ``gtr``, ``fosr``,
``sdrf``, ``borf``.

Each is a pure function of one graph (``graphbench.rewiring``) wrapped for the transform registry: the result is
a new graph structure with an integer edge type per edge in ``edata["etype"]`` — **input edges 0, added edges
≥ 1** — the input's node data (features, targets, encodings computed earlier in the chain) copied, and its edge
data carried over to the surviving input edges by edge id; added edges get 0 in every other edge-data field (a
relational model tells them apart by ``etype``). A graph that already has ``etype`` (a rewiring after another)
keeps its input types and the added ones are shifted past them, so chained rewirings never merge relations.

Use with any model and dataset, from a run file, ``--set`` or a sweep (parameters are searchable as dotted names)::

    graphbench run --model gcn --dataset ring-transfer-n20 --set 'transforms=[{"name": "fosr", "num_edges": 20}]'
    hparams: {transforms: [{name: laser}]}      search_space: {laser.rho: {type: float, low: 0.1, high: 0.5}}

or through the relational models that consume the edge types as the papers do (``rgcn``/``rgin`` on any chain;
``fosr-gcn``, ``gtr-gcn``, ``sdrf-gin``, ..., ``laser-gcn``, which bring their rewiring with them).

**Edge types.** GTR, FoSR, SDRF, BORF: ``0`` input, ``1`` added (SDRF/BORF also remove edges; removed input edges
are gone). LASER: ``etype = r − 1`` for an edge added at radius r (r = 2..num_snapshots), i.e. the 0-based
snapshot index, input edges 0 — so ``num_snapshots`` L gives L edge types, one weight set each in LASER's model.

**LASER's released reading** (``docs/models/laser.md`` §3). By default every node chooses from its whole orbit
and each chosen pair is added in both directions (``symmetric=true``): the undirected snapshots the paper describes,
independent of the node numbering. The released transform differs in three ways, each a switch here and all three
set by the ``laser2024-*`` presets: ``symmetric=false`` — only the lower triangle of its distance matrix is read, so
node i chooses among the nodes ``j < i`` of its orbit and adds the one edge ``i → j``; ``rounding=round`` — the budget
``round(ρ·|O|)`` (half to even) instead of ``⌈ρ·|O|⌉``; ``distances=released`` — its "fast" distance matrix aliases
the adjacency, so radius 3 also holds the nodes at distance 4 (radius r ≥ 3: ``2^(r−2) < d ≤ 2^(r−1)``) and the
connectivity is the 8th power of that matrix.

**Seeds.** ``laser`` (tie-breaking), ``fosr`` (random start of the power iteration) and ``sdrf`` (softmax
sampling) are stochastic: they receive the run's per-graph generator (seeded from the run seed and the graph's
index) and are cached per seed. ``gtr`` and ``borf`` are deterministic (cached once for every seed).
"""

from __future__ import annotations

import dgl

from graphbench.hparams import HParam
from graphbench.rewiring.base import Rewiring
from graphbench.rewiring.borf import SELECT, borf
from graphbench.rewiring.fosr import fosr
from graphbench.rewiring.gtr import gtr
from graphbench.rewiring.laser import laser
from graphbench.rewiring.sdrf import sdrf
from graphbench.transforms.base import Edge, TransformResult, register_transform

#: The edge type output every rewiring declares (``batch.etype``; see ``graphbench.nn.relational``).
ETYPE = {"etype": Edge(role="etype")}

LASER_HPARAMS = {
    "num_snapshots": HParam(int, 3, "L: snapshots incl. the input graph; edges are added at radius 2..L "
                            "(released configs: 2-4, 3 on Peptides)", low=1),
    "rho": HParam(float, 0.5, "ρ: fraction of each orbit {j : d(i, j) = r} a node connects to (0.1-0.5)", low=0.0,
                  high=1.0),
    "min_additions": HParam(int, 1, "at least this many additions per node and radius (if the orbit is non-empty)",
                            low=0),
    "symmetric": HParam(bool, True, "choose from the whole orbit and add each pair in both directions (off: the "
                        "released code's reading: choose among j < i only and add i → j)"),
    "rounding": HParam(str, "ceil", "per-orbit budget: ceil(ρ|O|), or round(ρ|O|) half to even as the released code",
                       choices=("ceil", "round")),
    "distances": HParam(str, "exact", "orbits from exact distances, or from the released code's aliased 'fast' "
                        "matrix (radius 3 also holds distance 4; its 8th power as connectivity)",
                        choices=("exact", "released")),
}
GTR_HPARAMS = {"num_edges": HParam(int, 10, "edges GTR adds per graph (greedy total-resistance decrease)", low=0)}
FOSR_HPARAMS = {
    "num_edges": HParam(int, 10, "edges FoSR adds per graph (LASER compares with 40; FoSR's TU grid 5-40)", low=0),
    "initial_power_iters": HParam(int, 5, "power-iteration steps before the first addition (5 for graph "
                                  "classification in the reference)", low=0),
}
SDRF_HPARAMS = {
    "loops": HParam(int, 10, "maximum iterations (one addition and at most one removal each)", low=0),
    "tau": HParam(float, 1.0, "softmax temperature over curvature improvements (larger is greedier)", low=0.0,
                  low_open=True),
    "remove_edges": HParam(bool, True, "remove the most positively curved edge when above removal_bound"),
    "removal_bound": HParam(float, 0.5, "C+: curvature above which the most positive edge is removed"),
}
BORF_HPARAMS = {
    "iterations": HParam(int, 1, "batches of the Ollivier-Ricci flow (graph classification grid 1-5)", low=0),
    "batch_add": HParam(int, 4, "edges added per batch around the most negatively curved edges (grid 1-5)",
                        low=0),
    "batch_remove": HParam(int, 2, "most positively curved edges removed per batch (grid 0-3)", low=0),
    "select": HParam(str, "cost", "which transported pair to connect: largest transport cost (the reference) or "
                     "largest mass", choices=SELECT),
}


def _result(graph: dgl.DGLGraph, rewired: Rewiring) -> TransformResult:
    return TransformResult(graph=rewired.to_dgl(graph, etype_key="etype", added_edge_fill=0.0))


@register_transform("laser", version=2, hparams=LASER_HPARAMS, outputs=ETYPE, stochastic=True,
                    paper="Barbero, Velingker, Saberi, Bronstein, Di Giovanni, ICLR 2024 (LASER)")
def laser_transform(graph: dgl.DGLGraph, extras: dict, *, rng, num_snapshots: int, rho: float, min_additions: int,
                    symmetric: bool, rounding: str, distances: str) -> TransformResult:
    """LASER (orbit level): for radius r = 2..L each node connects to the ⌈ρ·|orbit|⌉ nodes at distance exactly r
    that are least connected to it by (A+I)^8 (ties broken by the seed); edge type r − 1, input edges 0; symmetric
    by default. ``symmetric=false``, ``rounding=round`` and ``distances=released`` reproduce the released transform
    (see graphbench.rewiring.laser)."""
    return _result(graph, laser(graph, num_snapshots=num_snapshots, rho=rho, min_additions=min_additions,
                                seed=rng, symmetric=symmetric, first_etype=0, rounding=rounding,
                                distances=distances))


@register_transform("gtr", version=1, hparams=GTR_HPARAMS, outputs=ETYPE,
                    paper="Black, Wan, Nayyeri, Wang, ICML 2023 (GTR)")
def gtr_transform(graph: dgl.DGLGraph, extras: dict, *, num_edges: int) -> TransformResult:
    """Greedy Total Resistance: add, one at a time, the non-edge whose addition lowers the total effective
    resistance the most (Sherman-Morrison updates, float64); added edges type 1, both directions. Deterministic."""
    return _result(graph, gtr(graph, num_edges=num_edges))


@register_transform("fosr", version=1, hparams=FOSR_HPARAMS, outputs=ETYPE, stochastic=True,
                    paper="Karhadkar, Banerjee, Montúfar, ICLR 2023 (FoSR)")
def fosr_transform(graph: dgl.DGLGraph, extras: dict, *, rng, num_edges: int,
                   initial_power_iters: int) -> TransformResult:
    """First-order Spectral Rewiring: add the non-edges that raise the spectral gap most to first order (power
    iteration on the second eigenvector, random start from the seed); added edges type 1, both directions."""
    return _result(graph, fosr(graph, num_edges=num_edges, initial_power_iters=initial_power_iters, seed=rng))


@register_transform("sdrf", version=1, hparams=SDRF_HPARAMS, outputs=ETYPE, stochastic=True,
                    paper="Topping, Di Giovanni, Chamberlain, Dong, Bronstein, ICLR 2022 (SDRF)")
def sdrf_transform(graph: dgl.DGLGraph, extras: dict, *, rng, loops: int, tau: float, remove_edges: bool,
                   removal_bound: float) -> TransformResult:
    """Stochastic Discrete Ricci Flow on the balanced Forman curvature: support the most negatively curved edge by
    a sampled new edge (softmax of the curvature gains), remove the most positive edge above C+; added edges
    type 1."""
    return _result(graph, sdrf(graph, loops=loops, tau=tau, removal_bound=removal_bound if remove_edges else None,
                               seed=rng))


@register_transform("borf", version=1, hparams=BORF_HPARAMS, outputs=ETYPE,
                    paper="Nguyen, Nong, Nguyen, Ho, Osher, Nguyen, ICML 2023 (BORF)")
def borf_transform(graph: dgl.DGLGraph, extras: dict, *, iterations: int, batch_add: int, batch_remove: int,
                   select: str) -> TransformResult:
    """Batch Ollivier-Ricci Flow: per batch, connect the most-transported neighbour pair around each of the
    batch_add most negatively curved edges and remove the batch_remove most positive ones (POT's exact transport);
    added edges type 1. Deterministic."""
    return _result(graph, borf(graph, iterations=iterations, batch_add=batch_add, batch_remove=batch_remove,
                               select=select))


#: rewiring name -> its declared parameters (the models that bring their rewiring take them as hyperparameters)
REWIRING_HPARAMS = {"laser": LASER_HPARAMS, "gtr": GTR_HPARAMS, "fosr": FOSR_HPARAMS, "sdrf": SDRF_HPARAMS,
                    "borf": BORF_HPARAMS}
