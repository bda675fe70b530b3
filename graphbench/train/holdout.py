"""Errica et al.'s final-phase split: a fresh random holdout of the outer training set.

Errica, Podda, Bacciu & Micheli (ICLR 2020), Sec. 4 / their ``HoldOutSelector``: once a configuration is selected
for an outer fold, it is re-trained 3 times, each time on the outer training set (the fold's inner train + inner
validation parts) minus a *fresh* random holdout of 10 %, which is used for early stopping; the outer test part
is scored once per re-training. The holdout is drawn with the run's seed, so repeats differ and reruns agree.
"""

from __future__ import annotations

import numpy as np

from graphbench.data.base import Split


def holdout_split(split: Split, fraction: float, seed: int) -> Split:
    """``split`` with train ∪ val re-divided: a random ``fraction`` (≥ 1 example) becomes the validation part."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"holdout fraction must be in (0, 1), got {fraction}")
    outer = np.sort(np.concatenate([split.train, split.val]))
    rng = np.random.default_rng(seed)
    perm = rng.permutation(outer)
    n_val = max(1, int(round(fraction * len(outer))))
    return Split(f"{split.name}", np.sort(perm[n_val:]), np.sort(perm[:n_val]), split.test)
