"""ωGCN vs GCN with depth (Eliasof et al., ICML 2023, the over-smoothing experiment) and on heterophilous sets.

1. Cora (public Planetoid split) at depth ``--depths`` (default 2, 8, 32, 64): test accuracy of the model selected
   on validation, and the Dirichlet energy (``sym`` normalisation, :mod:`graphbench.nn.energy`) of the last layer's
   node states in eval mode. The paper's claim: GCN collapses with depth (energy → 0, accuracy → chance) while ωGCN
   keeps its accuracy. Figure: ``reports/omega_depth.png`` (reports/ is git-ignored).
2. Cornell, Texas, Wisconsin at depth 2 over the 10 geom-gcn splits: mean ± std test accuracy.

Every model runs in the paper's network (``graphbench.models.omega``): opening ``ReLU(Linear(dropout(X)))``, ``L``
layers without dropout, normalisation or residual connections, closing ``Linear(dropout(·))``; GCN differs only in
its layer (DGL ``GraphConv`` with weight and bias, then ReLU) and in applying the input dropout after the opening
linear (the backbone's order). Same width, dropout, optimiser and budget for all. Cora uses the released script's
settings (64 channels, dropout 0.6, Adam lr 0.01, weight decay 1e-5, row-normalised features); the heterophilous
sets those of its fully-supervised script (dropout 0.5, lr 1e-3, weight decay 1e-4, patience 100; features
row-normalised here as the script does). The budget is reduced to fit a shared CPU: ``--epochs`` (no lr schedule;
the paper trains up to 10 000 epochs with patience 400), ``--seeds`` seeds (default 1). The test accuracy is the
one at the best validation epoch (the trainer's selection).

A deep ωGCN starts as plain propagation (ω = 1, identity mixing), so its validation accuracy sits at chance for
tens of epochs before ω leaves 1: keep ``--patience`` at least ``--epochs`` (with patience 50 the depth-32 run
stops at chance with ω ≈ 0.98).

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/omega_depth.py [--data-root ../shared/datasets]
    ... --models omega-gcn --depths 32 64 --epochs 300 --patience 300 --label-suffix "(300 epochs)" --csv long.csv
    ... --plot-from depth.csv,long.csv --figure reports/omega_depth.png
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch

from graphbench.data import load_dataset
from graphbench.models import build_model
from graphbench.nn.energy import dirichlet_energy
from graphbench.train.config import TrainConfig
from graphbench.train.seed import set_seed
from graphbench.train.trainer import Trainer

MODELS = {"gcn": "GCN", "omega-gcn": "ωGCN", "omega-gat": "ωGAT"}


def fit(name: str, ds, split, depth: int, seed: int, a, *, lr: float, weight_decay: float, dropout: float,
        epochs: int, patience: int) -> dict:
    set_seed(seed)
    extra = {"heads": a.heads} if name == "omega-gat" else {}
    model = build_model(name, ds.node_features, ds.num_classes, task_level="node", hidden=a.hidden, layers=depth,
                        dropout=dropout, input_dropout=dropout, encoder=True, encoder_act=True, head="linear",
                        layer_dropout=False, residual=False, norm="none", **extra)
    cfg = TrainConfig(epochs=epochs, lr=lr, weight_decay=weight_decay, patience=patience, scheduler="none")
    t = time.perf_counter()
    res = Trainer(model, ds, split, cfg, seed=seed).fit()
    model.eval()
    g = ds.graphs[0]
    with torch.no_grad():
        h = model.node_states(g, g.ndata.get("feat"))
    row = {"test": res.test_metric, "val": res.val_metric, "energy": dirichlet_energy(g, h, "sym"),
           "epochs": res.epochs, "time": time.perf_counter() - t}
    if hasattr(model, "omegas"):
        w = model.omegas()[-1]
        row["omega"] = (float(w.min()), float(w.mean()), float(w.max()))
    return row


def depth_study(a) -> dict:
    ds = load_dataset("cora", a.data_root, normalize_features=True)
    print(f"Cora, public split, row-normalised features: hidden {a.hidden}, dropout {a.dropout}, lr {a.lr}, "
          f"wd {a.weight_decay}, ≤ {a.epochs} epochs (patience {a.patience}), seeds {a.seeds}")
    print(f"{'model':6} {'depth':>5} {'test acc':>9} {'val acc':>8} {'energy(last)':>13} "
          f"{'ω last layer min/mean/max':>26} {'s/run':>6}")
    out = {}
    for depth in a.depths:  # depth-major, so that both models are compared at each depth as the run goes
        for name in a.models:
            label = MODELS[name]
            rows = [fit(name, ds, ds.splits[0], depth, s, a, lr=a.lr, weight_decay=a.weight_decay,
                        dropout=a.dropout, epochs=a.epochs, patience=a.patience) for s in range(a.seeds)]
            acc = statistics.mean(r["test"] for r in rows)
            energy = statistics.mean(r["energy"] for r in rows)
            om = rows[0].get("omega")
            oms = f"{om[0]:.2f}/{om[1]:.2f}/{om[2]:.2f}" if om else "—"
            print(f"{label:6} {depth:>5} {acc:>9.3f} {statistics.mean(r['val'] for r in rows):>8.3f} "
                  f"{energy:>13.3e} {oms:>26} {statistics.mean(r['time'] for r in rows):>6.1f}", flush=True)
            if a.label_suffix:
                label = f"{label} {a.label_suffix}"
            out[(label, depth)] = (acc, energy)
            if a.csv:
                new = not Path(a.csv).exists()
                Path(a.csv).parent.mkdir(parents=True, exist_ok=True)
                with open(a.csv, "a") as f:
                    if new:
                        f.write("model,depth,test_acc,energy,epochs_budget\n")
                    f.write(f"{label},{depth},{acc},{energy},{a.epochs}\n")
    return out


def read_csv(path: str) -> dict:
    import pandas as pd
    df = pd.read_csv(path).drop_duplicates(["model", "depth"], keep="last")
    return {(r.model, int(r.depth)): (r.test_acc, r.energy) for r in df.itertuples()}


def figure(results: dict, depths: list[int], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    labels = list(dict.fromkeys(label for label, _ in results))  # every model (and budget) present, in order
    for label in labels:
        ds_ = [d for d in depths if (label, d) in results]
        ax1.plot(ds_, [results[(label, d)][0] for d in ds_], marker="o", label=label)
        ax2.plot(ds_, [max(results[(label, d)][1], 1e-30) for d in ds_], marker="o", label=label)
    ax1.set(xscale="log", xlabel="layers", ylabel="test accuracy", title="Cora (public split)")
    ax2.set(xscale="log", yscale="log", xlabel="layers", ylabel="Dirichlet energy (sym), last layer")
    for ax in (ax1, ax2):
        ax.minorticks_off()
        ax.set_xticks(depths, [str(d) for d in depths])
        ax.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    print(f"figure written to {path}")


def row_normalise(ds) -> None:
    """Row-normalise the node features in place (the released scripts' ``NormalizeFeatures``)."""
    g = ds.graphs[0]
    x = g.ndata["feat"].float()
    g.ndata["feat"] = x / x.sum(1, keepdim=True).clamp(min=1e-12)


def heterophilous(a) -> None:
    print(f"\ndepth {a.het_depth}, the 10 geom-gcn splits, seed 0: dropout {a.het_dropout}, lr {a.het_lr}, "
          f"wd {a.het_weight_decay}, ≤ {a.het_epochs} epochs (patience {a.het_patience}); test accuracy mean ± std")
    for name in a.het_datasets:
        ds = load_dataset(name, a.data_root)
        row_normalise(ds)
        line = f"{name:10}"
        for model in a.models:
            label = MODELS[model]
            t = time.perf_counter()
            rows = [fit(model, ds, split, a.het_depth, 0, a, lr=a.het_lr, weight_decay=a.het_weight_decay,
                        dropout=a.het_dropout, epochs=a.het_epochs, patience=a.het_patience) for split in ds.splits]
            accs = [r["test"] for r in rows]
            val = statistics.mean(r["val"] for r in rows)  # for choosing settings: compare runs on this, not test
            line += (f"  {label}: {100 * statistics.mean(accs):5.1f} ± {100 * statistics.pstdev(accs):4.1f} "
                     f"(val {100 * val:4.1f}; {len(accs)} splits, {time.perf_counter() - t:.0f} s)")
        print(line, flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-root", default=os.environ.get("GRAPHBENCH_SHARED_DATA", "../shared/datasets"))
    p.add_argument("--depths", type=int, nargs="+", default=[2, 8, 32, 64])
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--patience", type=int, default=100)
    p.add_argument("--seeds", type=int, default=1)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--heads", type=int, default=1, help="ωGAT attention heads (the released node scripts: 1)")
    p.add_argument("--dropout", type=float, default=0.6)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--weight-decay", type=float, default=1e-5)
    p.add_argument("--het-datasets", nargs="+", default=["cornell", "texas", "wisconsin"])
    p.add_argument("--het-depth", type=int, default=2)
    p.add_argument("--het-epochs", type=int, default=400)
    p.add_argument("--het-patience", type=int, default=100)
    p.add_argument("--het-dropout", type=float, default=0.5)
    p.add_argument("--het-lr", type=float, default=1e-3)
    p.add_argument("--het-weight-decay", type=float, default=1e-4)
    p.add_argument("--figure", default="reports/omega_depth.png")
    p.add_argument("--models", nargs="+", default=["gcn", "omega-gcn"], choices=list(MODELS))
    p.add_argument("--label-suffix", default="", help="appended to the model label in the CSV and figure, e.g. "
                   "'(300 epochs)' for a run with another budget")
    p.add_argument("--csv", default="", help="append the depth study's rows to this CSV (e.g. reports/omega.csv)")
    p.add_argument("--plot-from", default="", help="only draw the figure from CSVs written by --csv (comma-separated)")
    p.add_argument("--skip-depth", action="store_true")
    p.add_argument("--skip-heterophilous", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.plot_from:
        results = {}
        for path in a.plot_from.split(","):
            results.update(read_csv(path))
        figure(results, sorted({d for _, d in results}), Path(a.figure))
        return
    if not a.skip_depth:
        figure(depth_study(a), a.depths, Path(a.figure))
    if not a.skip_heterophilous:
        heterophilous(a)


if __name__ == "__main__":
    main()
