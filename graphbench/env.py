"""The environment recorded on every results row: versions, git state of the graphbench checkout, host."""

from __future__ import annotations

import functools
import platform
import socket
import subprocess
from pathlib import Path

import dgl
import torch

import graphbench


def _git(*args: str) -> str | None:
    root = Path(graphbench.__file__).resolve().parent.parent
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.cache
def environment() -> dict:
    """Versions, host and git state (commit and dirty flag of the checkout graphbench runs from, if any)."""
    commit = _git("rev-parse", "HEAD")
    dirty = None
    if commit:
        status = _git("status", "--porcelain")
        dirty = bool(status) if status is not None else None
    return {
        "graphbench_version": graphbench.__version__,
        "torch_version": torch.__version__,
        "dgl_version": dgl.__version__,
        "python_version": platform.python_version(),
        "git_commit": commit or "",
        "git_dirty": dirty,
        "host": socket.gethostname(),
    }
