"""Hyperparameter sweeps with Optuna: sweep files, search spaces, parameter budgets, storages and workers.

``graphbench sweep FILE`` (see :mod:`graphbench.sweep.cli`) and :func:`run_sweep` / :func:`plan` run a file;
:func:`load_sweep` validates one. The protocol is documented in :mod:`graphbench.sweep.runner`.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use (PEP 562), so that `graphbench sweep --help` does not pay for torch, DGL and Optuna.
_LAZY = {"SweepFile": "config", "load_sweep": "config", "Options": "launch", "plan": "launch", "run_sweep": "launch"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"graphbench.sweep.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'graphbench.sweep' has no attribute {name!r}")


__all__ = ["Options", "SweepFile", "load_sweep", "plan", "run_sweep"]
