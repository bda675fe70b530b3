"""Sweep benchmark: per-trial storage overhead vs a trial's training time, and 1 vs 2 workers' throughput.

    PYTHONPATH=. python benchmarks/sweep_storage.py [--trials 40] [--postgres postgresql://...] [--skip-workers]

Part 1 runs the storage operations one sweep trial makes (ask, two user attributes, one intermediate value per
epoch with a pruning check, tell) without training, on each storage, and compares the time per trial with the
training time of a real quick.yaml-sized trial (GCN on CSL, 10 epochs). Part 2 runs the same small sweep with
--workers 1 and --workers 2 on this machine and reports completed runs (search + final) per minute.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graphbench.sweep.storage import open_storage  # noqa: E402

EPOCHS = 10


def storage_overhead(url: str | None, trials: int) -> float:
    """Seconds of storage work per trial (no training)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = open_storage(url) if url else optuna.storages.InMemoryStorage()
    study = optuna.create_study(storage=storage, study_name=f"bench-{time.time_ns()}",
                                pruner=optuna.pruners.MedianPruner(n_startup_trials=5),
                                sampler=optuna.samplers.TPESampler(seed=0))

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("gb.worker", {"pid": os.getpid()})
        x = trial.suggest_float("lr", 1e-4, 1e-2, log=True)
        trial.suggest_categorical("hidden", [16, 32])
        for epoch in range(1, EPOCHS + 1):
            trial.report(x * epoch, epoch)
            trial.should_prune()
        trial.set_user_attr("gb.hparams", {"lr": x})
        return x

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=trials)
    return (time.perf_counter() - t0) / trials


def training_time() -> float:
    import torch

    from graphbench.train.runner import RunSpec, run_one

    torch.set_num_threads(1)
    hp = {"epochs": EPOCHS, "hidden": 32, "layers": 3, "batch_size": 32, "pe": "rwse", "pe_dim": 8}
    run_one(RunSpec("gcn", "csl", hparams={**hp, "epochs": 1}))  # warm-up: dataset, encodings
    times = [run_one(RunSpec("gcn", "csl", hparams=hp))["total_time_s"] for _ in range(3)]
    return sorted(times)[1]


def throughput(workers: int, threads: int | None) -> tuple[float, float]:
    """(runs per minute, wall seconds) of a small sweep with ``workers`` processes."""
    with tempfile.TemporaryDirectory() as tmp:
        sweep = {"name": "bench", "models": ["gcn", "gin"], "datasets": ["csl"], "trials": 6,
                 "hparams": {"epochs": 8, "batch_size": 32, "layers": 2, "hidden": 16}, "pruner": "none",
                 "search_space": {"lr": {"type": "float", "low": 1e-3, "high": 1e-2, "log": True},
                                  "hidden": None, "layers": None, "dropout": None},
                 "protocol": {"final": {"folds": "all", "seeds": [0]}}, "results": f"{tmp}/bench.csv"}
        path = Path(tmp, "bench.yaml")
        path.write_text(yaml.safe_dump(sweep))
        cmd = [sys.executable, "-m", "graphbench.sweep.cli", str(path), "--workers", str(workers), "--quiet"]
        if threads:
            cmd += ["--threads", str(threads)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)}, cwd=tmp)
        wall = time.perf_counter() - t0
        runs = 2 * (6 + 5)
        return runs / wall * 60, wall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=40)
    ap.add_argument("--postgres", default=os.environ.get("GRAPHBENCH_BENCH_POSTGRES"))
    ap.add_argument("--skip-workers", action="store_true")
    args = ap.parse_args()
    train = training_time()
    print(f"training one trial (GCN on CSL, {EPOCHS} epochs, 1 thread): {train * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        storages = {"in-memory (baseline)": None, "journal file": f"journal:{tmp}/b.journal",
                    "sqlite": f"sqlite:///{tmp}/b.db"}
        if args.postgres:
            storages["postgresql"] = args.postgres
        print(f"\n{'storage':<22} {'ms / trial':>10} {'% of training':>14}")
        for name, url in storages.items():
            per = storage_overhead(url, args.trials)
            print(f"{name:<22} {per * 1000:>10.1f} {100 * per / train:>13.1f}%")
    if args.skip_workers:
        return
    print(f"\nthroughput on {os.cpu_count()} cores (2 models × (6 trials + 5 final runs), 8 epochs):")
    print(f"{'setup':<34} {'runs/min':>9} {'wall s':>7}")
    for workers, threads, label in ((1, None, "1 worker × 2 threads"), (1, 1, "1 worker × 1 thread"),
                                    (2, None, "2 workers × 1 thread")):
        rate, wall = throughput(workers, threads)
        print(f"{label:<34} {rate:>9.1f} {wall:>7.1f}")


if __name__ == "__main__":
    main()
