"""GNP — Ko, Kwon, Shin, Lee, "Learning to Pool in Graph Neural Networks for Extrapolation", arXiv:2106.06210.

Generalised norm pooling of a multiset ``X = {x_1, …, x_n}``, channel-wise:

    GNP_{p,q}(X) = ((1 / n^q) · Σ_i x_i^p)^(1/p)          for x_i ≥ 0,
    GNP(X)       = GNP_{p₊,q₊}(ReLU(X)) − GNP_{p₋,q₋}(ReLU(−X))   for real inputs.

``p = 1, q = 0`` is sum, ``p = 1, q = 1`` mean, ``p → +∞`` max, ``p → −∞`` min. It is computed in log space,
``log GNP = (logsumexp_i(p · log(x_i + ε)) − q · log n) / p``, with DGL's fused max/sum kernels for the
log-sum-exp, so large ``|p|`` and large ``n`` do not overflow.

Choices where the source is not explicit (the notes mark the formula itself as recalled): ``p₊, q₊, p₋, q₋`` are
learned per channel; ``p`` is initialised to 1 and ``q`` to 0 (GNP starts as sum, GIN's aggregator); ``|p|`` is
kept in ``[p_min, p_max] = [0.1, 50]`` with its sign (``p = 0`` is undefined and ``|p| > 50`` is max/min to
float precision); ``ε = 1e-6``; an empty multiset gives 0.
"""

from __future__ import annotations

import dgl
import torch
from torch import nn

from graphbench.nn.aggregators.base import Aggregator
from graphbench.registry import AGGREGATORS

P_MIN, P_MAX, EPS, LOG_CAP = 0.1, 50.0, 1e-6, 60.0


def clamp_p(p: torch.Tensor) -> torch.Tensor:
    """Keep ``|p|`` in ``[P_MIN, P_MAX]`` with its sign (straight clamp; gradient flows inside the range)."""
    return torch.where(p >= 0, p.clamp(P_MIN, P_MAX), p.clamp(-P_MAX, -P_MIN))


@AGGREGATORS.register("gnp", description="generalised norm pooling ((1/n^q) Σ x^p)^(1/p) of the positive and "
                                         "negative parts, learnable p, q (Ko et al. 2021)")
class GNPAggregator(Aggregator):
    """Generalised norm pooling (module docstring)."""

    def __init__(self, dim: int, *, reg: float = 0.0) -> None:
        super().__init__(dim, reg=reg)
        self.p = nn.Parameter(torch.ones(2, dim))  # row 0: positive part, row 1: negative part
        self.q = nn.Parameter(torch.zeros(2, dim))

    def reset_parameters(self) -> None:
        nn.init.ones_(self.p)
        nn.init.zeros_(self.q)

    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        p = clamp_p(self.p)
        deg = graph.in_degrees()
        log_n = torch.log(deg.clamp(min=1).to(feat.dtype)).unsqueeze(-1)
        # Both parts at once: channels [0, d) are ReLU(x), [d, 2d) are ReLU(−x).
        parts = torch.cat([torch.relu(feat), torch.relu(-feat)], dim=-1)
        z = p.reshape(-1) * torch.log(parts + EPS)
        prefix = "e" if edge else "u"
        peak = getattr(dgl.ops, f"copy_{prefix}_max")(graph, z)
        peak = torch.where(torch.isfinite(peak), peak, torch.zeros((), dtype=z.dtype, device=z.device)).detach()
        shifted = torch.exp(getattr(dgl.ops, f"{prefix}_sub_v")(graph, z, peak))
        total = dgl.ops.copy_e_sum(graph, shifted)  # shifted is per edge in both cases
        log_sum = peak + torch.log(total.clamp(min=torch.finfo(z.dtype).tiny))
        # The cap keeps an early, extreme (p, q) from producing inf (and NaN gradients) in float32.
        pooled = torch.exp(((log_sum - self.q.reshape(-1) * log_n) / p.reshape(-1)).clamp(max=LOG_CAP))
        pooled = pooled * (deg > 0).unsqueeze(-1).to(pooled.dtype)
        return pooled[:, : self.dim] - pooled[:, self.dim:]
