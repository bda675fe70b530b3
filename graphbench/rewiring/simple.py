"""k-subset samplers for learned rewiring (PR-MPNN, Qian et al., ICLR 2024): exact k-subset marginals and sampling
with the SIMPLE estimator of Ahmed, Zeng, Niepert, Van den Broeck, "SIMPLE: A Gradient Estimator for k-Subset
Sampling", ICLR 2023, and PR-MPNN's two alternatives, I-MLE (``imle_topk``) and Gumbel-softmax relaxed top-k
(``relaxed_topk``; hard Gumbel top-k in ``gumbel_topk``).

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

The equations and how PR-MPNN uses the samplers: ``docs/models/prmpnn.md`` §3.
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
    """Deterministic k-hot of the k largest scores per row (PR-MPNN's evaluation-time choice with one sample).
    Items tied with the k-th are taken in their order (a stable sort), so the choice does not depend on the row's
    padded width: a graph gets the same top-k in every batch, where ``torch.topk`` breaks exact ties differently for
    different widths (docs/models/prmpnn.md §5)."""
    if mask is not None:
        if bool((mask.sum(-1) < k).any()):
            raise ValueError(f"every row needs at least k={k} unmasked items")
        scores = scores.masked_fill(~mask, float("-inf"))
    idx = torch.sort(scores, dim=-1, descending=True, stable=True).indices[..., :k]
    dtype = scores.dtype if scores.is_floating_point() else torch.float32
    return torch.zeros(scores.shape, dtype=dtype, device=scores.device).scatter(-1, idx, 1.0)


def _gumbel(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Standard Gumbel noise in float64 (the same generator state gives the same noise in every sampler here)."""
    u = torch.rand(shape, dtype=torch.float64, device=device, generator=generator)
    return -torch.log(-torch.log(u.clamp(1e-300, 1.0 - 1e-16)))


def gumbel_topk(theta: torch.Tensor, k: int, *, num_samples: int = 1, mask: torch.Tensor | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """Gumbel top-k: k-hot of the top-k of ``θ + Gumbel(0, 1)`` noise, ``[num_samples, *theta.shape]``; an exact
    sample of drawing k items *without replacement* with probabilities ∝ exp θ (Kool et al., 2019) — not the
    k-subset distribution above. No gradient: see ``relaxed_topk`` and ``imle_topk`` for the trainable versions."""
    with torch.no_grad():
        perturbed = theta.detach().to(torch.float64).unsqueeze(0) + _gumbel((num_samples, *theta.shape), generator,
                                                                            theta.device)
        m = None if mask is None else mask.unsqueeze(0).expand_as(perturbed)
        return topk_khot(perturbed, k, m).to(theta.dtype)


def relaxed_topk(theta: torch.Tensor, k: int, *, tau: float = 1.0, hard: bool = False, num_samples: int = 1,
                 mask: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """Gumbel-softmax relaxed top-k (Xie & Ermon, "Reparameterizable Subset Sampling via Continuous Relaxations",
    IJCAI 2019; PR-MPNN's ``gumbel`` sampler): perturb θ with Gumbel noise, then k rounds of ``softmax(w / τ)``, each
    round first down-weighting what earlier rounds selected (``w += log(1 − p_prev)``), summed into a relaxed k-hot
    that sums to k. ``hard=True`` returns the exact top-k of it in the forward pass with the relaxed gradient
    (straight-through). Same noise as ``gumbel_topk`` for the same generator state; τ → 0 recovers it."""
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    t = _prepare(theta, k, mask)
    w = t.unsqueeze(0) + _gumbel((num_samples, *theta.shape), generator, theta.device)
    khot = torch.zeros_like(w)
    onehot = torch.zeros_like(w)
    for _ in range(k):
        w = w + torch.log((1.0 - onehot).clamp_min(1e-20))
        onehot = torch.softmax(w / tau, dim=-1)
        khot = khot + onehot
    if hard:
        m = None if mask is None else mask.unsqueeze(0).expand_as(khot)
        khot = topk_khot(khot.detach(), k, m) - khot.detach() + khot
    return khot.to(theta.dtype)


class _IMLETopK(torch.autograd.Function):
    """Perturb-and-MAP forward, I-MLE backward (target ``θ' = θ − β ∂L/∂z``; gradient ``MAP(θ+ε) − MAP(θ'+ε)``)."""

    @staticmethod
    def forward(ctx, theta, noise, k, beta, mask):  # noqa: D401 - autograd signature
        z = topk_khot(theta.detach() + noise, k, mask)
        ctx.save_for_backward(theta.detach(), noise, z)
        ctx.k, ctx.beta, ctx.mask = k, beta, mask
        return z

    @staticmethod
    def backward(ctx, grad_z):
        theta, noise, z = ctx.saved_tensors
        target = theta - ctx.beta * grad_z
        z_target = topk_khot(target + noise, ctx.k, ctx.mask)
        return z - z_target, None, None, None, None


def imle_topk(theta: torch.Tensor, k: int, *, beta: float = 10.0, noise_scale: float = 1.0, num_samples: int = 1,
              mask: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """I-MLE k-subset sampler (Niepert, Minervini, Franceschi, NeurIPS 2021; as PR-MPNN uses it): forward is the
    top-k of ``θ + noise_scale · Gumbel`` (the same noise as ``gumbel_topk`` for a generator state when
    ``noise_scale = 1``); backward builds the target ``θ' = θ − β · ∂L/∂z`` and returns ``MAP(θ + ε) − MAP(θ' + ε)``
    with the same noise ε (α = 1, no 1/β scaling, as in the reference). Shape ``[num_samples, *theta.shape]``."""
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    t = _prepare(theta, k, mask)
    noise = noise_scale * _gumbel((num_samples, *theta.shape), generator, theta.device)
    m = None if mask is None else mask.unsqueeze(0).expand_as(noise)
    z = _IMLETopK.apply(t.unsqueeze(0).expand_as(noise), noise, k, beta, m)
    return z.to(theta.dtype)
