"""Graph readout: pool node states of each graph in a batch into one vector."""

from __future__ import annotations

import dgl
import torch

READOUTS = ("sum", "mean", "max")


def readout(graph: dgl.DGLGraph, h: torch.Tensor, op: str) -> torch.Tensor:
    """``[num_nodes, d] -> [batch_size, d]`` with DGL's segment reductions (``op`` in READOUTS)."""
    if op not in READOUTS:
        raise ValueError(f"unknown readout {op!r}; choose one of {READOUTS}")
    with graph.local_scope():
        graph.ndata["_h"] = h
        return dgl.readout_nodes(graph, "_h", op=op)
