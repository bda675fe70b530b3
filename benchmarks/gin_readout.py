"""GIN at lr 0.01 / dropout 0.5 / sum readout (a point of Errica et al.'s grid): the old last-layer readout into a
ReLU MLP head against the paper's all-layer linear readout (Xu et al. Eq. 4.2), on the Errica folds of a TU set.

Prints per fold: test accuracy, best epoch, the scale of the pooled readout, and for the MLP head the number of
its hidden ReLU units that are alive (non-zero on at least one test graph) — the collapse of issue 9 point 6 is
"loss at the label prior's entropy, best epoch 1–5, few head units alive".

    GRAPHBENCH_DATA_ROOT=../shared/datasets python benchmarks/gin_readout.py --dataset imdb-binary --folds 0 1 2
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch

from graphbench.models import build_model
from graphbench.nn.readout import readout
from graphbench.train.config import TrainConfig
from graphbench.train.runner import get_dataset, resolve_hparams
from graphbench.train.seed import set_seed
from graphbench.train.trainer import Trainer

VARIANTS = {
    # the backbone before this change: last layer -> sum readout -> 2-layer ReLU MLP head, dropout after every layer
    "last+mlp": dict(layer_readout="last", layer_dropout=True, residual=True),
    # Xu et al. Eq. 4.2 / Errica et al.: every layer's pooled state through its own linear map and dropout, summed
    "all-layer-res": dict(layer_readout="sum", layer_dropout=False, residual=True),
    # the same without the backbone's residual connections (Xu et al. and Errica et al. have none): GIN's default
    "all-layer": dict(layer_readout="sum", layer_dropout=False, residual=False),
    "last+mlp-nores": dict(layer_readout="last", layer_dropout=True, residual=False),
}
COMMON = dict(hidden=64, layers=4, dropout=0.5, readout="sum", lr=0.01, batch_size=32, scheduler="step", lr_step=50,
              lr_factor=0.5, patience=20)


@torch.no_grad()
def diagnose(model, dataset, index) -> tuple[float, str]:
    """Mean |pooled readout| of the last layer, and alive/total hidden units of an MLP head (or '-')."""
    from dgl import batch

    model.eval()
    graphs = batch([dataset.graphs[int(i)] for i in index])
    h = model.node_states(graphs, graphs.ndata.get("feat"))
    pooled = readout(graphs, h, model.readout_op)
    scale = float(pooled.abs().mean())
    if model.layer_heads is not None:
        return scale, "-"
    hidden = torch.relu(model.head.linears[0](pooled))
    return scale, f"{int((hidden > 0).any(0).sum())}/{hidden.shape[1]}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="imdb-binary")
    ap.add_argument("--folds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--variants", nargs="+", default=["last+mlp", "all-layer"])
    args = ap.parse_args()
    torch.set_num_threads(1)
    ds = get_dataset(args.dataset)
    majority = max(np.bincount(ds.labels.numpy())) / len(ds.labels)
    print(f"{args.dataset}: majority rate {majority:.3f}; {COMMON}, epochs {args.epochs}")
    for name in args.variants:
        accs = []
        t0 = time.perf_counter()
        for fold in args.folds:
            model_hp, train_hp = resolve_hparams("gin", {**COMMON, **VARIANTS[name], "epochs": args.epochs})
            set_seed(args.seed)
            model = build_model("gin", ds.node_features, ds.num_classes, task_level="graph", **model_hp)
            split = ds.splits[fold]
            res = Trainer(model, ds, split, TrainConfig.from_dict(train_hp), seed=args.seed).fit()
            scale, alive = diagnose(model, ds, split.test)
            first_loss = res.history[0]["loss"]
            min_loss = min(h["loss"] for h in res.history)
            accs.append(res.test_metric)
            print(f"  {name:<10} fold {fold}: test {res.test_metric:.3f} val {res.val_metric:.3f} best epoch "
                  f"{res.best_epoch:>3}/{res.epochs:<3} loss {first_loss:.3f}->{min_loss:.3f} "
                  f"(prior entropy {math.log(ds.num_classes):.3f}) |readout| {scale:9.1f} head units alive {alive}")
        print(f"{name:<10} test {np.mean(accs):.3f} ± {np.std(accs, ddof=1) if len(accs) > 1 else float('nan'):.3f} "
              f"over folds {args.folds}; {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
