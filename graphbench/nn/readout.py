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

READOUTS = ("sum", "mean", "max")


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
    with graph.local_scope():
        graph.ndata["_h"] = h
        return dgl.readout_nodes(graph, "_h", op=op)
