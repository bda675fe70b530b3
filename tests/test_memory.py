"""Peak memory of a run: the kernel's high-water mark, reset per measurement (no sampling thread)."""

from __future__ import annotations

import numpy as np
import torch

from graphbench.train.memory import PeakMemory


def test_peak_memory_sees_a_short_spike_and_is_reset_between_runs():
    with PeakMemory(torch.device("cpu")) as first:
        spike = np.ones(40_000_000)  # 305 MiB, freed at once: a sampler could miss it, the kernel does not
        spike[::4096] = 2.0
        del spike
    with PeakMemory(torch.device("cpu")) as second:
        small = np.ones(1_000_000)
        del small
    assert first.peak_mb - second.peak_mb > 250
