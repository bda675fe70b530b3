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

from graphbench import env
from graphbench.data import load_dataset
from graphbench.data.base import GraphDataset, Split
from graphbench.models import build_model, count_parameters
from graphbench.presets import get_preset
from graphbench.train.config import TrainConfig
from graphbench.train.runner import resolve_hparams
from graphbench.train.trainer import Trainer
from graphbench.transforms.batch import Collator


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
    """The graphbench model's network on PyG convolutions: encoder (and its norm / activation / second input layer),
    input dropout, norms, activation, residuals, the all-layer linear readout (GIN, Xu et al. Eq. 4.2) or the head,
    all copied from the graphbench model, so the two compute the same function with the same parameters."""

    def __init__(self, gb_model: nn.Module, kind: str, *, cached: bool = False) -> None:
        super().__init__()
        from torch_geometric.nn import GATConv, GCNConv, GINConv

        g = gb_model
        self.encoder, self.encoder_post = copy.deepcopy(g.encoder), copy.deepcopy(g.encoder_post)
        self.norms, self.head = copy.deepcopy(g.norms), copy.deepcopy(g.head)
        self.layer_heads = copy.deepcopy(g.layer_heads)
        self.activation, self.input_dropout = copy.deepcopy(g.activation), copy.deepcopy(g.input_dropout)
        self.dropout, self.layer_drop = copy.deepcopy(g.dropout), copy.deepcopy(g.layer_drop)
        self.residual, self.task_level, self.readout = g.residual, g.task_level, g.readout_op
        self.input_term = getattr(g, "input_term", "linear_of_pool")
        if not isinstance(self.readout, str) or g.layer_readout == "concat":
            raise ValueError("the PyG twin covers the sum/mean/max readouts and layer_readout last / sum")
        dims = g.layer_dims
        convs = []
        for i, c in enumerate(g.convs):
            with torch.no_grad():  # PyG's layers initialise themselves: copy graphbench's parameters in
                if kind == "gin":
                    conv = GINConv(copy.deepcopy(c.apply_func), eps=float(c.eps.detach()), train_eps=g.learn_eps)
                    conv.nn.load_state_dict(c.apply_func.state_dict())
                elif kind == "gcn":
                    conv = GCNConv(dims[i], dims[i + 1], bias=g.bias, cached=cached)
                    conv.lin.weight.copy_(c.weight.T)
                    if g.bias:
                        conv.bias.copy_(c.bias)
                else:  # GAT; the output layer averages its out_heads heads
                    out = g.is_output_layer(i)
                    heads = g.out_heads if out else g.heads
                    conv = GATConv(dims[i], dims[i + 1] if out else dims[i + 1] // heads, heads=heads, concat=not out,
                                   dropout=g.attn_dropout)
                    conv.lin.weight.copy_(c.fc.weight)
                    conv.att_src.copy_(c.attn_l)
                    conv.att_dst.copy_(c.attn_r)
                    conv.bias.copy_(c.bias.reshape(heads, -1).mean(0) if out else c.bias)
            convs.append(conv)
        self.convs = nn.ModuleList(convs)

    def _pool(self, h: torch.Tensor, data) -> torch.Tensor:
        from torch_geometric.nn import global_add_pool, global_max_pool, global_mean_pool

        pool = {"sum": global_add_pool, "mean": global_mean_pool, "max": global_max_pool}[self.readout]
        return pool(h, data.batch, size=data.num_graphs)

    def forward(self, data) -> torch.Tensor:
        if self.encoder is not None:
            h = self.encoder(data.x, data.num_nodes)
            if self.encoder_post is not None:
                h = self.encoder_post(h)
        else:
            h = data.x
        h = self.input_dropout(h)
        states = [h]
        for i, conv in enumerate(self.convs):
            out = conv(h, data.edge_index)
            if i < len(self.norms):
                out = self.layer_drop(self.activation(self.norms[i](out)))
            h = h + out if self.residual and out.shape == h.shape else out
            states.append(h)
        if self.layer_heads is not None:  # Xu et al. Eq. 4.2
            first, rest = self.layer_heads[0], self.layer_heads[1:]
            term0 = (first(self._pool(states[0], data)) if self.input_term == "linear_of_pool"
                     else self._pool(first(states[0]), data))  # Errica et al.: READOUT(W_0 h + b_0)
            return sum([self.dropout(term0)] + [self.dropout(lin(self._pool(s, data))) for lin, s in
                                                 zip(rest, states[1:])])
        return self.head(self._pool(h, data) if self.task_level == "graph" else h)


def to_pyg(ds: GraphDataset) -> list:
    from torch_geometric.data import Data

    out = []
    for g, y in zip(ds.graphs, ds.labels):
        s, d = g.edges()
        out.append(Data(x=g.ndata["feat"], edge_index=torch.stack([s, d]), y=y.reshape(1), num_nodes=g.num_nodes()))
    return out


def twin_gap(gb_model: nn.Module, net: nn.Module, ds: GraphDataset, data) -> float:
    """Largest difference between the graphbench model's and its PyG twin's outputs in evaluation mode, on the
    first 32 graphs (or the node-level graph): the two compute the same function, so this is float rounding."""
    from torch_geometric.data import Batch as PygBatch

    gb_model.eval()
    net.eval()
    with torch.no_grad():
        if ds.task_level == "node":
            ours, theirs = gb_model(Collator().batch(ds.graphs[:1])), net(data)
        else:
            ours, theirs = gb_model(Collator().batch(ds.graphs[:32])), net(PygBatch.from_data_list(data[:32]))
    gb_model.train()
    net.train()
    return float((ours - theirs).abs().max())


# -- loops ----------------------------------------------------------------------------------------------------
def _median(xs: list[float]) -> float:
    return statistics.median(xs[1:] if len(xs) > 1 else xs)


def run_trainer(model, ds, split, cfg: TrainConfig) -> tuple[float, float]:
    stamps: list[float] = []
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


def run_bare_dgl(model, ds, split, cfg: TrainConfig) -> tuple[float, float]:
    from dgl.dataloading import GraphDataLoader

    pairs = list(zip(ds.graphs, ds.labels))
    train = GraphDataLoader([pairs[i] for i in split.train], batch_size=cfg.batch_size, shuffle=True)
    val = GraphDataLoader([pairs[i] for i in split.val], batch_size=max(cfg.batch_size, 256))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_times, epoch_times = [], []
    for _ in range(cfg.epochs):
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


def run_pyg(model, data, split, cfg: TrainConfig) -> tuple[float, float]:
    from torch_geometric.loader import DataLoader

    train = DataLoader([data[i] for i in split.train], batch_size=cfg.batch_size, shuffle=True)
    val = DataLoader([data[i] for i in split.val], batch_size=max(cfg.batch_size, 256))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train_times, epoch_times = [], []
    for _ in range(cfg.epochs):
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


def run_pyg_node(model, data, split, cfg: TrainConfig) -> tuple[float, float]:
    """PyG's node-classification loop (its examples/gcn.py): one full-graph step, then validation accuracy."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train, val = torch.from_numpy(split.train), torch.from_numpy(split.val)
    train_times, epoch_times = [], []
    for _ in range(cfg.epochs):
        t0 = time.process_time()
        model.train()
        loss = F.cross_entropy(model(data)[train], data.y[train])
        opt.zero_grad()
        loss.backward()
        opt.step()
        t1 = time.process_time()
        model.eval()
        with torch.no_grad():
            correct = int((model(data)[val].argmax(1) == data.y[val]).sum())
        assert correct >= 0
        train_times.append(t1 - t0)
        epoch_times.append(time.process_time() - t0)
    return _median(train_times), _median(epoch_times)


def setting(spec: str, args: argparse.Namespace) -> tuple[str, dict, dict, dict]:
    """``model`` or ``model:preset`` → (model, model hparams, trainer hparams, dataset options). A preset brings
    its own network, batch size, optimiser, schedule and selection rule (ties, monitor); without one the network
    is ``--hidden`` × ``--layers`` with Adam at lr 1e-3 and no schedule."""
    model, _, preset = spec.partition(":")
    if preset:
        p = get_preset(model, preset)
        given, options = dict(p.hparams), dict(p.dataset_options)
    else:
        given = {"hidden": args.hidden, "layers": args.layers, "batch_size": args.batch_size, "lr": 1e-3,
                 "scheduler": "none"}
        options = {}
    model_hp, train_hp = resolve_hparams(model, given)
    train_hp = {**train_hp, "epochs": args.epochs, "patience": 10 ** 6}
    return model, model_hp, train_hp, options


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--hidden", type=int, default=64)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--models", nargs="*", default=["gin", "gin:errica2020", "gcn", "gat"],
                   help="graph-level models, MODEL or MODEL:PRESET (none: skip the section)")
    p.add_argument("--datasets", nargs="+", default=["enzymes", "synthetic-large"])
    p.add_argument("--node", nargs="*", default=["gcn:kipf2017", "gat:velickovic2018"],
                   help="node-level MODEL:PRESET runs on --node-dataset (none: skip the section)")
    p.add_argument("--node-dataset", default="cora")
    p.add_argument("--node-epochs", type=int, default=30)
    p.add_argument("--data-root", default=None)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, dgl {dgl.__version__}, threads {args.threads}, {args.epochs} epochs x "
          f"{args.reps} reps; {env.cpu_model()}")
    if args.models and args.datasets:
        graph_level(args)
    if args.node:
        node_level(args)


def _fmt(r: list[float]) -> str:
    return f"{statistics.median(r):.3f} [{min(r):.2f}-{max(r):.2f}]"


def graph_level(args: argparse.Namespace) -> None:
    print(f"{'dataset':<16} {'model':<15} {'params gb/pyg':>14} | {'train s: trainer':>16} {'bare':>7} {'pyg':>7} | "
          f"{'epoch s: trainer':>16} {'bare':>7} {'pyg':>7} | {'trainer/bare':>20} {'trainer/pyg':>20} | twin gap")
    for name in args.datasets:
        for spec in args.models:
            model, model_hp, train_hp, options = setting(spec, args)
            ds = synthetic() if name == "synthetic-large" else load_dataset(name, args.data_root, **options)
            split, data, cfg = ds.splits[0], to_pyg(ds), TrainConfig.from_dict(train_hp)
            times: dict[str, list[tuple[float, float]]] = {"trainer": [], "bare": [], "pyg": []}
            params, gaps = None, []
            for rep in range(args.reps):
                for loop in ("trainer", "bare", "pyg") if rep % 2 == 0 else ("pyg", "bare", "trainer"):
                    torch.manual_seed(rep)
                    gb_model = build_model(model, ds.node_features, ds.num_classes, **model_hp)
                    if loop == "pyg":
                        net = PygNet(gb_model, model)
                        params = (count_parameters(gb_model), count_parameters(net))
                        gaps.append(twin_gap(gb_model, net, ds, data))
                        times[loop].append(run_pyg(net, data, split, cfg))
                    elif loop == "bare":
                        times[loop].append(run_bare_dgl(gb_model, ds, split, cfg))
                    else:
                        times[loop].append(run_trainer(gb_model, ds, split, cfg))
            med = {k: (statistics.median(t for t, _ in v), statistics.median(e for _, e in v))
                   for k, v in times.items()}
            r_bare = [t[1] / b[1] for t, b in zip(times["trainer"], times["bare"])]
            r_pyg = [t[1] / p[1] for t, p in zip(times["trainer"], times["pyg"])]
            print(f"{name:<16} {spec:<15} {params[0]:>6}/{params[1]:<7} | {med['trainer'][0]:>16.3f} "
                  f"{med['bare'][0]:>7.3f} {med['pyg'][0]:>7.3f} | {med['trainer'][1]:>16.3f} {med['bare'][1]:>7.3f} "
                  f"{med['pyg'][1]:>7.3f} | {_fmt(r_bare):>20} {_fmt(r_pyg):>20} | {max(gaps):.1e}", flush=True)


def node_level(args: argparse.Namespace) -> None:
    """Node-level presets on one graph: graphbench's trainer with the sparse input path (``sparse_input=auto``),
    the trainer with it off (dense dropout and dense first linear map), and PyG's dense network (its GCN example
    caches the normalised adjacency: ``cached=True``)."""
    from torch_geometric.data import Data

    print(f"\nnode level: {args.node_dataset}, {args.node_epochs} epochs x {args.reps} reps, ms per epoch "
          "(train step + validation)")
    print(f"{'model':<22} {'params gb/pyg':>14} | {'train ms: sparse':>16} {'dense':>7} {'pyg':>7} | "
          f"{'epoch ms: sparse':>16} {'dense':>7} {'pyg':>7} | {'sparse/pyg':>20} {'dense/pyg':>20} | twin gap")
    for spec in args.node:
        model, model_hp, train_hp, options = setting(spec, args)
        ds = load_dataset(args.node_dataset, args.data_root, **options)
        split = ds.splits[0]
        g = ds.graphs[0]
        s, d = g.edges()
        data = Data(x=g.ndata["feat"], edge_index=torch.stack([s, d]), y=ds.labels, num_nodes=g.num_nodes())
        cfg = TrainConfig.from_dict({**train_hp, "epochs": args.node_epochs})
        times: dict[str, list[tuple[float, float]]] = {"sparse": [], "dense": [], "pyg": []}
        params, gaps = None, []
        for rep in range(args.reps):
            for loop in ("sparse", "dense", "pyg") if rep % 2 == 0 else ("pyg", "dense", "sparse"):
                torch.manual_seed(rep)
                hp = {**model_hp, "sparse_input": "false" if loop == "dense" else "auto"}
                gb_model = build_model(model, ds.node_features, ds.num_classes, task_level="node", **hp)
                if loop == "pyg":
                    net = PygNet(gb_model, model, cached=True)
                    params = (count_parameters(gb_model), count_parameters(net))
                    gaps.append(twin_gap(gb_model, net, ds, data))
                    times[loop].append(run_pyg_node(net, data, split, cfg))
                else:
                    times[loop].append(run_trainer(gb_model, ds, split, cfg))
        med = {k: (1e3 * statistics.median(t for t, _ in v), 1e3 * statistics.median(e for _, e in v))
               for k, v in times.items()}
        r_sp = [t[1] / p[1] for t, p in zip(times["sparse"], times["pyg"])]
        r_de = [t[1] / p[1] for t, p in zip(times["dense"], times["pyg"])]
        print(f"{spec:<22} {params[0]:>6}/{params[1]:<7} | {med['sparse'][0]:>16.1f} {med['dense'][0]:>7.1f} "
              f"{med['pyg'][0]:>7.1f} | {med['sparse'][1]:>16.1f} {med['dense'][1]:>7.1f} {med['pyg'][1]:>7.1f} | "
              f"{_fmt(r_sp):>20} {_fmt(r_de):>20} | {max(gaps):.1e}", flush=True)


if __name__ == "__main__":
    main()
