"""Memory guard for lifted graphs: estimate before training, stop with a clear message when it will not fit.

A node-based subgraph GNN on a graph with ``n`` nodes and ``|E|`` directed edges works on ``n²`` pair-nodes with
typed edge sets of sizes (full subgraphs; :mod:`graphbench.subgraph.product`)::

    uL, vL: n·|E|      uG, vG: n³      uu, vv, vu, uv: n²

:func:`estimate_lifted_size` counts these for the largest training batch (the ``batch_size`` graphs with the most
pair-nodes, which sets peak memory) and for the whole dataset (the size of the cached transform), and turns them
into bytes at a given hidden width::

    index bytes       = 8 · Σ_a 2·m_a  (+ 8·m_a edge ids for uL/vL)              int64 (src, dst) per typed edge
    activation bytes  = b · P · d · layers · (4·|A| + 3)                           saved for backward per layer
    message bytes     = b · max_a m_a · d                                          largest gathered message tensor

(``b`` bytes per float, ``P`` pair-nodes, ``d`` hidden width, ``|A|`` aggregations per layer; ``4·|A| + 3``
counts each aggregation's MLP input, hidden, norm and ReLU outputs plus the layer's sum, norm and ReLU).
With ``segment_globals=True`` (what the registered models do: :class:`~graphbench.subgraph.layers.SubgraphLayer`
computes ``uG``/``vG`` as segment sums over the pairs) the global aggregations count no typed edges and their
largest message is ``P · d``. ``benchmarks/subgraph_cost.py`` compares this estimate with the bytes autograd actually
saves. With ``hops`` set (ego subgraphs) the counts are those of the ego subgraphs (:func:`ego_counts`, exact).

:func:`check_lifted_size` raises :class:`LiftedGraphTooLarge` with the estimate, the budget and what to change.
The budget defaults to ``$GRAPHBENCH_SUBGRAPH_BUDGET_GB`` or 8 GiB.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from graphbench.hparams import HParam
from graphbench.subgraph.product import ATOMIC_AGGREGATIONS, LOCAL_AGGREGATIONS

BUDGET_ENV = "GRAPHBENCH_SUBGRAPH_BUDGET_GB"
DEFAULT_BUDGET_GB = 8.0
GIB = 1024 ** 3
#: The ``lifted_budget_gb`` hyperparameter every registered subgraph model takes.
BUDGET_HPARAM = HParam(float, 0.0, "memory guard: stop before training when the lifted graph of the largest "
                       "training batch is estimated above this many GiB (0: $GRAPHBENCH_SUBGRAPH_BUDGET_GB, else 8)",
                       low=0.0)


class LiftedGraphTooLarge(MemoryError):
    """The lifted (product) graph of a training batch would exceed the memory budget."""


def typed_edge_counts(n: int, num_edges: int, aggregations: Iterable[str]) -> dict[str, int]:
    """Typed edges of one graph's full product graph per aggregation (module docstring)."""
    counts = {"uL": n * num_edges, "vL": n * num_edges, "uG": n ** 3, "vG": n ** 3,
              "uu": n * n, "vv": n * n, "vu": n * n, "uv": n * n}
    return {a: counts[a] for a in aggregations}


@dataclass
class LiftedSize:
    """Estimate for the largest batch (``batch_*``, ``bytes``) and the whole dataset (``dataset_*``)."""

    batch_graphs: int
    batch_max_nodes: int
    batch_pair_nodes: int
    batch_typed_edges: dict[str, int]
    index_bytes: int
    activation_bytes: int
    message_bytes: int
    dataset_pair_nodes: int
    dataset_typed_edges: int
    hidden: int
    layers: int
    aggregations: tuple[str, ...] = field(default_factory=tuple)

    @property
    def bytes(self) -> int:
        return self.index_bytes + self.activation_bytes + self.message_bytes

    def describe(self) -> str:
        edges = ", ".join(f"{a} {m:,}" for a, m in self.batch_typed_edges.items())
        return (f"largest batch: {self.batch_graphs} graphs (max n = {self.batch_max_nodes}) → "
                f"{self.batch_pair_nodes:,} pair-nodes, {sum(self.batch_typed_edges.values()):,} typed edges "
                f"({edges}); ≈ {self.bytes / GIB:.2f} GiB at hidden {self.hidden} × {self.layers} layers "
                f"(indices {self.index_bytes / GIB:.2f}, activations {self.activation_bytes / GIB:.2f}, "
                f"messages {self.message_bytes / GIB:.2f}); whole dataset {self.dataset_pair_nodes:,} pair-nodes, "
                f"{self.dataset_typed_edges:,} typed edges")


def estimate_lifted_size(graph_sizes: Sequence[tuple[int, int]], *, aggregations: Iterable[str] = ("uL", "vL", "vv"),
                         hidden: int = 96, layers: int = 6, batch_size: int = 128,
                         bytes_per_float: int = 4, segment_globals: bool = False,
                         ego_counts: Sequence[dict[str, int]] | None = None) -> LiftedSize:
    """Estimate the lifted graph of a dataset given ``(num_nodes, num_directed_edges)`` per graph (see the module
    docstring for the byte model). ``segment_globals``: ``uG``/``vG`` are computed as segment sums (as
    :class:`~graphbench.subgraph.layers.SubgraphLayer` does), so they materialise no typed edges. ``ego_counts``
    (one per graph, from :func:`ego_counts`): the exact pair-nodes and typed edges of k-hop ego subgraphs, used
    instead of the full-subgraph counts."""
    aggs = tuple(aggregations)
    bad = [a for a in aggs if a not in ATOMIC_AGGREGATIONS]
    if bad:
        raise ValueError(f"unknown atomic aggregation(s) {bad}; choose from {ATOMIC_AGGREGATIONS}")
    if batch_size < 1 or hidden < 1 or layers < 1:
        raise ValueError("batch_size, hidden and layers must be >= 1")
    if not graph_sizes:
        raise ValueError("no graphs to estimate")
    edge_aggs = tuple(a for a in aggs if not (segment_globals and a in ("uG", "vG")))
    if ego_counts is not None and len(ego_counts) != len(graph_sizes):
        raise ValueError("ego_counts needs one entry per graph")
    per_graph = [(n, n * n, typed_edge_counts(n, e, edge_aggs)) if ego_counts is None else
                 (n, ego_counts[i]["pairs"], {a: ego_counts[i][a] for a in edge_aggs})
                 for i, (n, e) in enumerate(graph_sizes)]
    largest = sorted(per_graph, key=lambda t: t[1], reverse=True)[:batch_size]
    batch_edges = {a: sum(t[2][a] for t in largest) for a in edge_aggs}
    pairs = sum(p for _, p, _ in largest)
    index = 8 * sum(2 * m + (m if a in LOCAL_AGGREGATIONS else 0) for a, m in batch_edges.items())
    activations = bytes_per_float * pairs * hidden * layers * (4 * len(aggs) + 3)
    messages = bytes_per_float * max([*batch_edges.values(), pairs], default=0) * hidden
    return LiftedSize(batch_graphs=len(largest), batch_max_nodes=max(n for n, _, _ in largest),
                      batch_pair_nodes=pairs, batch_typed_edges=batch_edges, index_bytes=index,
                      activation_bytes=activations, message_bytes=messages,
                      dataset_pair_nodes=sum(p for _, p, _ in per_graph),
                      dataset_typed_edges=sum(sum(t[2].values()) for t in per_graph), hidden=hidden, layers=layers,
                      aggregations=edge_aggs)


def ego_counts(num_nodes: int, src, dst, hops: int) -> dict[str, int]:
    """Exact sizes of one graph's product graph restricted to ``hops``-hop ego subgraphs (pair ``(u, v)`` exists iff
    ``d(u, v) ≤ hops``, as :func:`~graphbench.subgraph.product.build_product_graph`): pair-nodes and typed edges per
    atomic aggregation (``uG``/``vG`` as the triples they would materialise)."""
    import torch

    from graphbench.subgraph.product import shortest_path_distances

    src, dst = torch.as_tensor(src, dtype=torch.int64), torch.as_tensor(dst, dtype=torch.int64)
    member = shortest_path_distances(int(num_nodes), src, dst) <= hops   # [u, v]: v in the subgraph of u
    size = member.sum(1)                                                  # |G^u|
    pairs = int(size.sum())
    ul = int((member[:, src] & member[:, dst]).sum())                     # edges w → v inside G^u, per root u
    vl = int((member[src, :] & member[dst, :]).sum())                     # edges w → u with v in G^w and G^u
    mutual = int((member & member.t()).sum())                             # (u, v) and (v, u) both exist
    return {"pairs": pairs, "uL": ul, "vL": vl, "uG": int((size * size).sum()),
            "vG": int((member.sum(0) ** 2).sum()), "uu": pairs, "vv": pairs, "vu": mutual, "uv": mutual}


def budget_bytes(budget_gb: float | None = None) -> int:
    """The budget in bytes: the argument, else ``$GRAPHBENCH_SUBGRAPH_BUDGET_GB``, else 8 GiB."""
    if budget_gb is None:
        raw = os.environ.get(BUDGET_ENV)
        try:
            budget_gb = float(raw) if raw else DEFAULT_BUDGET_GB
        except ValueError:
            raise ValueError(f"${BUDGET_ENV}={raw!r} is not a number of GiB") from None
    if budget_gb <= 0:
        raise ValueError(f"the lifted-graph budget must be positive, got {budget_gb} GiB")
    return int(budget_gb * GIB)


def check_lifted_size(estimate: LiftedSize, budget_gb: float | None = None, *,
                      budget_name: str = "budget_gb") -> LiftedSize:
    """Raise :class:`LiftedGraphTooLarge` when ``estimate.bytes`` exceeds the budget; return the estimate.
    ``budget_name`` is how the caller's users set the budget (named in the message)."""
    budget = budget_bytes(budget_gb)
    if estimate.bytes <= budget:
        return estimate
    global_aggs = [a for a in estimate.aggregations if a in ("uG", "vG")]
    hints = [f"lower batch_size (now {estimate.batch_graphs}; memory is roughly proportional to it)",
             "restrict subgraphs to k-hop ego networks (hops=k)",
             f"lower hidden (now {estimate.hidden}) or layers (now {estimate.layers})"]
    if global_aggs:
        hints.insert(1, f"drop the global aggregations {global_aggs} (n³ typed edges per graph)")
    hints.append(f"or raise the budget ({budget_name} / ${BUDGET_ENV})")
    raise LiftedGraphTooLarge(
        f"the lifted graph does not fit the memory budget: estimated {estimate.bytes / GIB:.2f} GiB > budget "
        f"{budget / GIB:.2f} GiB. {estimate.describe()}. To fit: " + "; ".join(hints) + ".")


def graph_sizes(dataset) -> list[tuple[int, int]]:
    """``(nodes, directed edges)`` of every graph of a dataset."""
    return [(g.num_nodes(), g.num_edges()) for g in dataset.graphs]


def check_budget(est: int, budget_gb: float | None, largest: str, remedy: str) -> None:
    """Raise :class:`LiftedGraphTooLarge` when ``est`` bytes exceed the budget (``budget_gb``; ``None`` or 0: the
    default): the message states the estimate, the budget, the largest batch (``largest``) and what to change
    (``remedy``). The (k, 1)-GNN and SPEN guards use it; the SSWL guard uses :func:`check_lifted_size`."""
    budget = budget_bytes(budget_gb or None)
    if est > budget:
        raise LiftedGraphTooLarge(
            f"the lifted graph does not fit the memory budget: estimated {est / GIB:.2f} GiB > budget "
            f"{budget / GIB:.2f} GiB. largest batch: {largest}. To fit: {remedy}; or raise the budget "
            "(lifted_budget_gb / $GRAPHBENCH_SUBGRAPH_BUDGET_GB).")
