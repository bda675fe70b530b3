"""Baselines side by side: accuracy, time per epoch, inference time, peak memory and parameters in one run.

    python benchmarks/baselines.py [--dataset csl] [--epochs 60] [--seeds 0 1 2] [--data-root DIR]

Prints one line per model (mean over seeds and the chosen folds) and each model's time per epoch relative to the
fastest one; ratios are what to compare on a shared, noisy machine.
"""

from __future__ import annotations

import argparse

import graphbench.api as gb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="csl")
    p.add_argument("--models", nargs="+", default=["gcn", "gin", "gat", "sage"])
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--folds", nargs="+", type=int, default=[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--set", nargs="*", default=["lr=0.005", "hidden=32", "pe=rwse"])
    args = p.parse_args()
    hparams = {"epochs": args.epochs}
    for item in args.set:
        key, value = item.split("=", 1)
        hparams[key] = value
    df = gb.run(args.models, args.dataset, seeds=args.seeds, folds=args.folds, hparams=hparams, results=None,
                data_root=args.data_root)
    ok = df[df.status == "ok"]
    agg = ok.groupby("model").agg(test=("test_metric", "mean"), test_std=("test_metric", "std"),
                                  epoch_s=("time_per_epoch_s", "mean"), infer_s=("inference_time_s", "mean"),
                                  mem_mb=("peak_mem_mb", "max"), params=("num_params", "first"),
                                  epochs=("epochs", "mean"))
    fastest = agg["epoch_s"].min()
    print(f"{args.dataset}: {len(args.seeds)} seed(s) x folds {args.folds}, hparams {hparams}")
    print(f"{'model':<8} {'test':>15} {'s/epoch':>9} {'x fastest':>9} {'infer s':>8} {'peak MiB':>9} "
          f"{'params':>8} {'epochs':>6}")
    for model, r in agg.iterrows():
        print(f"{model:<8} {r.test:>7.4f} ± {r.test_std:<5.3f} {r.epoch_s:>9.4f} {r.epoch_s / fastest:>9.2f} "
              f"{r.infer_s:>8.4f} {r.mem_mb:>9.0f} {int(r.params):>8} {r.epochs:>6.0f}")
    if len(ok) < len(df):
        print(df[df.status != "ok"][["model", "seed", "status", "error"]].to_string())


if __name__ == "__main__":
    main()
