"""A sweep killed in the middle of a run resumes that run from its epoch checkpoint (graphbench.train.checkpoint)."""

from __future__ import annotations

import os
import signal

import pytest

from .helpers import cli, popen, write_sweep
from .test_workers import _wait_until


def test_a_sweep_killed_mid_run_resumes_that_run_from_its_checkpoint(tmp_path):
    """SIGKILL a sweep worker in the middle of a final run; the re-run sweep resumes that run (not epoch 1) and
    writes the row an uninterrupted sweep writes."""
    from graphbench.results import read_results
    from graphbench.sweep.config import load_sweep

    one = {"trials": 1, "search_space": {}, "checkpoint_every": 0.001, "pruner": "none",
           "hparams": {"epochs": 100, "batch_size": 16, "layers": 1, "hidden": 8, "dropout": 0.2, "lr": 0.01,
                       "scheduler": "none", "patience": 1000},
           "protocol": {"selection": "per-fold", "final": {"folds": [0], "seeds": [0]}}}
    path = write_sweep(tmp_path / "killed", **one)
    sweep = load_sweep(path)
    folder = sweep.results.with_name(sweep.results.stem + ".checkpoints")
    proc = popen(str(path), "--threads", "1", "--quiet", cwd=path.parent)
    try:
        assert _wait_until(lambda: folder.exists() and any(folder.glob("*.pt"))), proc.stdout.read()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert not sweep.results.exists() or len(read_results(sweep.results)) == 0  # the run had not ended
    out = cli(str(path), "--threads", "1", "--quiet", cwd=path.parent)
    assert "resuming from the checkpoint" in out.stdout + out.stderr
    assert not any(folder.glob("*.pt"))
    clean = write_sweep(tmp_path / "clean", **one)
    cli(str(clean), "--threads", "1", "--quiet", cwd=clean.parent)
    a, b = read_results(sweep.results), read_results(load_sweep(clean).results)
    cols = ["stage", "fold", "seed", "config_hash", "train_metric", "val_metric", "test_metric", "best_epoch", "epochs"]
    assert a[a.stage == "final"][cols].reset_index(drop=True).equals(b[b.stage == "final"][cols].reset_index(drop=True))


def test_checkpoint_every_is_a_duration_and_zero_turns_checkpoints_off(tmp_path):
    from graphbench.config import ConfigError
    from graphbench.sweep.config import load_sweep

    assert load_sweep(write_sweep(tmp_path / "a")).checkpoint_every == 600.0
    assert load_sweep(write_sweep(tmp_path / "b", checkpoint_every="2m")).checkpoint_every == 120.0
    assert load_sweep(write_sweep(tmp_path / "c", checkpoint_every=0)).checkpoint_every == 0.0
    with pytest.raises(ConfigError, match="checkpoint_every.*duration like"):
        load_sweep(write_sweep(tmp_path / "d", checkpoint_every="soon"))
