"""Helpers shared by tests: running the CLI in a subprocess, fabricating schema-valid rows."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from graphbench.results.schema import SCHEMA_VERSION

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300,
            check: bool = True) -> subprocess.CompletedProcess:
    """``python -m graphbench ARGS`` in ``cwd`` with this checkout first on the path."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-m", "graphbench", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"graphbench {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


def fake_row(**overrides: Any) -> dict[str, Any]:
    """A schema-valid results row with plausible values; override any column."""
    row = {
        "schema_version": SCHEMA_VERSION, "run_id": uuid.uuid4().hex, "started_at": "2026-01-01T00:00:00+00:00",
        "ended_at": "2026-01-01T00:01:00+00:00", "graphbench_version": "0.1.0", "torch_version": "2.13.0",
        "dgl_version": "1.1.3", "python_version": "3.11.7", "git_commit": "abc", "git_dirty": False, "host": "h",
        "device": "cpu", "stage": "run", "dataset": "csl", "split": "fold0", "fold": 0, "model": "gin", "seed": 0,
        "deterministic": False, "hparams": "{}", "config_hash": "h0", "metric": "accuracy", "direction": "max",
        "train_metric": 0.9, "val_metric": 0.8, "test_metric": 0.7, "best_epoch": 3, "epochs": 5,
        "time_per_epoch_s": 0.1, "train_time_s": 0.5, "inference_time_s": 0.01, "total_time_s": 1.0,
        "peak_mem_mb": 100.0, "num_params": 1000, "status": "ok",
    }
    row.update(overrides)
    return row


def relabelled_random_graph(n: int, p: float, seed: int, feat_dim: int = 2):
    """A G(n, p) graph and a random relabelling of it, for equivariance tests (float64; draws from torch's global
    generator, so seed it first): ``(edges, perm, x, x_relabelled, edges_relabelled, edge_feat)``, where node ``i``
    becomes ``perm[i]`` and the edge features (both directions of each edge, in edge order) stay as they are."""
    import networkx as nx
    import torch

    edges = list(nx.gnp_random_graph(n, p, seed=seed).edges())
    perm = torch.randperm(n)
    x = torch.randn(n, feat_dim, dtype=torch.float64)
    xp = torch.empty_like(x)
    xp[perm] = x
    edges_p = [(int(perm[a]), int(perm[b])) for a, b in edges]
    ea = torch.randn(len(edges), 1, dtype=torch.float64)
    return edges, perm, x, xp, edges_p, torch.cat([ea, ea])
