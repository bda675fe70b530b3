"""PNA — Corso, Cavalleri, Beaini, Liò, Veličković, "Principal Neighbourhood Aggregation for Graph Nets",
NeurIPS 2020 (https://arxiv.org/abs/2004.05718).

Aggregation (Eq. 8): ``⊕ = [I, S(d, α=1), S(d, α=−1)] ⊗ [mean, min, max, std]`` with the degree scaler
``S(d, α) = (log(d + 1) / δ)^α`` and ``δ`` the mean of ``log(d + 1)`` over the training graphs' nodes. The 12
aggregated vectors (4 aggregators × 3 scalers) are concatenated and mapped back to ``d`` by a linear layer (the
paper's post-aggregation transform ``U``), so a PNA aggregator is a drop-in ``[num_dst, d]`` aggregator.

Choice (the aggregator is built by name, without the dataset's degree histogram): unless ``avg_log_degree`` is
given, ``δ`` is the running mean of ``log(d + 1)`` over every destination node seen in training mode (a buffer,
saved with the model and frozen in eval mode, like batch-norm statistics). Degrees are clamped to ≥ 1 inside the
scalers, as PyG does, so empty neighbourhoods do not divide by ``log 1 = 0``.
"""

from __future__ import annotations

import dgl
import torch
from torch import nn

from graphbench.nn.aggregators.base import Aggregator, builtin_reduce
from graphbench.nn.aggregators.simple import neighbour_std
from graphbench.registry import AGGREGATORS

PNA_AGGREGATORS = ("mean", "min", "max", "std")
PNA_SCALERS = ("identity", "amplification", "attenuation")


@AGGREGATORS.register("pna", description="mean/min/max/std × identity/amplification/attenuation scalers, "
                                         "linear back to d (Corso et al. 2020)")
class PNAAggregator(Aggregator):
    """PNA aggregation (module docstring). ``avg_log_degree``: δ, or None to estimate it from training data."""

    def __init__(self, dim: int, *, avg_log_degree: float | None = None, reg: float = 0.0) -> None:
        super().__init__(dim, reg=reg)
        self.fixed_delta = avg_log_degree
        self.register_buffer("log_degree_sum", torch.zeros((), dtype=torch.float64))
        self.register_buffer("log_degree_count", torch.zeros((), dtype=torch.float64))
        self.post = nn.Linear(len(PNA_AGGREGATORS) * len(PNA_SCALERS) * dim, dim)

    def reset_parameters(self) -> None:
        self.log_degree_sum.zero_()
        self.log_degree_count.zero_()
        self.post.reset_parameters()

    def delta(self, log_deg: torch.Tensor) -> torch.Tensor:
        """δ: fixed, else the running training mean (updated here in training mode), else this batch's mean."""
        if self.fixed_delta is not None:
            return torch.tensor(self.fixed_delta, dtype=log_deg.dtype, device=log_deg.device)
        if self.training:
            self.log_degree_sum += log_deg.double().sum()
            self.log_degree_count += log_deg.numel()
        if self.log_degree_count > 0:
            return (self.log_degree_sum / self.log_degree_count).to(log_deg.dtype).clamp(min=1e-3)
        return log_deg.mean().clamp(min=1e-3)

    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        aggs = [builtin_reduce(graph, feat, edge, op) for op in PNA_AGGREGATORS[:3]]
        aggs.append(neighbour_std(graph, feat, edge))
        h = torch.cat(aggs, dim=-1)
        log_deg = torch.log(graph.in_degrees().to(feat.dtype) + 1.0)
        delta = self.delta(log_deg)
        scale = (torch.log(graph.in_degrees().clamp(min=1).to(feat.dtype) + 1.0) / delta).unsqueeze(-1)
        return self.post(torch.cat([h, h * scale, h / scale], dim=-1))
