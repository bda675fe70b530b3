"""Training throughput side by side in one run: graphbench's trainer vs a bare DGL loop vs PyG.

    python benchmarks/throughput_vs_pyg.py [--epochs 6] [--reps 2] [--threads 1] [--data-root DIR]

For GIN, GCN and GAT of identical shape (input encoder → L × (conv → BatchNorm → ReLU → dropout, residual) →
readout → 2-layer head) on the same graphs (ENZYMES and a synthetic set of larger graphs):

- ``trainer``: graphbench's :class:`Trainer` (``Batch`` collation, validation after every epoch, best-state copy);
- ``bare``: the same graphbench model in a hand-written DGL loop (``GraphDataLoader`` + Adam, validation too);
- ``pyg``: the same architecture on torch_geometric's convolutions (GINConv / GCNConv / GATConv), encoder,
  norms and head copied from the graphbench model, PyG ``DataLoader``.

Parameter counts are printed to show the shapes match. Times are process CPU seconds (one thread, so CPU time is
the work done and barely moves with the load other processes put on a shared machine), medians over epochs
2..E; the three loops run one after the other in each repetition (order alternating) and the ratios are the
median over repetitions of the per-repetition ratios, with their range. ``train`` is the training pass alone,
``epoch`` is train + validation (what every loop does per epoch). torch_geometric is imported here only; it is
not a graphbench dependency (``pip install torch_geometric``).
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch / dgl: one thread, so CPU time measures work

import argparse
import copy
import statistics
import time

import dgl
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from graphbench.data import load_dataset
from graphbench.data.base import GraphDataset, Split
from graphbench.models import build_model, count_parameters
from graphbench.train.config import TrainConfig
from graphbench.train.trainer import Trainer


def synthetic(num_graphs: int = 300, seed: int = 0) -> GraphDataset:
    """Larger graphs: Erdős–Rényi, 100–300 nodes, mean degree ≈ 6, 16 dense features, 2 classes."""
    rng = np.random.default_rng(seed)
    graphs, labels = [], []
    for _ in range(num_graphs):
        n = int(rng.integers(100, 301))
        m = 3 * n
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        g = dgl.to_bidirected(dgl.graph((torch.from_numpy(src), torch.from_numpy(dst)), num_nodes=n))
        g.ndata["feat"] = torch.from_numpy(rng.standard_normal((n, 16))).float()
        graphs.append(g)
        labels.append(int(g.num_edges() / n > 6.0))
    perm = rng.permutation(num_graphs)
    a, b = int(0.8 * num_graphs), int(0.9 * num_graphs)
    return GraphDataset("synthetic-large", graphs, torch.tensor(labels), "graph", "multiclass", "accuracy",
                        [Split("fixed", perm[:a], perm[a:b], perm[b:])], num_classes=2)


# -- PyG twin --------------------------------------------------------------------------------------------------
class PygNet(nn.Module):
    """The graphbench model's architecture on PyG convolutions (encoder, norms, head copied)."""

    def __init__(self, gb_model: nn.Module, kind: str) -> None:
        super().__init__()
        from torch_geometric.nn import GATConv, GCNConv, GINConv

        self.encoder, self.norms, self.head = (copy.deepcopy(gb_model.encoder), copy.deepcopy(gb_model.norms),
                                               copy.deepcopy(gb_model.head))
        self.dropout, self.residual, self.kind = gb_model.dropout, gb_model.residual, kind
        hidden = gb_model.hidden
        if kind == "gin":
            self.convs = nn.ModuleList(GINConv(copy.deepcopy(c.apply_func), eps=0.0, train_eps=False)
                                       for c in gb_model.convs)
            self.pool = "sum"
        elif kind == "gcn":
            self.convs = nn.ModuleList(GCNConv(hidden, hidden) for _ in gb_model.convs)
            self.pool = "mean"
        else:
            heads = gb_model.heads
            self.convs = nn.ModuleList(GATConv(hidden, hidden // heads, heads=heads) for _ in gb_model.convs)
            self.pool = "mean"

    def forward(self, data) -> torch.Tensor:
        from torch_geometric.nn import global_add_pool, global_mean_pool

        h = self.encoder(data.x, data.num_nodes)
        for conv, norm in zip(self.convs, self.norms):
            out = self.dropout(torch.relu(norm(conv(h, data.edge_index))))
            h = h + out if self.residual else out
        pool = global_add_pool if self.pool == "sum" else global_mean_pool
        return self.head(pool(h, data.batch, size=data.num_graphs))


def to_pyg(ds: GraphDataset) -> list:
    from torch_geometric.data import Data

    out = []
    for g, y in zip(ds.graphs, ds.labels):
        s, d = g.edges()
        out.append(Data(x=g.ndata["feat"], edge_index=torch.stack([s, d]), y=y.reshape(1), num_nodes=g.num_nodes()))
    return out


# -- loops ----------------------------------------------------------------------------------------------------
def _median(xs: list[float]) -> float:
    return statistics.median(xs[1:] if len(xs) > 1 else xs)


def run_trainer(model, ds, split, epochs: int, bs: int) -> tuple[float, float]:
    stamps: list[float] = []
    cfg = TrainConfig(epochs=epochs, lr=1e-3, batch_size=bs, patience=10 ** 6, scheduler="none")
    trainer = Trainer(model, ds, split, cfg, progress=lambda h: stamps.append(time.process_time()))
    train_times: list[float] = []
    inner = trainer._train_epoch

    def timed(opt, epoch):
        t0 = time.process_time()
        out = inner(opt, epoch)
        train_times.append(time.process_time() - t0)
        return out

    trainer._train_epoch = timed
    t0 = time.process_time()
    trainer.fit()
    epochs_s = np.diff([t0, *stamps]).tolist()
    return _median(train_times), _median(epochs_s)


def run_bare_dgl(model, ds, split, epochs: int, bs: int) -> tuple[float, float]:
    from dgl.dataloading import GraphDataLoader

    pairs = list(zip(ds.graphs, ds.labels))
    train = GraphDataLoader([pairs[i] for i in split.train], batch_size=bs, shuffle=True)
    val = GraphDataLoader([pairs[i] for i in split.val], batch_size=max(bs, 256))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_times, epoch_times = [], []
    for _ in range(epochs):
        t0 = time.process_time()
        model.train()
        for g, y in train:
            loss = F.cross_entropy(model(g, g.ndata["feat"]), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        t1 = time.process_time()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(g, g.ndata["feat"]).argmax(1) == y).sum()) for g, y in val)
        assert correct >= 0
        train_times.append(t1 - t0)
        epoch_times.append(time.process_time() - t0)
    return _median(train_times), _median(epoch_times)


def run_pyg(model, data, split, epochs: int, bs: int) -> tuple[float, float]:
    from torch_geometric.loader import DataLoader

    train = DataLoader([data[i] for i in split.train], batch_size=bs, shuffle=True)
    val = DataLoader([data[i] for i in split.val], batch_size=max(bs, 256))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_times, epoch_times = [], []
    for _ in range(epochs):
        t0 = time.process_time()
        model.train()
        for b in train:
            loss = F.cross_entropy(model(b), b.y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        t1 = time.process_time()
        model.eval()
        with torch.no_grad():
            correct = sum(int((model(b).argmax(1) == b.y).sum()) for b in val)
        assert correct >= 0
        train_times.append(t1 - t0)
        epoch_times.append(time.process_time() - t0)
    return _median(train_times), _median(epoch_times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--models", nargs="+", default=["gin", "gcn", "gat"])
    p.add_argument("--datasets", nargs="+", default=["enzymes", "synthetic-large"])
    p.add_argument("--data-root", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, dgl {dgl.__version__}, threads {args.threads}, hidden {args.hidden}, "
          f"layers {args.layers}, batch {args.batch_size}, {args.epochs} epochs x {args.reps} reps")
    print(f"{'dataset':<16} {'model':<5} {'params gb/pyg':>14} | {'train s: trainer':>16} {'bare':>7} {'pyg':>7} | "
          f"{'epoch s: trainer':>16} {'bare':>7} {'pyg':>7} | {'trainer/bare':>20} {'trainer/pyg':>20}")
    for name in args.datasets:
        ds = synthetic() if name == "synthetic-large" else load_dataset(name, args.data_root)
        split = ds.splits[0]
        data = to_pyg(ds)
        for kind in args.models:
            times: dict[str, list[tuple[float, float]]] = {"trainer": [], "bare": [], "pyg": []}
            params = None
            for rep in range(args.reps):
                for loop in ("trainer", "bare", "pyg") if rep % 2 == 0 else ("pyg", "bare", "trainer"):
                    torch.manual_seed(rep)
                    gb_model = build_model(kind, ds.node_features, ds.num_classes, hidden=args.hidden,
                                           layers=args.layers)
                    if loop == "pyg":
                        net = PygNet(gb_model, kind)
                        params = (count_parameters(gb_model), count_parameters(net))
                        times[loop].append(run_pyg(net, data, split, args.epochs, args.batch_size))
                    elif loop == "bare":
                        times[loop].append(run_bare_dgl(gb_model, ds, split, args.epochs, args.batch_size))
                    else:
                        times[loop].append(run_trainer(gb_model, ds, split, args.epochs, args.batch_size))
            med = {k: (statistics.median(t for t, _ in v), statistics.median(e for _, e in v))
                   for k, v in times.items()}
            r_bare = [t[1] / b[1] for t, b in zip(times["trainer"], times["bare"])]
            r_pyg = [t[1] / p[1] for t, p in zip(times["trainer"], times["pyg"])]

            def fmt(r):
                return f"{statistics.median(r):.3f} [{min(r):.2f}-{max(r):.2f}]"

            print(f"{name:<16} {kind:<5} {params[0]:>6}/{params[1]:<7} | {med['trainer'][0]:>16.3f} "
                  f"{med['bare'][0]:>7.3f} {med['pyg'][0]:>7.3f} | {med['trainer'][1]:>16.3f} {med['bare'][1]:>7.3f} "
                  f"{med['pyg'][1]:>7.3f} | {fmt(r_bare):>20} {fmt(r_pyg):>20}", flush=True)


if __name__ == "__main__":
    main()
