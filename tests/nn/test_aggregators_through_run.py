"""Each aggregator trains inside GIN through ``graphbench run`` (the CLI's ``main``; one real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from graphbench.cli import main

ALL = ["sum", "mean", "max", "min", "std", "pna", "gnp", "lcm", "lcm-mlp", "gru", "lstm"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny_run_file(tmp_path: Path) -> Path:
    path = tmp_path / "run.yaml"
    path.write_text("dataset_options: {num_train: 24, num_val: 8, num_test: 8, test_degrees: [20, 40]}\n")
    return path


def _args(config: Path, results: Path, aggregator: str) -> list[str]:
    return ["run", "--model", "gin", "--dataset", "set-second-min", "--config", str(config), "--epochs", "2",
            "--hidden", "8", "--layers", "2", "--batch-size", "8", "--readout", aggregator,
            "--set", f"aggregator={aggregator}", "--set", "agg_reg=0.1", "--results", str(results), "--quiet"]


@pytest.mark.parametrize("aggregator", ALL)
def test_gin_trains_with_each_aggregator_through_graphbench_run(aggregator, tiny_run_file, tmp_path):
    results = tmp_path / "results.csv"
    assert main(_args(tiny_run_file, results, aggregator)) == 0
    row = pd.read_csv(results).iloc[-1]
    assert row["status"] == "ok", row["error"]
    assert f'"aggregator": "{aggregator}"' in row["hparams"] and row["epochs"] == 2


def test_python_dash_m_graphbench_run_with_lcm(tiny_run_file, tmp_path):
    results = tmp_path / "results.csv"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "graphbench", *_args(tiny_run_file, results, "lcm")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(results).iloc[-1]["status"] == "ok"
