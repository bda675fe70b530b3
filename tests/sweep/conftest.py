"""Sweep tests train tiny models on tiny graphs: one torch thread is several times faster than two on the shared
2-core machine (thread hand-off dominates such small kernels), so the in-process tests use one."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
