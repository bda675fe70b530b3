"""GNP — Ko, Kwon, Shin, Lee, "Learning to Pool in Graph Neural Networks for Extrapolation", arXiv:2106.06210.

Generalised norm pooling of a multiset ``X = {x_1, …, x_n}``, channel-wise:

    GNP_{p,q}(X) = ((1 / n^q) · Σ_i x_i^p)^(1/p)          for x_i ≥ 0,
    GNP(X)       = GNP_{p₊,q₊}(ReLU(X)) − GNP_{p₋,q₋}(ReLU(−X))   for real inputs.

``p = 1, q = 0`` is sum, ``p = 1, q = 1`` mean, ``p → +∞`` max, ``p → −∞`` min. It is computed in log space,
``log GNP = (logsumexp_i(p · log(x_i + ε)) − q · log n) / p``, with DGL's fused max/sum kernels for the
log-sum-exp, so large ``|p|`` and large ``n`` do not overflow.

Choices where the source is not explicit (the notes mark the formula itself as recalled): ``p₊, q₊, p₋, q₋`` are
learned per channel; ``p`` is initialised to 1 and ``q`` to 0 (GNP starts as sum, GIN's aggregator); ``ε = 1e-6``;
an empty multiset gives 0.

Parametrisation of ``p`` (:func:`smooth_p`): the parameter ``p_raw`` is unconstrained and ``p = P_MAX ·
tanh(p_raw / P_MAX)`` (smooth, ``|p| < 64``: beyond ~50 GNP is max/min to float precision). ``p = 0`` is
undefined, so where ``|p| < P_MIN = 0.1`` the forward pass uses ``±P_MIN`` (the sign of ``p``) while the gradient
passes straight through to ``p_raw`` (a straight-through estimator). So ``p`` has a non-zero gradient everywhere
and can change sign — from sum-like ``p = 1`` to min-like ``p ≪ 0`` — which a hard clamp to ``±[0.1, 50]``
(zero gradient outside the range) never allowed.
"""

from __future__ import annotations

import math

import dgl
import torch
from torch import nn

from graphbench.nn.aggregators.base import Aggregator
from graphbench.registry import AGGREGATORS

P_MIN, P_MAX, EPS, LOG_CAP = 0.1, 64.0, 1e-6, 60.0


def smooth_p(p_raw: torch.Tensor) -> torch.Tensor:
    """The exponent used in the forward pass (see the module docstring); d p / d p_raw > 0 everywhere."""
    p = P_MAX * torch.tanh(p_raw / P_MAX)
    safe = torch.where(p >= 0, p.clamp(min=P_MIN), p.clamp(max=-P_MIN))
    return p + (safe - p).detach()


def raw_of(p: float) -> float:
    """The ``p_raw`` that gives exponent ``p`` (``|p| < P_MAX``)."""
    return float(P_MAX * math.atanh(p / P_MAX))


@AGGREGATORS.register("gnp", description="generalised norm pooling ((1/n^q) Σ x^p)^(1/p) of the positive and "
                                         "negative parts, learnable p, q (Ko et al. 2021)")
class GNPAggregator(Aggregator):
    """Generalised norm pooling (module docstring)."""

    def __init__(self, dim: int, *, reg: float = 0.0) -> None:
        super().__init__(dim, reg=reg)
        self.p_raw = nn.Parameter(torch.full((2, dim), raw_of(1.0)))  # row 0: positive part, row 1: negative
        self.q = nn.Parameter(torch.zeros(2, dim))

    @property
    def p(self) -> torch.Tensor:
        """The exponents in use, ``[2, dim]`` (positive part, negative part)."""
        return smooth_p(self.p_raw)

    def reset_parameters(self) -> None:
        nn.init.constant_(self.p_raw, raw_of(1.0))
        nn.init.zeros_(self.q)

    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        p = self.p
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
