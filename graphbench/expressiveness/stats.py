"""The statistics of BREC's Reliable Paired Comparisons (RPC): Hotelling's T² on paired embeddings.

Wang & Zhang, "Towards Better Evaluation of GNN Expressiveness with BREC Dataset" (2023), §4: a model "tells two
graphs apart" only when the difference of their embeddings is significant against the variation that relabelling
the nodes alone produces. Each graph is embedded under ``q`` random node permutations; ``d_i = f(G_i) - f(H_i)``
(``p``-dimensional, ``i = 1..q``) are treated as paired samples and the null hypothesis "mean difference = 0" is
tested with Hotelling's T²:

    T² = d̄ᵀ S⁺ d̄,      S = cov(d_1..d_q) (unbiased),  S⁺ its pseudo-inverse.

The threshold is the (1 - α) quantile of Hotelling's distribution, ``(q - 1) p / (q - p) · F_{1-α}(p, q - p)``:
72.34 for BREC's q = 32 permutations, p = 16 dimensions and α = 0.05. It is computed from (q, p, α) here, never
hard-coded (BREC changed it once, as a breaking change in its 0.3.0).

Two choices, stated because the reference implementation and the textbook differ:

* **Scale.** BREC's code (``brec/evaluator.py``, ``T2_calculation``) computes ``d̄ᵀ S⁺ d̄`` *without* Hotelling's
  factor ``q`` and compares it with the threshold above, a test ``q`` times stricter than its nominal α. The default
  ``statistic="brec"`` reproduces it, so counts are comparable with BREC's published tables;
  ``statistic="hotelling"`` multiplies by ``q`` (the textbook test at level α).
* **Regularisation.** When embeddings are exactly invariant (a deterministic model in float64), the permutations of
  a graph give numerically equal embeddings, ``S`` is ~0 and its pseudo-inverse amplifies rounding noise. BREC's
  code leaves a commented-out ``S + εI`` (ε = 1e-7) for that case. We add ``ε I`` with ε relative to the
  embeddings' size: ``ε = (eps_rel · rms(embeddings))²``. A real difference then needs ``|d̄|`` of about
  ``sqrt(threshold) · eps_rel`` times the embedding scale (≈ 1e-7 for float64 with eps_rel = 1e-8, far above
  float64 rounding, ~1e-15), and a rounding-level difference gives T² ≈ 0. ``eps_rel = 0`` is BREC's plain ``S⁺``.

**Decision** (BREC's rule): a pair is *distinguished* when ``T²(G, H) > threshold`` and ``T²(G, H)`` is not equal
(``atol = 1e-6``, ``rtol = 1e-5``, as ``torch.isclose``) to the reliability statistic ``T²(R, R')`` of one of the
two graphs against its own permutations; the pair's *reliability check* fails when ``T²(R, R') ≥ threshold`` (the
model would "distinguish" a graph from itself, so its verdicts on that pair cannot be trusted).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

#: BREC's tolerance for "the test statistic equals the reliability statistic" (EPSILON_CMP).
ATOL_RELIABILITY = 1e-6
#: ... and the relative tolerance of the ``torch.isclose`` BREC calls (its default).
RTOL_RELIABILITY = 1e-5
STATISTICS = ("brec", "hotelling")


def t2_threshold(q: int, p: int, alpha: float = 0.05) -> float:
    """Critical value of Hotelling's T² for ``q`` paired samples of dimension ``p`` at level ``alpha``:
    ``(q - 1) p / (q - p) · F_{1-α}(p, q - p)``. Needs ``q > p``; 72.34 for (32, 16, 0.05)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if p < 1 or q <= p:
        raise ValueError(f"Hotelling's T² needs more samples than dimensions: q = {q} permutations, p = {p} "
                         "output dimensions (use more permutations or a smaller output_dim)")
    return float((q - 1) * p / (q - p) * stats.f.ppf(1 - alpha, p, q - p))


def t2_statistic(x: np.ndarray, y: np.ndarray, *, eps_rel: float = 0.0, statistic: str = "brec") -> float:
    """T² of the paired samples ``x[i] - y[i]`` (``x``, ``y``: ``[q, p]``) against mean zero; see the module
    docstring for ``eps_rel`` and ``statistic``. Computed in float64 whatever the input precision."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic must be one of {STATISTICS}, got {statistic!r}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need two [q, p] arrays with q >= 2, got {x.shape} and {y.shape}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise FloatingPointError("the embeddings contain NaN or infinite values")
    d = x - y
    d_mean = d.mean(axis=0)
    s = np.atleast_2d(np.cov(d, rowvar=False, ddof=1))
    if eps_rel > 0:
        scale2 = float(np.mean(np.concatenate([x, y]) ** 2))
        s = s + (eps_rel ** 2) * scale2 * np.eye(s.shape[0])
    t2 = float(d_mean @ np.linalg.pinv(s, hermitian=True) @ d_mean)
    return t2 * x.shape[0] if statistic == "hotelling" else t2


@dataclass(frozen=True)
class PairDecision:
    """The verdict on one pair: both statistics, the threshold, and BREC's two flags."""

    t2: float
    t2_reliability: float
    threshold: float

    @property
    def distinguished(self) -> bool:
        """BREC's "Correct": significant and not the same number as the reliability statistic."""
        return self.t2 > self.threshold and not bool(np.isclose(self.t2, self.t2_reliability, rtol=RTOL_RELIABILITY,
                                                                atol=ATOL_RELIABILITY))

    @property
    def reliable(self) -> bool:
        """The reliability check passed: the graph was not "distinguished" from its own permutations."""
        return self.t2_reliability < self.threshold


def decide(t2: float, t2_reliability: float, threshold: float) -> PairDecision:
    return PairDecision(float(t2), float(t2_reliability), float(threshold))
