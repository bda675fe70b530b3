"""Exact k-subset marginals, exact sampling and SIMPLE gradients (Ahmed et al. 2023, used by PR-MPNN)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
import torch

from graphbench.rewiring.simple import (
    _gumbel,
    gumbel_topk,
    imle_topk,
    k_subset_marginals,
    log_partition,
    relaxed_topk,
    sample_k_subset,
    simple_sample,
    topk_khot,
)


def brute(theta: torch.Tensor, k: int, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, dict, torch.Tensor]:
    """Enumerate all k-subsets of one row: (marginals, {subset: prob}, log Z)."""
    n = theta.numel()
    items = [i for i in range(n) if mask is None or bool(mask[i])]
    subsets = list(itertools.combinations(items, k))
    scores = torch.stack([theta[list(s)].sum() if s else theta.new_zeros(()) for s in subsets]).double()
    log_z = torch.logsumexp(scores, 0)
    probs = torch.exp(scores - log_z)
    mu = torch.zeros(n, dtype=torch.float64)
    for s, p in zip(subsets, probs):
        mu[list(s)] += p
    return mu, dict(zip(subsets, probs.tolist())), log_z


@pytest.mark.parametrize("k", range(0, 7))
def test_marginals_match_enumeration_and_sum_to_k(k):
    theta = torch.randn(3, 6, generator=torch.Generator().manual_seed(k), dtype=torch.float64) * 2
    mu = k_subset_marginals(theta, k)
    assert torch.allclose(mu.sum(-1), torch.full((3,), float(k), dtype=torch.float64), atol=1e-10)
    for row in range(3):
        exp_mu, _, log_z = brute(theta[row], k)
        assert torch.allclose(mu[row], exp_mu, atol=1e-10)
        assert log_partition(theta[row], k).item() == pytest.approx(log_z.item(), abs=1e-10)


def test_marginals_with_mask_and_large_logits():
    theta = torch.tensor([[40.0, -35.0, 3.0, 0.5, -1.0, 60.0, 2.0]], dtype=torch.float64)
    mask = torch.tensor([[True, True, False, True, True, True, False]])
    mu = k_subset_marginals(theta, 3, mask)
    exp_mu, _, _ = brute(theta[0], 3, mask[0])
    assert torch.allclose(mu[0], exp_mu, atol=1e-10)
    assert mu[0, 2] == 0 and mu[0, 6] == 0 and mu.sum().item() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="at least k"):
        k_subset_marginals(theta, 6, mask)
    with pytest.raises(ValueError, match="k must lie"):
        k_subset_marginals(theta, 8)


def test_marginals_are_the_gradient_of_log_z_and_differentiable():
    theta = torch.randn(2, 7, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(log_partition(theta, 3).sum(), theta)
    assert torch.allclose(k_subset_marginals(theta, 3), grad, atol=1e-10)
    small = torch.randn(1, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: k_subset_marginals(t, 2), (small,), eps=1e-6, atol=1e-6)


def test_exact_sampling_matches_the_distribution_and_is_seeded():
    theta = torch.tensor([1.0, -0.5, 0.3, 2.0, 0.0], dtype=torch.float64)
    k, draws = 2, 20_000
    z = sample_k_subset(theta, k, num_samples=draws, generator=torch.Generator().manual_seed(0))
    assert z.shape == (draws, 5) and torch.all(z.sum(-1) == k)
    counts = Counter(tuple(torch.nonzero(row).flatten().tolist()) for row in z)
    _, probs, _ = brute(theta, k)
    for s, p in probs.items():
        assert abs(counts.get(s, 0) / draws - p) < 4 * (p * (1 - p) / draws) ** 0.5 + 1e-9
    again = sample_k_subset(theta, k, num_samples=draws, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again, z)
    masked = sample_k_subset(theta.expand(4, 5), 2, num_samples=30, mask=torch.tensor([True, False, True, True, False])
                             .expand(4, 5), generator=torch.Generator().manual_seed(1))
    assert torch.all(masked[..., 1] == 0) and torch.all(masked[..., 4] == 0) and torch.all(masked.sum(-1) == 2)


def test_simple_forward_is_a_sample_and_gradients_reach_the_scorer():
    torch.manual_seed(0)
    scorer = torch.nn.Linear(4, 1)
    feats = torch.randn(10, 4)
    theta = scorer(feats).squeeze(-1)
    z = simple_sample(theta, 3, num_samples=5, generator=torch.Generator().manual_seed(2))
    hard = sample_k_subset(theta, 3, num_samples=5, generator=torch.Generator().manual_seed(2))
    assert torch.allclose(z, hard) and torch.all(hard.sum(-1) == 3)
    target = torch.randn(10)
    (z * target).sum().backward()
    assert scorer.weight.grad is not None and scorer.weight.grad.abs().sum() > 0
    # the backward pass is exactly the Jacobian of the marginals: d/dθ Σ_s target·μ
    theta2 = theta.detach().clone().requires_grad_(True)
    (k_subset_marginals(theta2, 3) * target).sum().mul(5).backward()
    theta3 = theta.detach().clone().requires_grad_(True)
    (simple_sample(theta3, 3, num_samples=5) * target).sum().backward()
    assert torch.allclose(theta3.grad, theta2.grad, atol=1e-6)


def test_gumbel_topk_and_topk():
    theta = torch.tensor([0.2, 1.5, -0.3, 0.9])
    z = gumbel_topk(theta, 2, num_samples=7, generator=torch.Generator().manual_seed(3))
    assert z.shape == (7, 4) and torch.all(z.sum(-1) == 2)
    assert torch.equal(z, gumbel_topk(theta, 2, num_samples=7, generator=torch.Generator().manual_seed(3)))
    # k = 1 is the Gumbel-max trick: frequencies follow softmax(θ)
    draws = 20_000
    one = gumbel_topk(theta, 1, num_samples=draws, generator=torch.Generator().manual_seed(4))
    freq = one.mean(0)
    p = torch.softmax(theta, 0)
    assert torch.all((freq - p).abs() < 4 * (p * (1 - p) / draws).sqrt())
    assert topk_khot(theta, 2).tolist() == [0.0, 1.0, 0.0, 1.0]
    assert topk_khot(theta, 2, mask=torch.tensor([True, False, True, True])).tolist() == [1.0, 0.0, 0.0, 1.0]


def test_relaxed_topk_sums_to_k_tends_to_hard_topk_and_has_gradients():
    theta = torch.randn(2, 8, generator=torch.Generator().manual_seed(5), requires_grad=True)
    soft = relaxed_topk(theta, 3, tau=0.5, num_samples=4, generator=torch.Generator().manual_seed(6))
    assert soft.shape == (4, 2, 8) and torch.allclose(soft.sum(-1), torch.full((4, 2), 3.0), atol=1e-5)
    (soft * torch.randn_like(soft)).sum().backward()
    assert theta.grad.abs().sum() > 0
    cold = relaxed_topk(theta, 3, tau=1e-4, num_samples=4, generator=torch.Generator().manual_seed(6))
    hard = gumbel_topk(theta, 3, num_samples=4, generator=torch.Generator().manual_seed(6))
    assert torch.allclose(cold, hard, atol=1e-3)
    st = relaxed_topk(theta, 3, tau=0.5, hard=True, num_samples=4, generator=torch.Generator().manual_seed(6))
    assert torch.all(st.sum(-1) == 3) and set(st.detach().unique().tolist()) <= {0.0, 1.0}
    theta.grad = None
    (st * torch.randn_like(st)).sum().backward()
    assert theta.grad.abs().sum() > 0


def test_imle_gradient_is_the_map_difference_and_learns_a_target_subset():
    theta = torch.tensor([0.3, -0.2, 0.1, 0.0, 0.4], requires_grad=True)
    c = torch.tensor([[1.0, -2.0, 0.5, -1.0, 0.0]])
    z = imle_topk(theta, 2, beta=5.0, generator=torch.Generator().manual_seed(0))
    assert torch.equal(z, gumbel_topk(theta, 2, generator=torch.Generator().manual_seed(0)))
    (z * c).sum().backward()
    noise = _gumbel((1, 5), torch.Generator().manual_seed(0), theta.device)
    expected = (z - topk_khot(theta.detach().double() + noise - 5.0 * c.double(), 2)).sum(0).float()
    assert torch.equal(theta.grad, expected) and theta.grad.abs().sum() > 0
    # a few I-MLE gradient steps move the mode of the distribution onto the subset that minimises ⟨z, c⟩
    target = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0])
    learn = torch.zeros(5, requires_grad=True)
    opt = torch.optim.SGD([learn], lr=0.1)
    gen = torch.Generator().manual_seed(1)
    for _ in range(60):
        opt.zero_grad()
        (-(imle_topk(learn, 2, beta=2.0, num_samples=8, generator=gen) * target).sum()).backward()
        opt.step()
    assert torch.equal(topk_khot(learn.detach(), 2), target)


def test_topk_khot_takes_tied_items_in_order_whatever_the_padded_width():
    """Exact ties with the k-th item go to the earlier items, and padding a row with lower scores (a graph in a
    batch of larger graphs) changes nothing (PR-MPNN's evaluation top-k)."""
    row = torch.tensor([0.5, 1.0, 1.0, 1.0, 1.0, 0.2])
    assert topk_khot(row, 2).tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    for width in (7, 33, 257):
        padded = torch.cat([row, torch.full((width - len(row),), -1e4)])
        assert topk_khot(padded, 2)[:len(row)].tolist() == [0.0, 1.0, 1.0, 0.0, 0.0, 0.0]
