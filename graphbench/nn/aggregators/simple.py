"""Parameter-free aggregators: sum, mean, max, min (DGL's fused reductions) and std.

For an in-neighbourhood multiset ``M_v = {m_uv}``: ``sum = Σ m``, ``mean = Σ m / |M_v|``, ``max`` / ``min``
channel-wise, ``std = sqrt(ReLU(mean(m²) − mean(m)²) + ε)`` with ε = 1e-5 as in PNA (Corso et al., NeurIPS 2020)
so the gradient stays finite for constant neighbourhoods. Empty neighbourhoods give the zero vector (the identity
of sum; a convention for the others, as in DGL and PyG).
"""

from __future__ import annotations

import dgl
import torch

from graphbench.nn.aggregators.base import Aggregator, builtin_reduce
from graphbench.registry import AGGREGATORS

STD_EPS = 1e-5


class BuiltinAggregator(Aggregator):
    """One of DGL's fused reductions; ``op`` in sum, mean, max, min."""

    op = "sum"

    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        return builtin_reduce(graph, feat, edge, self.op)


@AGGREGATORS.register("sum", description="Σ m (GIN's injective multiset sum)")
class SumAggregator(BuiltinAggregator):
    op = "sum"


@AGGREGATORS.register("mean", description="Σ m / |N(v)|")
class MeanAggregator(BuiltinAggregator):
    op = "mean"


@AGGREGATORS.register("max", description="channel-wise max")
class MaxAggregator(BuiltinAggregator):
    op = "max"


@AGGREGATORS.register("min", description="channel-wise min")
class MinAggregator(BuiltinAggregator):
    op = "min"


def neighbour_std(graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
    """Channel-wise standard deviation of each in-neighbourhood (0 for empty ones); ``[num_dst, d]``."""
    mean = builtin_reduce(graph, feat, edge, "mean")
    mean_sq = builtin_reduce(graph, feat * feat, edge, "mean")
    std = torch.sqrt(torch.relu(mean_sq - mean * mean) + STD_EPS)
    return std * (graph.in_degrees() > 0).unsqueeze(-1).to(std.dtype)


@AGGREGATORS.register("std", description="channel-wise standard deviation (PNA's ε = 1e-5)")
class StdAggregator(Aggregator):
    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        return neighbour_std(graph, feat, edge)
