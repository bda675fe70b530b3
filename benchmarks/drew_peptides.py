"""DRew-GCN+LapPE vs GCN on LRGB Peptides-func at the ~500k parameter budget, on a short schedule (issue 13, result 2).

Both models train on the full standard split (10 873 / 2 331 / 2 331) through the normal runner (one results row
each, test AP of the best-validation epoch), with the same optimiser, batch size and number of epochs:

- ``drew-gcn``: the paper preset ``gutteridge2023-lappe`` (7 layers × 130, ν = ∞, LapPE through the reference's
  DeepSet encoder, per-module BN + L2, mean pooling, linear head, Adam lr 1e-3, plateau schedule on the validation
  loss) with ``epochs`` cut to ``--epochs``;
- ``gcn``: the LRGB GCN baseline's shape (``--gcn-layers`` layers, default 5, mean pooling, BN, residual), its
  width solved for the same 500k budget.

The paper trains 300 epochs (DRew-GCN+LapPE 0.7150 ± 0.0044 AP, GCN 0.5930 ± 0.0023 on the LRGB leaderboard); a
few epochs on a shared CPU show the ordering and the gap, not the converged numbers. Times are wall-clock on
whatever machine runs it (one thread); compare them as a ratio.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/drew_peptides.py --data-root /work/shared/datasets \
        --epochs 4 --results /work/out/h13b/drew_peptides.csv
"""

from __future__ import annotations

import argparse
import time

import torch

import graphbench.api as gb
from graphbench.sweep.budget import solve_hidden

PAPER = {"drew-gcn": (0.7150, 0.0044), "gcn": (0.5930, 0.0023)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--budget", type=int, default=500_000)
    p.add_argument("--gcn-layers", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--models", nargs="+", default=["drew-gcn", "gcn"])
    p.add_argument("--results", default=None, help="append the runs' rows to this CSV")
    a = p.parse_args()
    torch.set_num_threads(1)
    common = dict(epochs=a.epochs, patience=a.epochs, batch_size=128, lr=1e-3, scheduler="plateau", lr_patience=20,
                  min_lr=1e-5, dropout=0.0, readout="mean")
    lines = []
    for model in a.models:
        if model == "drew-gcn":
            hp, preset = {"epochs": a.epochs, "patience": a.epochs}, "gutteridge2023-lappe"
        else:
            hp, preset = {**common, "layers": a.gcn_layers}, None
            hp["hidden"], _ = solve_hidden(model, "peptides-func", hp, a.budget, data_root=a.data_root)
        t0 = time.perf_counter()
        def progress(h: dict, model: str = model, t0: float = t0) -> None:
            print(f"  {model} epoch {h.get('epoch')}: loss {h.get('loss', float('nan')):.4f} "
                  f"val {h.get('val', float('nan')):.4f}  {time.perf_counter() - t0:.0f} s", flush=True)

        df = gb.run([model], ["peptides-func"], seeds=[a.seed], hparams=hp, preset=preset, data_root=a.data_root,
                    results=a.results, threads=1, progress=progress)
        wall = time.perf_counter() - t0
        row = df.iloc[0].to_dict()
        paper, paper_std = PAPER[model]
        test = float(row.get("test_metric", float("nan")))
        val = float(row.get("val_metric", float("nan")))
        lines.append(f"{model:9s} params {int(row.get('num_params', 0)):>7d}  val AP {val:.4f}"
                     f"  test AP {test:.4f}  paper {paper:.4f} ± {paper_std:.4f}  gap {test - paper:+.4f}  "
                     f"{a.epochs} epochs  run {wall:.0f} s, {row.get('time_per_epoch_s', 0):.0f} s/epoch  "
                     f"({row.get('status', '')})")
        print(lines[-1], flush=True)
    print("\n".join(["", f"Peptides-func, {a.epochs} epochs, seed {a.seed}, one thread:"] + lines))


if __name__ == "__main__":
    main()
