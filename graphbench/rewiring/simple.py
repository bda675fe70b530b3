"""Exact k-subset distributions for learned rewiring (PR-MPNN, Qian et al., ICLR 2024): the SIMPLE estimator of
Ahmed, Zeng, Niepert, Van den Broeck, "SIMPLE: A Gradient Estimator for k-Subset Sampling", ICLR 2023, and the
Gumbel top-k baseline.

The k-subset distribution over n items with logits θ is ``p(S) ∝ exp(Σ_{i∈S} θ_i)`` for ``|S| = k``. Its partition
function is the elementary symmetric polynomial ``e_k(exp θ)``, computed here in log space by the dynamic programme

    α_i(j) = log e_j(exp θ_1, …, exp θ_i) = logaddexp(α_{i−1}(j), α_{i−1}(j − 1) + θ_i),   α_0 = (0, −∞, …),

and, from the right, ``β_i(j) = log e_j(exp θ_i, …, exp θ_n)``. The exact marginals are

    μ_i = p(i ∈ S) = exp(θ_i − α_n(k) + logsumexp_{j=0}^{k−1} [α_{i−1}(j) + β_{i+1}(k − 1 − j)])

(``μ = ∂ log Z / ∂θ``; they sum to k). All of it is torch and differentiable. **SIMPLE** samples an exact k-subset
``z`` (by walking the α table backwards) and passes gradients through the marginals:
``z̃ = z − stopgrad(μ) + μ`` (Ahmed et al., Eq. 6), which PR-MPNN uses to train its upstream edge scorer.

Shapes: ``theta`` is ``[..., n]``; every leading index is an independent distribution. ``mask`` (bool, same shape)
excludes items (PR-MPNN pads per-graph candidate lists); a masked item has marginal 0 and is never sampled. Every
row needs at least k unmasked items. Computation is in float64 internally for accuracy; outputs have theta's dtype.
"""

from __future__ import annotations

import torch

#: stands in for log 0 in the DP tables: finite, so logaddexp never sees (−∞, −∞) and gradients stay finite
LOG_ZERO = -1.0e30


def _prepare(theta: torch.Tensor, k: int, mask: torch.Tensor | None) -> torch.Tensor:
    if theta.dim() < 1:
        raise ValueError("theta needs at least one dimension (the items)")
    n = theta.shape[-1]
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in [0, {n}] for {n} items, got {k}")
    t = theta.to(torch.float64)
    if mask is not None:
        if mask.shape != theta.shape:
            raise ValueError(f"mask shape {tuple(mask.shape)} differs from theta's {tuple(theta.shape)}")
        if bool((mask.sum(-1) < k).any()):
            raise ValueError(f"every row needs at least k={k} unmasked items")
        t = torch.where(mask, t, torch.full_like(t, LOG_ZERO))
    return t


def _forward_table(t: torch.Tensor, k: int) -> torch.Tensor:
    """α of shape ``[..., n + 1, k + 1]``: α[..., i, j] = log e_j of the first i items."""
    n = t.shape[-1]
    alpha = torch.full((*t.shape[:-1], k + 1), LOG_ZERO, dtype=t.dtype, device=t.device)
    alpha[..., 0] = 0.0
    rows = [alpha]
    for i in range(n):
        take = torch.cat([torch.full_like(alpha[..., :1], LOG_ZERO), alpha[..., :-1] + t[..., i:i + 1]], dim=-1)
        alpha = torch.logaddexp(alpha, take)
        rows.append(alpha)
    return torch.stack(rows, dim=-2)


def log_partition(theta: torch.Tensor, k: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """``log Z = log e_k(exp θ)`` per row, shape ``theta.shape[:-1]``."""
    t = _prepare(theta, k, mask)
    return _forward_table(t, k)[..., -1, k].to(theta.dtype)


def k_subset_marginals(theta: torch.Tensor, k: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Exact marginals ``μ_i = p(i ∈ S)`` of the k-subset distribution; differentiable in ``theta``."""
    t = _prepare(theta, k, mask)
    n = t.shape[-1]
    if k == 0:
        return torch.zeros_like(theta)
    alpha = _forward_table(t, k)                                   # [..., n+1, k+1], prefix tables
    beta = _forward_table(torch.flip(t, dims=[-1]), k)             # beta[..., s, j]: last s items
    log_z = alpha[..., n, k]
    # for item i (0-based): α over items < i is alpha[..., i, :]; β over items > i is beta[..., n-1-i, :]
    left = alpha[..., :n, :k]                                      # j = 0..k-1
    right = torch.flip(beta[..., :n, :k], dims=[-2])               # row i ↦ beta[..., n-1-i, :]
    right = torch.flip(right, dims=[-1])                           # column j ↦ β(k-1-j)
    log_mu = t + torch.logsumexp(left + right, dim=-1) - log_z.unsqueeze(-1)
    mu = torch.exp(log_mu)
    if mask is not None:
        mu = torch.where(mask, mu, torch.zeros_like(mu))
    return mu.to(theta.dtype)


def sample_k_subset(theta: torch.Tensor, k: int, *, num_samples: int = 1, mask: torch.Tensor | None = None,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Exact k-hot samples from the k-subset distribution, shape ``[num_samples, *theta.shape]`` (no gradient).

    Walks the items from last to first: with r items still to choose among the first i, item i is in the subset
    with probability ``exp(θ_i + α_{i−1}(r − 1) − α_i(r))``.
    """
    with torch.no_grad():
        t = _prepare(theta.detach(), k, mask)
        n = t.shape[-1]
        alpha = _forward_table(t, k)
        shape = (num_samples, *t.shape[:-1])
        out = torch.zeros((*shape, n), dtype=theta.dtype, device=theta.device)
        remaining = torch.full(shape, k, dtype=torch.long, device=t.device)
        alpha_b = alpha.expand(*shape, n + 1, k + 1)
        t_b = t.expand(*shape, n)
        for i in range(n, 0, -1):
            r = remaining.clamp(min=1)
            a_prev = torch.gather(alpha_b[..., i - 1, :], -1, (r - 1).unsqueeze(-1)).squeeze(-1)
            a_cur = torch.gather(alpha_b[..., i, :], -1, r.unsqueeze(-1)).squeeze(-1)
            p = torch.exp(t_b[..., i - 1] + a_prev - a_cur).clamp(0.0, 1.0)
            u = torch.rand(shape, dtype=torch.float64, device=t.device, generator=generator)
            pick = (u < p) & (remaining > 0)
            out[..., i - 1] = pick.to(out.dtype)
            remaining = remaining - pick.long()
        return out


def simple_sample(theta: torch.Tensor, k: int, *, num_samples: int = 1, mask: torch.Tensor | None = None,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """SIMPLE: exact k-hot samples in the forward pass, gradient of the exact marginals in the backward pass
    (``z − stopgrad(μ) + μ``). Shape ``[num_samples, *theta.shape]``."""
    mu = k_subset_marginals(theta, k, mask)
    z = sample_k_subset(theta, k, num_samples=num_samples, mask=mask, generator=generator)
    return z - mu.detach() + mu


def topk_khot(scores: torch.Tensor, k: int, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Deterministic k-hot of the k largest scores per row (PR-MPNN's evaluation-time choice with one sample)."""
    if mask is not None:
        if bool((mask.sum(-1) < k).any()):
            raise ValueError(f"every row needs at least k={k} unmasked items")
        scores = scores.masked_fill(~mask, float("-inf"))
    idx = torch.topk(scores, k, dim=-1).indices
    dtype = scores.dtype if scores.is_floating_point() else torch.float32
    return torch.zeros(scores.shape, dtype=dtype, device=scores.device).scatter(-1, idx, 1.0)


def gumbel_topk(theta: torch.Tensor, k: int, *, num_samples: int = 1, mask: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Gumbel top-k: k-hot of the top-k of ``θ + Gumbel(0, 1)`` noise, ``[num_samples, *theta.shape]``; an exact
    sample of sampling k items *without replacement* with probabilities ∝ exp θ (Kool et al., 2019) — not the
    k-subset distribution above. No gradient (pair it with a straight-through or I-MLE estimator)."""
    with torch.no_grad():
        u = torch.rand((num_samples, *theta.shape), dtype=torch.float64, device=theta.device, generator=generator)
        gumbel = -torch.log(-torch.log(u.clamp_min(1e-300)))
        perturbed = theta.detach().to(torch.float64).unsqueeze(0) + gumbel
        m = None if mask is None else mask.unsqueeze(0).expand_as(perturbed)
        return topk_khot(perturbed, k, m).to(theta.dtype)
