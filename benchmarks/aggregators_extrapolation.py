"""Size extrapolation of aggregators on the set tasks (LCM paper's experiment, reconstructed).

Model per aggregator (DeepSets form, read at the star's centre): ``ρ(AGG_{leaves → centre} φ(x))`` with
``φ = Linear(2, h) → ReLU → Linear(h, h)``, ``ρ = Linear(h, h) → ReLU → Linear(h, 1)``, trained with L1 loss
(the metric is MAE) and Adam on stars with d ≤ 16; reported: MAE on the in-distribution validation split
(d ≤ 16) and on the test split (d = 32..128). ``gru`` uses the permutation regulariser (λ = --reg).
A constant predictor (the training targets' median) gives the scale.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/aggregators_extrapolation.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time

import dgl
import numpy as np
import torch
from torch import nn

from graphbench.data import load_dataset
from graphbench.data.synthetic.sets import SET_TASKS
from graphbench.nn.aggregators import make_aggregator

AGGREGATORS = ("sum", "mean", "max", "pna", "gnp", "gru", "lcm")


class SetModel(nn.Module):
    def __init__(self, aggregator: str, hidden: int, reg: float) -> None:
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.agg = make_aggregator(aggregator, hidden, reg=reg)
        self.rho = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, graph: dgl.DGLGraph) -> torch.Tensor:
        centres = torch.cumsum(graph.batch_num_nodes(), 0) - graph.batch_num_nodes()
        return self.rho(self.agg(graph, self.phi(graph.ndata["feat"]))[centres])


def batches(graphs, labels, idx, size, rng=None):
    order = rng.permutation(idx) if rng is not None else idx
    for i in range(0, len(order), size):
        part = order[i:i + size]
        yield dgl.batch([graphs[j] for j in part]), labels[part]


def evaluate(model, graphs, labels, idx) -> float:
    model.eval()
    with torch.no_grad():
        errs = [(model(g) - y).abs() for g, y in batches(graphs, labels, idx, 500)]
    model.train()
    return torch.cat(errs).mean().item()


def train_one(ds, aggregator: str, seed: int, args) -> tuple[float, float]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    split = ds.splits[0]
    model = SetModel(aggregator, args.hidden, args.reg if aggregator == "gru" else 0.0)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    step = 0
    while step < args.steps:
        for g, y in batches(ds.graphs, ds.labels, split.train, args.batch_size, rng):
            loss = (model(g) - y).abs().mean() + model.agg.regularization_loss()
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step == args.steps:
                break
    return (evaluate(model, ds.graphs, ds.labels, split.val), evaluate(model, ds.graphs, ds.labels, split.test))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tasks", nargs="+", default=sorted(SET_TASKS))
    p.add_argument("--aggregators", nargs="+", default=list(AGGREGATORS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--steps", type=int, default=1200)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--reg", type=float, default=0.1, help="λ of the GRU permutation regulariser")
    p.add_argument("--num-train", type=int, default=1000)
    args = p.parse_args()
    torch.set_num_threads(1)  # shared 2-core machine: one thread is both faster and steadier here

    print(f"steps={args.steps} batch={args.batch_size} hidden={args.hidden} lr={args.lr} gru_reg={args.reg} "
          f"seeds={args.seeds}; train/val d in 2..16 (1..16 distinct-count), test d in 32..128")
    table: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    baselines = {}
    start = time.time()
    for task in args.tasks:
        ds = load_dataset(task, num_train=args.num_train, seed=0)
        split = ds.splits[0]
        median = ds.labels[split.train].median()
        baselines[task] = ((ds.labels[split.val] - median).abs().mean().item(),
                           (ds.labels[split.test] - median).abs().mean().item())
        for agg in args.aggregators:
            runs = [train_one(ds, agg, s, args) for s in args.seeds]
            table[task, agg] = ([r[0] for r in runs], [r[1] for r in runs])
            print(f"  {task:<20} {agg:<6} val {np.mean(table[task, agg][0]):.4f}  test "
                  f"{np.mean(table[task, agg][1]):.4f}  ({time.time() - start:.0f}s)", flush=True)

    def cell(v: list[float]) -> str:
        return f"{np.mean(v):.3f} ± {np.std(v):.3f}"

    for which, title in ((1, "TEST MAE (extrapolation, d = 32..128)"), (0, "VALIDATION MAE (in-distribution)")):
        print(f"\n{title}, mean ± std over {len(args.seeds)} seeds")
        print(f"{'aggregator':<12}" + "".join(f"{t:>22}" for t in args.tasks))
        for agg in args.aggregators:
            print(f"{agg:<12}" + "".join(f"{cell(table[t, agg][which]):>22}" for t in args.tasks))
        print(f"{'const-median':<12}" + "".join(f"{baselines[t][which]:>22.3f}" for t in args.tasks))
    print(f"\ntotal {time.time() - start:.0f}s")


if __name__ == "__main__":
    main()
