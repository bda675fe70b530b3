"""Long-range synthetic tasks under rewiring (issue 13, result 1), through `graphbench sweep`.

Reads ``sweeps/rewiring.yaml`` (models, budget, schedule, search space) and writes one sweep file per dataset with
``layers`` fixed to the task's distance (RingTransfer n: n/2 layers, as DRew's RingTransfer; TreeNeighbourMatch
depth d: d + 1 layers, as Alon & Yahav), optionally fewer graphs per dataset (``--ring-graphs``,
``--tree-examples``), fewer trials / epochs, or a subset of models and datasets; runs ``graphbench sweep`` on each
(one worker, one thread) and prints test accuracy of the final runs (model selected on validation) as a
model × dataset table, with the wall time of each sweep.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/rewiring_long_range.py --out /work/out/rewiring \
        [--datasets ring-transfer-n10 tree-neighbours-match-d3] [--models gcn drew-gcn] [--epochs 10] [--trials 1] \
        [--ring-graphs 500] [--tree-examples 2000]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent


def layers_for(dataset: str) -> int:
    """The number of layers the task needs: its source-to-target distance (ring: n/2; tree: depth + 1)."""
    if m := re.fullmatch(r"ring-transfer-n(\d+)", dataset):
        return int(m.group(1)) // 2
    if m := re.fullmatch(r"tree-neighbours-match-d(\d+)", dataset):
        return int(m.group(1)) + 1
    raise ValueError(f"not a long-range synthetic dataset: {dataset}")


def _model_spaces(models) -> set[str]:
    """Names of every parameter the models' registered search spaces would search."""
    from graphbench.models import MODELS

    return {p for m in models for p in MODELS.get(m).meta.get("search_space", {})}


def derived_sweep(base: dict, dataset: str, a: argparse.Namespace, out: Path) -> Path:
    sweep = {k: v for k, v in base.items() if k not in ("datasets", "results", "report", "storage")}
    sweep["name"] = f"{base.get('name', 'rewiring')}-{dataset}"
    sweep["datasets"] = [dataset]
    if a.models:
        sweep["models"] = {m: (base["models"].get(m) or {}) for m in a.models}
    sweep["hparams"] = {**base.get("hparams", {}), "layers": layers_for(dataset)}
    if a.epochs:
        sweep["hparams"].update(epochs=a.epochs, patience=a.epochs)
    if a.trials:
        sweep["trials"] = a.trials
    space = dict(base.get("search_space", {}))
    space.pop("layers", None)
    if a.lr:
        sweep["hparams"]["lr"] = a.lr
    if a.no_search:  # every model at its defaults (rewiring parameters included) and the fixed lr: one trial
        sweep["trials"] = 1
        space = {name: None for name in {*space, *_model_spaces(sweep["models"])}}
    sweep["search_space"] = space
    options = {}
    if dataset.startswith("ring") and a.ring_graphs:
        options["num_graphs"] = a.ring_graphs
    if dataset.startswith("tree") and a.tree_examples:
        options["max_examples"] = a.tree_examples
    if options:
        sweep["dataset_options"] = options
    sweep["results"] = str(out / f"{dataset}.csv")
    sweep["storage"] = str(out / f"{dataset}.journal")
    path = out / f"rewiring-{dataset}.yaml"
    path.write_text(yaml.safe_dump(sweep, sort_keys=False))
    return path


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sweep", default=str(ROOT / "sweeps" / "rewiring.yaml"))
    p.add_argument("--out", required=True, help="folder for the derived sweep files, journals and results")
    p.add_argument("--datasets", nargs="+", default=None)
    p.add_argument("--models", nargs="+", default=None)
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--trials", type=int, default=None)
    p.add_argument("--lr", type=float, default=None, help="fix the learning rate (no lr search)")
    p.add_argument("--no-search", action="store_true", help="one trial per study: model defaults and the fixed lr")
    p.add_argument("--ring-graphs", type=int, default=None, help="RingTransfer graphs per dataset (default 2000)")
    p.add_argument("--tree-examples", type=int, default=None, help="TreeNeighbourMatch examples per depth")
    a = p.parse_args()
    base = yaml.safe_load(Path(a.sweep).read_text())
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    times = {}
    for dataset in a.datasets or base["datasets"]:
        path = derived_sweep(base, dataset, a, out)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "graphbench", "sweep", str(path), "--threads", "1", "--quiet"],
                              cwd=ROOT, env=env, text=True, capture_output=True)
        times[dataset] = time.perf_counter() - t0
        print(f"{dataset}: sweep exited {proc.returncode} after {times[dataset]:.0f} s", flush=True)
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n", flush=True)
    frames = [pd.read_csv(f) for f in sorted(out.glob("*.csv"))]
    if not frames:
        print("no results")
        return
    df = pd.concat(frames)
    final = df[(df["stage"] == "final") & (df["status"] == "ok")]
    table = final.pivot_table(index="model", columns="dataset", values="test_metric", aggfunc="mean")
    params = final.groupby("model")["num_params"].max()
    table["params (max)"] = params
    print("\nTest accuracy of the final runs (configuration selected on validation):")
    cols = list(table.columns)
    print("| model | " + " | ".join(map(str, cols)) + " |")
    print("|---|" + "---:|" * len(cols))
    for model, row in table.iterrows():
        cells = [f"{v:.3f}" if isinstance(v, float) and v <= 1 else f"{v:.0f}" for v in row]
        print(f"| {model} | " + " | ".join(cells) + " |")
    print("\nSweep wall time per dataset (s, shared machine):", {k: round(v) for k, v in times.items()})


if __name__ == "__main__":
    main()
