"""Seeding and the deterministic mode."""

from __future__ import annotations

import os
import random

import dgl
import numpy as np
import torch


def set_seed(seed: int, *, deterministic: bool = False) -> None:
    """Seed python ``random``, numpy, torch (CPU and CUDA) and DGL's own generator.

    ``deterministic=True`` also enforces ``torch.use_deterministic_algorithms`` (kernels without a deterministic
    implementation raise instead of silently differing), disables cuDNN autotuning and sets the cuBLAS workspace.
    On CPU the same seed and thread count give bitwise-identical runs on one machine either way; across machines
    the kernels' instruction set (AVX-512, AVX2, ...) must also be the same, which the deterministic mode of the
    command line and the API pins before torch is imported (:func:`graphbench.env.pin_isa`); set_seed cannot,
    since torch reads it at import. On GPUs only the deterministic mode comes close, and results may still differ
    across GPU models and driver versions.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    dgl.seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    elif torch.are_deterministic_algorithms_enabled():
        # Only when an earlier run of this process turned it on: the call imports torch._inductor (seconds of
        # start-up), which buys nothing when the mode is already off.
        torch.use_deterministic_algorithms(False)
