"""The lifted inputs of the subgraph GNNs as registered, cached transforms (``graphbench.transforms``).

- ``sswl_product``: the product graph of :mod:`graphbench.subgraph.product` (Zhang et al., ICML 2023) — one
  pair-node per (root u, node v), the initial pair label of the generation policy (node marking, or the exact
  shortest-path distance clamped to ``max_dist`` with ∞ replaced *before* the integer cast) and the typed edge sets
  of the atomic aggregations named in ``aggregations`` (``hops > 0``: k-hop ego subgraphs). Its per-graph extras are
  those of :func:`~graphbench.subgraph.product.to_extras` for **all eight** aggregations (a transform declares a
  fixed set of outputs): the aggregations not asked for are stored as empty ``[2, 0]`` tensors, and
  ``sswl_built`` (``[8]`` flags, :data:`ATOMIC_AGGREGATIONS` order) says which were built, so a model can refuse a
  product graph that lacks its aggregations instead of silently aggregating nothing. Index tensors are stored as
  int32 (half the cache; the batch's offsets turn them into int64), labels as int8.
- ``kl_tuples``: the k-subsets of nodes a (k, 1)-GNN individualises (Zhou et al., ICML 2023), all of them or only
  those with pairwise shortest-path distance ≤ ``max_dist``; the rate sampling happens in the model (fresh tuples
  every training step, seeded ensembles at test time), so this transform is deterministic and cached once.

Both are pure functions of one graph and are cached per dataset like every chain
(:func:`graphbench.transforms.apply.prepare`).
"""

from __future__ import annotations

import torch

from graphbench.hparams import HParam
from graphbench.subgraph.kl import sample_tuples
from graphbench.subgraph.product import ATOMIC_AGGREGATIONS, POLICIES, extra_specs, product_graph_of, to_extras
from graphbench.transforms.base import Concat, EdgeIndex, NodeIndex, SubGraph, TransformResult, register_transform

#: Largest ``max_dist`` (labels are stored as int8).
MAX_LABEL = 100


def parse_aggregations(text: str) -> tuple[str, ...]:
    """``"uL,vL,vv"`` → ``("uL", "vL", "vv")`` in the canonical order of :data:`ATOMIC_AGGREGATIONS`; unknown or
    empty names raise ``ValueError`` naming the valid ones."""
    names = [a.strip() for a in str(text).split(",") if a.strip()]
    bad = [a for a in names if a not in ATOMIC_AGGREGATIONS]
    if bad or not names:
        raise ValueError(f"aggregations {text!r}: give a comma-separated subset of {', '.join(ATOMIC_AGGREGATIONS)} "
                         f"(case-sensitive){'; unknown: ' + ', '.join(bad) if bad else ''}")
    return tuple(a for a in ATOMIC_AGGREGATIONS if a in names)


def aggregation_string(aggregations) -> str:
    """The canonical ``aggregations`` parameter for a set of aggregations (one cache entry per set)."""
    return ",".join(a for a in ATOMIC_AGGREGATIONS if a in set(aggregations))


def _as_extra(spec: tuple[str, int, str | None]):
    index, dim, of = spec
    if index == "graph":
        return SubGraph()
    return NodeIndex(dim, of) if index == "nodes" else EdgeIndex(dim, of)


#: The declared outputs of ``sswl_product`` (a model reading them declares the same ``extras``).
SSWL_EXTRAS = {**{k: _as_extra(v) for k, v in extra_specs(ATOMIC_AGGREGATIONS).items()}, "sswl_built": Concat()}


@register_transform(
    "sswl_product", version=1, paper="Zhang, Feng, Du, He, Wang, ICML 2023 (SSWL), §2–3",
    hparams={"policy": HParam(str, "distance", "generation policy: node marking 1[u = v], or the shortest-path "
                              "distance d(u, v) clamped to max_dist", choices=POLICIES),
             "max_dist": HParam(int, 5, "distance encoding: labels min(d, max_dist); unreachable pairs get max_dist",
                                low=1, high=MAX_LABEL),
             "hops": HParam(int, 0, "restrict each subgraph to the root's hops-hop ego network (0: whole graph)",
                            low=0),
             "aggregations": HParam(str, "uL,vL,vv", "atomic aggregations whose typed edges are built (comma "
                                    "list of uL, vL, uG, vG, uu, vv, vu, uv)")},
    outputs=SSWL_EXTRAS)
def sswl_product(graph, extras, *, policy: str, max_dist: int, hops: int, aggregations: str) -> TransformResult:
    """The product graph (pair-nodes, labels, typed edge sets) of one graph; see the module docstring."""
    aggs = parse_aggregations(aggregations)
    pg = product_graph_of(graph, policy=policy, max_dist=max_dist, hops=hops or None, aggregations=aggs)
    out = to_extras(pg)
    out["sswl_pairs"].ndata["label"] = out["sswl_pairs"].ndata["label"].to(torch.int8)
    empty = torch.zeros(2, 0, dtype=torch.int32)
    for key, spec in extra_specs(ATOMIC_AGGREGATIONS).items():
        if key == "sswl_pairs":
            continue
        if key not in out:  # an aggregation not asked for: empty, flagged as not built in sswl_built
            out[key] = empty if spec[1] == 1 else torch.zeros(0, dtype=torch.int32)
        out[key] = out[key].to(torch.int32)
    out["sswl_built"] = torch.tensor([a in aggs for a in ATOMIC_AGGREGATIONS], dtype=torch.int8)
    return TransformResult(extras=out)


@register_transform(
    "kl_tuples", version=2, paper="Zhou, Wang, Zhang, ICML 2023 ((k, l)-WL), zinc/preprocess.py",
    hparams={"k": HParam(int, 2, "nodes individualised per tuple", low=1, high=4),
             "max_dist": HParam(int, 0, "keep only k-subsets whose pairwise shortest-path distances are <= this "
                                "(the code's distlimitu; 0: keep all)", low=0)},
    outputs={"kl_tuples": NodeIndex()})
def kl_tuples(graph, extras, *, k: int, max_dist: int) -> TransformResult:
    """All k-subsets of the graph's nodes (ascending ids, ``[T, k]``), distance-filtered; ``-1`` pads a graph with
    fewer than k nodes to one partial tuple; a graph whose filter keeps nothing gets one empty tuple (all ``-1``)."""
    src, dst = graph.edges()
    tup = sample_tuples(graph.num_nodes(), src, dst, k, rate=1.0, max_dist=max_dist or None)
    return TransformResult(extras={"kl_tuples": tup.to(torch.int32)})
