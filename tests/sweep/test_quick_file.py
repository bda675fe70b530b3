"""Issue 9, point 11: the README's main sweep has a trial budget (no wall clock) and an informative dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from graphbench.sweep.config import load_sweep
from graphbench.train.runner import get_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_quick_sweep_is_budgeted_by_trials_not_time_and_selects_per_fold():
    sweep = load_sweep(ROOT / "sweeps" / "quick.yaml")
    assert sweep.timeout is None and sweep.trials  # the same trials on every machine
    assert sweep.protocol.per_fold and "motifs" in sweep.datasets


def test_motifs_is_deterministic_noisy_and_split_180_60_60():
    a, b = get_dataset("motifs"), get_dataset("motifs", seed=1)
    assert len(a.graphs) == 300 and a.num_classes == 4 and len(a.splits) == 5
    for s in a.splits:
        assert (len(s.train), len(s.val), len(s.test)) == (180, 60, 60)
    assert 15 <= a.meta["noisy_labels"] <= 45  # ~10 % label noise: nobody can reach 100 %
    assert not np.array_equal(a.labels.numpy(), b.labels.numpy())  # the seed changes the data
    sizes = [g.num_nodes() for g in a.graphs]
    assert 12 <= min(sizes) and max(sizes) <= 25
