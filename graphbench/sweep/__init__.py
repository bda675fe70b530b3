"""Hyperparameter sweeps with Optuna: sweep files, search spaces, parameter budgets, storages and workers.

``graphbench sweep FILE`` (see :mod:`graphbench.sweep.cli`) and :func:`run_sweep` / :func:`plan` run a file;
:func:`load_sweep` validates one. The protocol is documented in :mod:`graphbench.sweep.runner`.
"""

from graphbench.sweep.config import SweepFile, load_sweep
from graphbench.sweep.launch import Options, plan, run_sweep

__all__ = ["Options", "SweepFile", "load_sweep", "plan", "run_sweep"]
