"""Issue 14, result 2: substructure counting with GIN vs node-based subgraph GNNs vs (k, 1)-GNN at one parameter
budget.

Tasks (``DATASET:TARGET``):

- ``chen:triangle``, ``chen:tailed_triangle``, ``chen:chordal_cycle``, ``chen:star`` — Chen et al.'s dataset 1
  (``counting-chen``: 5000 Erdős–Rényi graphs on 10 nodes, official 1500/1000/2500 split; needs the shared files);
- ``random:cycle4`` (and the other ``counting-random`` targets) — the exact-count generator of
  :mod:`graphbench.data.synthetic.counting` (G(n, p) graphs; ``--random-*`` set their number and size).

Every target is divided by its standard deviation over the dataset (``normalize=true``), the convention of the
GNN-AK and SSWL counting code (docs/models/sswl.md §7), so the printed MAE is the papers' "normalised MAE"; one run per
(model, target), as the papers (a separate regressor per count). Every run goes through the public API
(:func:`graphbench.api.run`, i.e. the trainer and each model's registered input transforms), with the width
``hidden`` solved per model so that it has at most ``--budget`` trainable parameters
(:func:`graphbench.sweep.budget.solve_hidden`, the sweep runner's ``param_budget``). The schedule is short
(``--epochs``); the protocol is the dataset's split, model selected at the best validation epoch, test scored once.

    OMP_NUM_THREADS=1 GRAPHBENCH_SHARED_DATA=/work/shared/datasets nice -n 10 python benchmarks/subgraph_counting.py \\
        --models gin swl gnn-sswl gnn-sswl-plus kl-gnn --epochs 20 --results /tmp/counting.csv

Rows are appended to ``--results`` (the standard results CSV); the table printed at the end is one line per model
with the test MAE per task, the parameter count and the training time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import pandas as pd

DATASETS = {"chen": "counting-chen", "random": "counting-random"}
DEFAULT_TASKS = ["chen:triangle", "chen:tailed_triangle", "chen:chordal_cycle", "random:cycle4"]
DEFAULT_MODELS = ["gin", "swl", "gnn-sswl", "gnn-sswl-plus", "kl-gnn"]


def parse_task(task: str) -> tuple[str, str]:
    if ":" not in task or task.split(":", 1)[0] not in DATASETS:
        raise SystemExit(f"task {task!r}: write DATASET:TARGET with DATASET in {sorted(DATASETS)}")
    short, target = task.split(":", 1)
    return DATASETS[short], target


def dataset_options(dataset: str, target: str, args: argparse.Namespace) -> dict:
    opts = {"target": target, "normalize": True}
    if dataset == "counting-random":
        opts.update(num_graphs=args.random_graphs, min_nodes=args.random_min, max_nodes=args.random_max,
                    seed=args.random_seed)
    return opts


def model_hparams(model: str, args: argparse.Namespace) -> dict:
    """The fixed (not searched) hyperparameters: the trainer's schedule plus the model's own defaults."""
    hp = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr, "scheduler": "cosine",
          "patience": args.epochs, "layers": args.layers}
    if model == "kl-gnn":
        hp.update(k=args.kl_k, rate=1.0)   # all k-subsets of these small graphs (no sampling needed)
    return hp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    ap.add_argument("--tasks", nargs="+", default=DEFAULT_TASKS)
    ap.add_argument("--budget", type=int, default=30_000, help="trainable parameters per model (hidden is solved)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--kl-k", type=int, default=1, help="(k, 1)-GNN: nodes individualised per tuple (k = 1: n copies)")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3, help="Adam, cosine decay (SSWL counting: 2e-3)")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--random-graphs", type=int, default=1000)
    ap.add_argument("--random-min", type=int, default=10)
    ap.add_argument("--random-max", type=int, default=20)
    ap.add_argument("--random-seed", type=int, default=0)
    ap.add_argument("--data-root", default=os.environ.get("GRAPHBENCH_SHARED_DATA"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--results", required=True, help="results CSV the runs are appended to")
    args = ap.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    import graphbench.api as gb
    from graphbench.sweep.budget import solve_hidden

    tasks = [(t, *parse_task(t)) for t in args.tasks]
    for m in args.models:
        gb.describe(m)  # unknown names fail before anything trains
    lines = []
    for model in args.models:
        for task, dataset, target in tasks:
            opts = dataset_options(dataset, target, args)
            hp = model_hparams(model, args)
            hidden, n_params = solve_hidden(model, dataset, hp, args.budget, data_root=args.data_root,
                                            dataset_options=opts)
            rows = gb.run([model], [dataset], seeds=args.seeds, folds=[0], hparams={**hp, "hidden": hidden},
                          dataset_options=opts, data_root=args.data_root, threads=args.threads,
                          results=args.results)
            for _, r in rows.iterrows():
                lines.append({"model": model, "task": task, "seed": r["seed"], "hidden": hidden,
                              "params": r.get("num_params", n_params), "test_mae": r.get("test_metric"),
                              "val_mae": r.get("val_metric"), "train_mae": r.get("train_metric"),
                              "s_per_epoch": r.get("time_per_epoch_s"), "status": r["status"],
                              "error": r.get("error")})
                print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in lines[-1].items()},
                                 default=str), flush=True)
    df = pd.DataFrame(lines)
    ok = df[df.status == "ok"]
    if len(ok):
        table = ok.pivot_table(index="model", columns="task", values="test_mae", aggfunc="mean", sort=False)
        table["params"] = ok.groupby("model", sort=False)["params"].max()
        table["s/epoch"] = ok.groupby("model", sort=False)["s_per_epoch"].mean()
        print(f"\ntest MAE of std-normalised counts (budget {args.budget:,} parameters, {args.epochs} epochs, "
              f"{len(args.seeds)} seed(s)):")
        print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    failed = df[df.status != "ok"]
    for _, r in failed.iterrows():
        print(f"FAILED {r.model} {r.task}: {r.error}", file=sys.stderr)
    return 1 if len(failed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
