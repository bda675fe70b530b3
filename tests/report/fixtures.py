"""Fabricated, schema-valid results rows with known metric values (written through the real writer)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from graphbench.results import SCHEMA_VERSION, append_rows


def make_row(dataset: str, model: str, test: float, *, seed: int = 0, split: str = "fold0", fold: int | None = None,
             val: float | None = None, metric: str = "accuracy", direction: str = "max", stage: str = "final",
             status: str = "ok", hparams: dict | None = None, num_params: int = 1000, time_per_epoch_s: float = 0.5,
             total_time_s: float = 10.0, git_commit: str = "abc123def456", **extra) -> dict:
    hp = hparams or {"hidden": 64}
    config_hash = hashlib.sha256(json.dumps([model, dataset, hp], sort_keys=True).encode()).hexdigest()[:16]
    row = {
        "schema_version": SCHEMA_VERSION, "run_id": hashlib.md5(f"{dataset}{model}{seed}{split}{test}{stage}{hp}"
                                                                 .encode()).hexdigest(),
        "started_at": "2026-01-01T00:00:00+00:00", "ended_at": "2026-01-01T00:01:00+00:00",
        "graphbench_version": "0.1.0", "torch_version": "2.13.0", "dgl_version": "1.1.3", "python_version": "3.11.9",
        "git_commit": git_commit, "git_dirty": False, "host": "testhost", "device": "cpu", "stage": stage,
        "dataset": dataset, "split": split, "fold": int(split[4:]) if fold is None and split.startswith("fold")
        else (fold or 0), "model": model, "seed": seed, "deterministic": True,
        "hparams": json.dumps(hp, sort_keys=True), "config_hash": config_hash, "metric": metric,
        "direction": direction, "train_metric": None if test is None else test + 0.05,
        "val_metric": (test + 0.01 if test is not None else None) if val is None else val,
        "test_metric": test if status == "ok" and stage != "search" else None,  # search: never scored on test
        "best_epoch": 5, "epochs": 10,
        "time_per_epoch_s": time_per_epoch_s, "train_time_s": 5.0, "inference_time_s": 0.1,
        "total_time_s": total_time_s, "peak_mem_mb": 100.0, "num_params": num_params, "status": status,
        "error": "" if status == "ok" else "CUDA OOM",
    }
    row.update(extra)
    return row


def write(path: Path, rows: list[dict]) -> Path:
    append_rows(path, rows)
    return path


def block_results(path: Path, scores: dict[str, dict[str, list[float]]], *, direction: str = "max",
                  metric: str = "accuracy", **kw) -> Path:
    """scores[dataset][model] = per-seed test values (seed i, split fold0)."""
    rows = []
    for d, per_model in scores.items():
        for m, values in per_model.items():
            for seed, v in enumerate(values):
                rows.append(make_row(d, m, v, seed=seed, direction=direction, metric=metric,
                                     num_params=1000 * (len(m) + 1), time_per_epoch_s=0.1 * (len(m) + 1), **kw))
    return write(path, rows)
