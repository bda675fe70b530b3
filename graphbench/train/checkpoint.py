"""Epoch checkpoints of a run in progress, so that a killed long run resumes where it stopped.

A run of several CPU-hours (one seed of a Peptides or ZINC preset) does not fit in one working session, and the
sweep's own resume works per run: a run killed in its last epoch would start over. With a checkpoint path the
:class:`~graphbench.train.trainer.Trainer` saves, at the end of an epoch and at most every ``every_s`` seconds, all
the run's state: the model, the optimiser and the learning-rate schedule, the selection (best epoch, its value and
kept state), the history, the training time so far, and every random generator the run draws from (python,
numpy, torch's global generator — dropout — and the trainer's batch-order and augmentation generators). A run that
finds its checkpoint continues from the next epoch; on the same machine, threads and kernel ISA it ends with the
row an uninterrupted run gives, bit for bit (tests/test_checkpoint.py). The checkpoint is removed when the run
ends, whatever its status. See docs/results-schema.md ("Resumed runs").

The file is written to a temporary name and renamed, so a kill during the write leaves the previous checkpoint.
A checkpoint that cannot be read or does not fit the run's model is reported on stderr and ignored: the run
starts over instead of failing.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

FORMAT = 1  # bump when the saved keys change meaning; an older checkpoint is then ignored
#: Seconds between two saves unless a sweep file says otherwise (``checkpoint_every``).
DEFAULT_EVERY_S = 600.0


def rng_state(generators: dict[str, torch.Generator]) -> dict[str, Any]:
    """The state of python's, numpy's and torch's global generators (CUDA's too when present) and of the named
    ``generators``."""
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state(),
             "generators": {k: g.get_state() for k, g in generators.items()}}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], generators: dict[str, torch.Generator]) -> None:
    """Restore what :func:`rng_state` saved into the global generators and the named ``generators``."""
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    for k, g in generators.items():
        g.set_state(state["generators"][k])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically (a temporary file in the same folder, then a rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, **state}, tmp)
    os.replace(tmp, path)


def load(path: str | os.PathLike) -> dict[str, Any] | None:
    """The checkpoint at ``path``, or None when there is none or it cannot be used (said on stderr)."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        # Our own file, holding python objects (history, numpy's generator state): not weights only.
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated or foreign file: start over rather than fail the run
        print(f"graphbench: ignoring the unreadable checkpoint {path} ({type(exc).__name__}: {exc}); "
              "the run starts from epoch 1", file=sys.stderr)
        return None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        print(f"graphbench: ignoring the checkpoint {path} (another format); the run starts from epoch 1",
              file=sys.stderr)
        return None
    return state


def remove(path: str | os.PathLike | None) -> None:
    """Delete the checkpoint at ``path`` (and a temporary file left by a kill during a write), if any."""
    if path is None:
        return
    path = Path(path)
    for p in (path, path.with_name(path.name + ".tmp")):
        p.unlink(missing_ok=True)
