"""Graph readout: pool node states of each graph in a batch into one vector.

``READOUTS`` are DGL's parameter-free segment reductions. Models that take ``readout=`` by aggregator name
(GIN, GraphSAGE) build it with :func:`make_readout`: a ``READOUTS`` name stays a string, any other registered
aggregator (``lcm``, ``gnp``, ``pna``, ``gru``, …) becomes a module whose ``pool`` aggregates each graph's node
multiset — readout is aggregation over a graph's nodes.
"""

from __future__ import annotations

import dgl
import torch
from torch import nn

from graphbench.nn.aggregators import Aggregator, make_aggregator

READOUTS = ("sum", "mean", "max", "target")
"""``target`` reads the one node per graph marked in ``ndata["target"]`` (long-range tasks: the tree's root in
TreeNeighbourMatch, node 0 in RingTransfer), as Alon & Yahav (2021) and DRew do; the others are DGL reductions."""


def make_readout(name: str, dim: int, *, reg: float = 0.0) -> str | Aggregator:
    """``name`` itself for a ``READOUTS`` name, else the registered aggregator of width ``dim`` (λ = ``reg``)."""
    return name if name in READOUTS else make_aggregator(name, dim, reg=reg)


def readout(graph: dgl.DGLGraph, h: torch.Tensor, op: str | nn.Module) -> torch.Tensor:
    """``[num_nodes, d] -> [batch_size, d]``: DGL's segment reduction for a ``READOUTS`` name, or an aggregator
    module's ``pool``."""
    if isinstance(op, Aggregator):
        return op.pool(graph, h)
    if op not in READOUTS:
        raise ValueError(f"unknown readout {op!r}; choose one of {READOUTS} (or, in models that take aggregator "
                         "names as readouts, a registered aggregator)")
    if op == "target":
        if "target" not in graph.ndata:
            raise ValueError("readout 'target' needs the dataset to mark one node per graph in ndata['target']")
        mask = graph.ndata["target"].bool()
        if int(mask.sum()) != graph.batch_size:
            raise ValueError(f"readout 'target': {int(mask.sum())} marked nodes for {graph.batch_size} graphs")
        return h[mask]  # nodes of a batch are ordered graph by graph, so rows follow the batch order
    with graph.local_scope():
        graph.ndata["_h"] = h
        return dgl.readout_nodes(graph, "_h", op=op)
