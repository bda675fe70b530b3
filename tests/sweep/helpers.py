"""Shared helpers of the sweep tests: tiny sweep files and the "every trial accounted for once" check."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import optuna
import yaml
from optuna.trial import TrialState

from graphbench.results import read_results
from graphbench.sweep.config import load_sweep
from graphbench.sweep.storage import is_dead_trial, open_storage, retried_numbers

REPO = Path(__file__).resolve().parents[2]

TINY = {
    "name": "tiny",
    "models": ["gcn"],
    "datasets": ["csl"],
    "trials": 3,
    "hparams": {"epochs": 2, "batch_size": 64, "layers": 1},
    "search_space": {"hidden": {"type": "categorical", "choices": [8, 16]},
                     "lr": {"type": "float", "low": 1.0e-3, "high": 1.0e-2, "log": True},
                     "dropout": None},
    "pruner": "none",
    # The runner's machinery is tested on the one-study protocol; per-fold selection has its own tests.
    "protocol": {"selection": "select-once", "search": {"folds": [0], "seeds": [0]},
                 "final": {"folds": [0, 1], "seeds": [0, 1]}},
}


def write_sweep(tmp: Path, **overrides) -> Path:
    data = {**TINY, **overrides, "results": str(tmp / "results" / "tiny.csv")}
    data["name"] = overrides.get("name", TINY["name"])
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / f"{data['name']}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def cli(*args: str, cwd: Path, timeout: float = 170, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-m", "graphbench.sweep.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def popen(*args: str, cwd: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONFAULTHANDLER": "1"}  # SIGABRT prints its stacks
    return subprocess.Popen([sys.executable, "-m", "graphbench.sweep.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)


def check_accounting(sweep_path: Path, storage_url: str | None = None) -> dict:
    """Every finished search trial has its rows exactly once, no row belongs to an unfinished or dead trial, and
    every (fold, seed) of every study has exactly one ok final row of the selected configuration."""
    sweep = load_sweep(sweep_path)
    url = storage_url or f"journal:{sweep.journal_path}"
    storage = open_storage(url)
    df = read_results(sweep.results)
    search = df[df["stage"] == "search"]
    final = df[df["stage"] == "final"]
    keys = Counter(zip(search["study"], search["trial"], search["fold"], search["seed"]))
    assert all(c == 1 for c in keys.values()), f"duplicate search rows: {[k for k, c in keys.items() if c > 1]}"
    counts = {"complete": 0, "pruned": 0, "failed": 0, "stale": 0, "final": 0}
    for spec in sweep.studies():
        study = optuna.load_study(study_name=spec.name, storage=storage)
        rows_by_trial = Counter(search[search["study"] == spec.name]["trial"].astype(int))
        n_runs = len(spec.search_runs(5))
        retried = retried_numbers(study.get_trials(deepcopy=False))
        for t in study.get_trials(deepcopy=False):
            if t.state == TrialState.COMPLETE:
                counts["complete"] += 1
                assert rows_by_trial[t.number] == n_runs, (spec.name, t.number, rows_by_trial[t.number])
            elif t.state == TrialState.PRUNED:
                counts["pruned"] += 1
                assert 1 <= rows_by_trial[t.number] <= n_runs
            elif t.state == TrialState.FAIL and is_dead_trial(t, retried):
                counts["stale"] += 1
                assert rows_by_trial[t.number] == 0, f"dead trial {t.number} has rows"
            elif t.state == TrialState.FAIL:
                counts["failed"] += 1
            else:
                raise AssertionError(f"{spec.name}: trial {t.number} is still {t.state.name}")
            rows_by_trial.pop(t.number, None)
        assert not rows_by_trial, f"rows of trials the storage does not know as finished: {dict(rows_by_trial)}"
        finished = sum(1 for t in study.get_trials(deepcopy=False)
                       if t.state in (TrialState.COMPLETE, TrialState.PRUNED))
        if sweep.trials:
            assert finished >= sweep.trials
        best = study.best_trial
        mine = final[final["study"] == spec.name]
        runs = Counter(zip(mine["fold"].astype(int), mine["seed"].astype(int)))
        expected = spec.final_runs(5)
        assert sorted(runs) == sorted(expected), (sorted(runs), expected)
        assert all(c == 1 for c in runs.values()), f"duplicate final rows: {runs}"
        assert set(mine["trial"].astype(int)) == {best.number}
        assert mine["config_hash"].nunique() == 1
        counts["final"] += len(mine)
    return counts
