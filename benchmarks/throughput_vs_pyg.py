"""Training throughput side by side in one run: graphbench's trainer vs a bare DGL loop vs PyG.

    python benchmarks/throughput_vs_pyg.py [--epochs 20] [--reps 2] [--threads 1] [--data-root DIR]

Graph level (``--models``, ``MODEL`` or ``MODEL:PRESET``, on ``--datasets``: ENZYMES and a synthetic set of larger
graphs), per epoch:

- ``trainer``: graphbench's :class:`Trainer` — one epoch of :meth:`Trainer.fit`: ``_train_epoch`` (``Batch``
  collation, forward, backward, Adam), ``evaluate_with_loss`` on the validation part, the best-state copy;
- ``dgl-calls``: the same, with the model's sum/mean readout through ``dgl.readout_nodes``, GIN's neighbour sum
  through ``GINConv``'s ``update_all``, GAT's layer through ``GATConv``'s frames, the best state deep-copied, the
  model's (zero) regularisation term added every step and the metric through scikit-learn's checked function
  (graphbench before issue 22; the same numbers);
- ``bare``: the same graphbench model in a hand-written DGL loop (``GraphDataLoader`` + Adam, validation too);
- ``pyg``: the same network on torch_geometric's convolutions (GINConv / GCNConv / GATConv) with the graphbench
  model's parameters, encoder, norms, readout and head copied in, PyG ``DataLoader``.

Node level (``--node``, presets on ``--node-dataset``): the trainer with the sparse input path
(``sparse_input=auto``), the trainer with it off (dense), and PyG's dense network (``cached=True``, as PyG's GCN
example caches the normalised adjacency).

Parameter counts are printed to show the shapes match, and ``twin gap`` is the largest difference between the
graphbench model's and the PyG twin's outputs in evaluation mode (float rounding: they compute the same function).
Times are process CPU seconds on one thread. The loops advance one epoch at a time in turn (the order rotating
every epoch), so a change in the load other processes put on a shared machine hits all of them alike; the first
epoch of each is dropped; the times are medians over epochs and repetitions, and each ratio is the median of the
per-epoch ratios (with its interquartile range). ``train`` is the training pass alone, ``epoch`` is train +
validation. torch_geometric is imported here only; it is not a graphbench dependency."""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch / dgl: one thread, so CPU time measures work

import argparse
import copy
import functools
import statistics
import time
import types
from collections.abc import Callable, Iterator

import dgl
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from graphbench import env
from graphbench.data import load_dataset
from graphbench.data.base import GraphDataset, Split
from graphbench.metrics import Metric
from graphbench.models import build_model, count_parameters
from graphbench.presets import get_preset
from graphbench.train.config import TrainConfig
from graphbench.train.runner import resolve_hparams
from graphbench.train.trainer import Trainer, snapshot
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
Loop = Iterator[tuple[float, float]]
"""Yields ``(train seconds, epoch seconds)`` of one epoch at a time (CPU time)."""


def _timed(train: Callable[[], None], validate: Callable[[], None]) -> tuple[float, float]:
    t0 = time.process_time()
    train()
    t1 = time.process_time()
    validate()
    return t1 - t0, time.process_time() - t0


def trainer_loop(model: nn.Module, ds: GraphDataset, split: Split, cfg: TrainConfig, *, before: bool = False) -> Loop:
    """One :meth:`Trainer.fit` epoch at a time: the training pass, validation, the best-state copy (``fit`` copies
    it after every improving epoch; here after every epoch, the worst case). ``before``: the trainer's work as it
    was before issue 22 (state deep-copied, regularisation term always added, scikit-learn's checked metric)."""
    trainer = Trainer(model, ds, split, cfg)
    copy_state: Callable[[nn.Module], dict] = snapshot
    if before:
        copy_state = _deepcopy_state
        trainer._regularizer = getattr(model, "regularization_loss", None)
        trainer.metric = _sklearn_metric(trainer.metric)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    if not trainer.node_level:
        trainer._train_loader = trainer._loader(split.train, shuffle=True)
    epoch = 0
    while True:
        epoch += 1

        def validate() -> None:
            trainer.evaluate_with_loss(split.val)
            copy_state(model)

        yield _timed(functools.partial(trainer._train_epoch, opt, epoch), validate)


def _deepcopy_state(model: nn.Module) -> dict:
    """The trainer's best-state copy before issue 22."""
    return copy.deepcopy(model.state_dict())


def _sklearn_metric(metric: Metric) -> Metric:
    """``metric`` computed by scikit-learn's own function, input checks included (graphbench before issue 22)."""
    import sklearn.metrics as skm

    if metric.name == "accuracy":
        return Metric(metric.name, lambda y, s: float(skm.accuracy_score(y.reshape(-1), s.argmax(-1))),
                      metric.direction)
    return metric


def with_dgl_calls(model: nn.Module) -> nn.Module:
    """``model`` computing its sum/mean readout with ``dgl.readout_nodes``, GIN's neighbour sum with DGL's
    ``GINConv.forward`` (``update_all``) and GAT's layer with ``GATConv.forward`` (frames): graphbench's calls
    before issue 22, the same numbers."""
    from dgl.nn import GATConv, GINConv

    from graphbench.models.gat import OpsGATConv
    from graphbench.models.gin import SumGINConv
    from graphbench.nn.readout import readout

    model.pool = types.MethodType(lambda self, batch, h: readout(batch.graph, h, self.readout_op), model)
    for conv in model.convs:
        if isinstance(conv, SumGINConv):
            conv.forward = types.MethodType(GINConv.forward, conv)
        if isinstance(conv, OpsGATConv):
            conv.forward = types.MethodType(GATConv.forward, conv)
    return model


def bare_dgl_loop(model: nn.Module, ds: GraphDataset, split: Split, cfg: TrainConfig) -> Loop:
    from dgl.dataloading import GraphDataLoader

    pairs = list(zip(ds.graphs, ds.labels))
    train = GraphDataLoader([pairs[i] for i in split.train], batch_size=cfg.batch_size, shuffle=True)
    val = GraphDataLoader([pairs[i] for i in split.val], batch_size=max(cfg.batch_size, 256))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def train_pass() -> None:
        model.train()
        for g, y in train:
            loss = F.cross_entropy(model(g, g.ndata["feat"]), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    def validate() -> None:
        model.eval()
        with torch.no_grad():
            assert sum(int((model(g, g.ndata["feat"]).argmax(1) == y).sum()) for g, y in val) >= 0

    while True:
        yield _timed(train_pass, validate)


def pyg_loop(model: nn.Module, data: list, split: Split, cfg: TrainConfig) -> Loop:
    from torch_geometric.loader import DataLoader

    train = DataLoader([data[i] for i in split.train], batch_size=cfg.batch_size, shuffle=True)
    val = DataLoader([data[i] for i in split.val], batch_size=max(cfg.batch_size, 256))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)

    def train_pass() -> None:
        model.train()
        for b in train:
            loss = F.cross_entropy(model(b), b.y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    def validate() -> None:
        model.eval()
        with torch.no_grad():
            assert sum(int((model(b).argmax(1) == b.y).sum()) for b in val) >= 0

    while True:
        yield _timed(train_pass, validate)


def pyg_node_loop(model: nn.Module, data, split: Split, cfg: TrainConfig) -> Loop:
    """PyG's node-classification loop (its examples/gcn.py): one full-graph step, then validation accuracy."""
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    train, val = torch.from_numpy(split.train), torch.from_numpy(split.val)

    def train_pass() -> None:
        model.train()
        loss = F.cross_entropy(model(data)[train], data.y[train])
        opt.zero_grad()
        loss.backward()
        opt.step()

    def validate() -> None:
        model.eval()
        with torch.no_grad():
            assert int((model(data)[val].argmax(1) == data.y[val]).sum()) >= 0

    while True:
        yield _timed(train_pass, validate)


def interleave(loops: dict[str, Loop], epochs: int, times: dict[str, list[tuple[float, float]]]) -> None:
    """Advance every loop one epoch at a time, the order rotating each epoch; the first epoch is dropped."""
    names = list(loops)
    for e in range(epochs + 1):
        shift = e % len(names)
        for name in names[shift:] + names[:shift]:
            t = next(loops[name])
            if e > 0:
                times[name].append(t)


def summary(times: dict[str, list[tuple[float, float]]], ref: str) -> dict[str, tuple[float, float, list[float]]]:
    """Per loop: median train time, median epoch time, per-epoch epoch-time ratios to ``ref``."""
    return {k: (statistics.median(t for t, _ in v), statistics.median(e for _, e in v),
                [a[1] / b[1] for a, b in zip(v, times[ref])]) for k, v in times.items()}


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
    p.add_argument("--epochs", type=int, default=20)
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
    q = statistics.quantiles(r, n=4)
    return f"{statistics.median(r):.3f} [{q[0]:.2f}-{q[2]:.2f}]"


def _seeded(seed: int, model: str, ds: GraphDataset, model_hp: dict, **kw) -> nn.Module:
    """The model built after ``torch.manual_seed(seed)``: every loop of a repetition starts from the same weights."""
    torch.manual_seed(seed)
    return build_model(model, ds.node_features, ds.num_classes, **model_hp, **kw)


def graph_level(args: argparse.Namespace) -> None:
    loops_named = ("trainer", "dgl-calls", "bare", "pyg")
    print(f"{'dataset':<16} {'model':<15} {'params gb/pyg':>14} | epoch s: "
          + " ".join(f"{k:>9}" for k in loops_named) + " | " + " ".join(f"{k + '/pyg':>18}" for k in loops_named[:3])
          + " | twin gap")
    for name in args.datasets:
        for spec in args.models:
            model, model_hp, train_hp, options = setting(spec, args)
            ds = synthetic() if name == "synthetic-large" else load_dataset(name, args.data_root, **options)
            split, data, cfg = ds.splits[0], to_pyg(ds), TrainConfig.from_dict(train_hp)
            times: dict[str, list[tuple[float, float]]] = {k: [] for k in loops_named}
            gaps = []
            for rep in range(args.reps):
                fresh = functools.partial(_seeded, rep, model, ds, model_hp)
                gb_model = fresh()
                net = PygNet(gb_model, model)
                params = (count_parameters(gb_model), count_parameters(net))
                gaps.append(twin_gap(gb_model, net, ds, data))
                loops = {"trainer": trainer_loop(gb_model, ds, split, cfg),
                         "dgl-calls": trainer_loop(with_dgl_calls(fresh()), ds, split, cfg, before=True),
                         "bare": bare_dgl_loop(fresh(), ds, split, cfg), "pyg": pyg_loop(net, data, split, cfg)}
                interleave(loops, args.epochs, times)
            med = summary(times, "pyg")
            print(f"{name:<16} {spec:<15} {params[0]:>6}/{params[1]:<7} | {'':>8} "
                  + " ".join(f"{med[k][1]:>9.3f}" for k in loops_named) + " | "
                  + " ".join(f"{_fmt(med[k][2]):>18}" for k in loops_named[:3]) + f" | {max(gaps):.1e}", flush=True)


def node_level(args: argparse.Namespace) -> None:
    """Node-level presets on one graph: graphbench's trainer with the sparse input path (``sparse_input=auto``),
    the trainer with it off (dense dropout and dense first linear map), and PyG's dense network."""
    from torch_geometric.data import Data

    loops_named = ("sparse", "dense", "pyg")
    print(f"\nnode level: {args.node_dataset}, {args.node_epochs} epochs x {args.reps} reps, CPU ms per epoch")
    print(f"{'model':<22} {'params gb/pyg':>14} | {'train ms: sparse':>16} {'dense':>7} {'pyg':>7} | "
          f"{'epoch ms: sparse':>16} {'dense':>7} {'pyg':>7} | {'sparse/pyg':>18} {'dense/pyg':>18} | twin gap")
    for spec in args.node:
        model, model_hp, train_hp, options = setting(spec, args)
        ds = load_dataset(args.node_dataset, args.data_root, **options)
        split, g = ds.splits[0], ds.graphs[0]
        s, d = g.edges()
        data = Data(x=g.ndata["feat"], edge_index=torch.stack([s, d]), y=ds.labels, num_nodes=g.num_nodes())
        cfg = TrainConfig.from_dict(train_hp)
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in loops_named}
        gaps = []
        for rep in range(args.reps):
            sparse_m, dense_m = (_seeded(rep, model, ds, {**model_hp, "sparse_input": mode}, task_level="node")
                                 for mode in ("auto", "false"))
            net = PygNet(dense_m, model, cached=True)
            params = (count_parameters(dense_m), count_parameters(net))
            gaps.append(twin_gap(dense_m, net, ds, data))
            loops = {"sparse": trainer_loop(sparse_m, ds, split, cfg), "dense": trainer_loop(dense_m, ds, split, cfg),
                     "pyg": pyg_node_loop(net, data, split, cfg)}
            interleave(loops, args.node_epochs, times)
        med = summary(times, "pyg")
        ms = {k: (1e3 * v[0], 1e3 * v[1]) for k, v in med.items()}
        print(f"{spec:<22} {params[0]:>6}/{params[1]:<7} | {ms['sparse'][0]:>16.1f} {ms['dense'][0]:>7.1f} "
              f"{ms['pyg'][0]:>7.1f} | {ms['sparse'][1]:>16.1f} {ms['dense'][1]:>7.1f} {ms['pyg'][1]:>7.1f} | "
              f"{_fmt(med['sparse'][2]):>18} {_fmt(med['dense'][2]):>18} | {max(gaps):.1e}", flush=True)


if __name__ == "__main__":
    main()
