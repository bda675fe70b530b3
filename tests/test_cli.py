"""The CLI end to end, in a subprocess, on CSL."""

from __future__ import annotations

from graphbench.results import read_results
from tests.helpers import run_cli


def test_list_and_info(tmp_path):
    models = run_cli("list", "models", cwd=tmp_path).stdout
    assert all(m in models for m in ("gcn", "gin", "gat", "sage"))
    datasets = run_cli("list", "datasets", cwd=tmp_path).stdout
    assert "csl" in datasets and "accuracy" in datasets
    info = run_cli("info", "csl", "--load", cwd=tmp_path).stdout
    assert "Murphy" in info and "5-fold" in info and "fold4: 90/30/30" in info
    assert "heads" in run_cli("info", "gat", cwd=tmp_path).stdout


def test_run_appends_one_row_per_seed_and_fold_and_prints_a_leaderboard(tmp_path):
    out = run_cli("run", "--model", "gin", "gcn", "--dataset", "csl", "--seeds", "0", "1", "--folds", "0", "2",
                  "--epochs", "2", "--hidden", "16", "--set", "pe=\"rwse\"", "--results", "out/r.csv",
                  cwd=tmp_path)
    df = read_results(tmp_path / "out" / "r.csv")
    assert len(df) == 8 and (df["status"] == "ok").all()
    assert sorted(set(zip(df["model"], df["fold"], df["seed"]))) == sorted(
        (m, f, s) for m in ("gcn", "gin") for f in (0, 2) for s in (0, 1))
    assert "csl (accuracy ↑)" in out.stdout and "8 run(s) appended" in out.stdout


def test_run_from_a_config_file_with_flag_overrides(tmp_path):
    (tmp_path / "run.yaml").write_text("model: gcn\ndataset: csl\nseeds: [5]\nfolds: [1]\n"
                                       "hparams: {epochs: 1, hidden: 8}\nresults: r.csv\n")
    run_cli("run", "--config", "run.yaml", "--epochs", "2", cwd=tmp_path)
    df = read_results(tmp_path / "r.csv")
    assert df[["model", "seed", "fold", "epochs"]].values.tolist() == [["gcn", 5, 1, 2]]


def test_errors_are_clear_and_exit_2(tmp_path):
    cases = [
        (["run", "--model", "gni", "--dataset", "csl"], "Did you mean 'gin'"),
        (["run", "--model", "gin", "--dataset", "cls"], "Did you mean 'csl'"),
        (["run", "--model", "gin", "--dataset", "csl", "--set", "hiden=3"], "Did you mean 'hidden'"),
        (["run", "--model", "gin", "--dataset", "csl", "--lr", "-1"], "'lr' must be > 0"),
        (["run", "--model", "gin", "--dataset", "csl", "--folds", "7"], "no fold 7"),
        (["info", "gim"], "Did you mean 'gin'"),
    ]
    for args, message in cases:
        proc = run_cli(*args, cwd=tmp_path, check=False)
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "results").exists()  # nothing ran, nothing written


def test_malformed_config_names_the_key_and_line(tmp_path):
    (tmp_path / "bad.yaml").write_text("model: gin\ndataset: csl\nseed: [1]\n")
    proc = run_cli("run", "--config", "bad.yaml", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "unknown key 'seed' (line 3)" in proc.stderr and "'seeds'" in proc.stderr
    (tmp_path / "broken.yaml").write_text("model: gin\n  dataset: [csl\n")
    proc = run_cli("run", "--config", "broken.yaml", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "invalid YAML at line" in proc.stderr


def test_output_piped_into_a_reader_that_stops_early_ends_without_a_traceback():
    """`graphbench published | head -1`: the closed pipe ends the command quietly (no BrokenPipeError traceback)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-m", "graphbench", "published"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    proc.stdout.close()  # the reader is gone before the first line is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
