"""The research families against their reference implementations, in one interleaved run: training throughput,
peak memory and pre-processing time.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/families_vs_reference.py [--families pathnn sswl ...]
        [--epochs 4] [--reps 2] [--threads 1] [--graphs N] [--data-root DIR]

Each family module of :mod:`benchmarks.reference` (``pathnn``, ``sswl``, ``drew``, ``laser``, ``prmpnn``; a module
that does not import is skipped with a note) gives :class:`~benchmarks.reference.case.FamilyCase` rows: a graphbench
model with a preset-like configuration, and the reference implementation's side written on PyG's public operators
following the released code's structure (its pre-processing, its network, its training loop). For every case:

- **pre-processing**: graphbench's transform chain of the run (``run_steps`` of the model's hyperparameters), computed
  cold by :func:`graphbench.transforms.apply.prepare` without the disk cache, in this process (one worker, memo
  cleared; both sides first run once on four graphs, untimed, so that imports and first-call set-up are not
  counted), against ``reference.preprocess(dataset)`` (the reference's per-graph pre-computation: paths, product
  graphs, ...); process CPU seconds, the median over ``max(--reps, 5)`` passes (alternating which side goes first).
- **training**: graphbench's model built as the runner builds it (``resolve_hparams`` → ``build_model``) and trained by
  graphbench's own :class:`~graphbench.train.trainer.Trainer` (batching by its collator, validation metric and loss
  after every epoch, best-state copy), against the reference network in a plain PyG loop (``DataLoader``, Adam at the
  same learning rate, the reference's loss, a validation pass with the dataset's metric after every epoch). Both get
  the same graphs, split, batch size and epochs; the learning-rate schedule is off on both sides. ``epoch`` is
  train + validation, ``train`` the training pass alone; process CPU seconds per epoch (one thread: CPU time is
  the work done and barely moves with the load other processes put on a shared machine), median over epochs
  2..E.
- **memory**: each side's training runs in its own forked child process (so neither side's allocations stay in the
  other's measurement); the child resets the kernel's high-water mark (``/proc/self/clear_refs``) when it starts
  and reports ``VmHWM − VmRSS at start``: the peak resident memory that training added on top of the prepared
  data, which the parent already holds (the same quantity for both sides). The window includes graphbench's
  trainer's final evaluation of the train, validation and test parts (batch ``max(bs, 256)``); the reference loop
  ends with the same passes (untimed on both sides). ``data MB`` is the size of the tensors
  of each side's prepared inputs (graphs, features and pre-computed paths / product graphs).
- **parameters**: both counts are printed; they are equal unless the case's note explains the difference.
- **same function** (``--check``, on by default): where the case gives a ``state_map`` (graphbench's parameter
  names → the reference's), graphbench's freshly built weights are loaded into the reference network and both
  networks' outputs on 64 validation graphs are compared, so the table compares two implementations of one
  function, not two different networks.

Repetitions alternate the order of the two sides (ours first in even repetitions). Ratios are **throughput ratios,
reference time / graphbench time**: above 1.0 graphbench is faster, below 1.0 slower; each is the median over
repetitions of the per-repetition ratio, with its range in brackets. Memory and pre-processing ratios are
reference / graphbench as well (above 1.0: graphbench uses less). torch_geometric is imported by the reference
modules only; it is not a graphbench dependency.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch / dgl: one thread, so CPU time measures work

import argparse
import dataclasses
import importlib
import multiprocessing as mp
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `benchmarks.reference` from a plain script run

from benchmarks.reference.case import FamilyCase  # noqa: E402
from graphbench.data.base import GraphDataset, Split  # noqa: E402
from graphbench.models import build_model, count_parameters  # noqa: E402
from graphbench.train.config import TrainConfig  # noqa: E402
from graphbench.train.runner import resolve_hparams  # noqa: E402
from graphbench.train.seed import set_seed  # noqa: E402
from graphbench.train.trainer import Trainer  # noqa: E402
from graphbench.transforms.apply import clear_memo, prepare  # noqa: E402
from graphbench.transforms.base import pe_width  # noqa: E402
from graphbench.transforms.config import run_steps  # noqa: E402

FAMILIES = ("pathnn", "sswl", "drew", "laser", "prmpnn")
#: Pre-processing passes per side at least (the median is reported).
PREP_REPS = 5


# -- cases and data --------------------------------------------------------------------------------------------
def load_cases(families: list[str] | None) -> list[tuple[str, FamilyCase]]:
    """``(family module, case)`` of every importable family module; ``families`` filters by module or case name."""
    out = []
    for fam in FAMILIES:
        try:
            module = importlib.import_module(f"benchmarks.reference.{fam}")
        except Exception as exc:  # a module another helper has not written yet, or a missing optional package
            print(f"note: benchmarks/reference/{fam}.py skipped ({type(exc).__name__}: {exc})", flush=True)
            continue
        for case in module.cases():
            if not families or fam in families or case.name in families:
                out.append((fam, case))
    return out


def subsample(ds: GraphDataset, count: int | None, seed: int = 0) -> GraphDataset:
    """``count`` graphs of ``ds`` drawn from its first split's train / validation / test parts in their
    proportions (a fixed draw per ``seed``, stratified by class for single-label classification), with that split
    renumbered; ``ds`` itself when ``count`` is None or not
    smaller than the dataset."""
    if not count or count >= len(ds.graphs):
        return ds
    split = ds.splits[0]
    parts = [np.asarray(p) for p in (split.train, split.val, split.test)]
    total = sum(len(p) for p in parts)
    rng = np.random.default_rng(seed)
    take = [max(1, round(count * len(p) / total)) for p in parts]
    chosen = [np.sort(_draw(ds, p, k, rng)) for p, k in zip(parts, take)]
    index = np.concatenate(chosen)
    bounds = np.cumsum([0] + [len(c) for c in chosen])
    new_split = Split(split.name, *(np.arange(bounds[i], bounds[i + 1]) for i in range(3)))
    fields = {f.name: getattr(ds, f.name) for f in dataclasses.fields(GraphDataset)}
    fields.update(graphs=[ds.graphs[i] for i in index], labels=ds.labels[torch.from_numpy(index)], splits=[new_split],
                  meta={**ds.meta, "subsample": f"{len(index)} of {len(ds.graphs)} graphs (seed {seed})"})
    return GraphDataset(**fields)


def _head(ds: GraphDataset, count: int) -> GraphDataset:
    """The first ``count`` graphs of ``ds`` as a dataset of their own (a warm-up input)."""
    count = max(3, min(count, len(ds.graphs)))
    fields = {f.name: getattr(ds, f.name) for f in dataclasses.fields(GraphDataset)}
    fields.update(graphs=ds.graphs[:count], labels=ds.labels[:count],
                  splits=[Split("head", np.arange(count - 2), [count - 2], [count - 1])])
    return GraphDataset(**fields)


def _draw(ds: GraphDataset, part: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """``k`` of the examples in ``part``; for a single-label classification task stratified by class, with at least
    one example of every class the part has (so a small validation part keeps the metric defined)."""
    labels = ds.labels[torch.from_numpy(part)]
    if ds.task_kind not in ("multiclass", "binary") or (labels.dim() > 1 and labels.shape[1] > 1):
        return rng.choice(part, size=min(k, len(part)), replace=False)
    labels = labels.reshape(-1).numpy()
    out = []
    for c in np.unique(labels[~np.isnan(labels.astype(float))]):
        members = part[labels == c]
        out.append(rng.choice(members, size=min(len(members), max(1, round(k * len(members) / len(part)))),
                              replace=False))
    return np.concatenate(out)


def tensor_mb(obj: Any, seen: set | None = None) -> float:
    """Bytes of the tensors reachable from ``obj`` (DGL graphs, PyG data, dicts, lists), in MiB: each tensor's own
    elements (a view into a larger storage, as a cached dataset's graphs are, counts its part only), counted once."""
    seen = set() if seen is None else seen
    total = 0
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, torch.Tensor):
            key = (x.data_ptr(), tuple(x.shape), x.dtype)
            if key not in seen:
                seen.add(key)
                total += x.numel() * x.element_size()
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
        elif hasattr(x, "ndata") and hasattr(x, "edges"):  # a DGLGraph
            s, d = x.edges()
            stack.extend([s, d, dict(x.ndata), dict(x.edata)])
        elif hasattr(x, "to_dict"):  # a torch_geometric Data
            stack.append(x.to_dict())
    return total / 2**20


# -- memory of a child process -------------------------------------------------------------------------------------
def _status_mb(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> float:
    """Reset this process's high-water mark; returns its resident memory now (MiB)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return _status_mb("VmRSS")


def _in_child(fn, *args) -> dict:
    """``fn(*args)`` in a forked child process; its result dict plus ``peak_mb`` (peak RSS added by ``fn``)."""
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def body() -> None:
        try:
            start = _reset_peak()
            out = fn(*args)
            out["peak_mb"] = _status_mb("VmHWM") - start
            send.send(out)
        except BaseException as exc:  # reported to the parent, which prints it
            send.send({"error": f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"})

    proc = ctx.Process(target=body)
    proc.start()
    send.close()
    try:
        out = recv.recv()
    except EOFError:
        out = {"error": "the child process died without a result"}
    proc.join()
    return out


# -- the two training loops -------------------------------------------------------------------------------------
def _median(xs: list[float]) -> float:
    return statistics.median(xs[1:] if len(xs) > 1 else xs)


def train_config(case: FamilyCase, epochs: int) -> tuple[dict, dict]:
    """(model hparams, trainer hparams) of the case, for ``epochs`` epochs at the case's batch size, no schedule and
    no early stopping."""
    model_hp, train_hp = resolve_hparams(case.model, dict(case.hparams))
    train_hp.update(epochs=epochs, batch_size=case.batch_size, patience=10 ** 6, min_epochs=0, scheduler="none",
                    min_lr=0.0)
    return model_hp, train_hp


def build_ours(case: FamilyCase, prepared: GraphDataset, model_hp: dict, train_hp: dict, seed: int):
    """graphbench's model as :func:`graphbench.train.runner.run_one` builds it."""
    set_seed(seed)
    steps = run_steps(case.model, model_hp, train_hp)
    return build_model(case.model, prepared.node_features, prepared.num_classes, task_level=prepared.task_level,
                       edge_dim=prepared.edge_features, pe_dim=pe_width(steps), **model_hp)


def run_ours(case: FamilyCase, prepared: GraphDataset, model_hp: dict, train_hp: dict, seed: int) -> dict:
    model = build_ours(case, prepared, model_hp, train_hp, seed)
    stamps: list[float] = []
    trainer = Trainer(model, prepared, prepared.splits[0], TrainConfig.from_dict(train_hp), seed=seed,
                      progress=lambda h: stamps.append(time.process_time()))
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
    return {"train": _median(train_times), "epoch": _median(np.diff([t0, *stamps]).tolist()),
            "params": count_parameters(model)}


def _scores(ds: GraphDataset, out: torch.Tensor) -> np.ndarray:
    if ds.task_kind == "multiclass":
        out = torch.softmax(out, dim=-1)
    return out.float().numpy()


def run_reference(case: FamilyCase, base: GraphDataset, data: list, model_hp: dict, train_hp: dict,
                  seed: int) -> dict:
    """The reference network in a plain PyG loop (Adam, the reference's loss, validation every epoch)."""
    from torch_geometric.loader import DataLoader

    gb_model = build_ours(case, base, model_hp, train_hp, seed)  # its shape is what the reference mirrors
    torch.manual_seed(seed)
    net = case.reference.build(base, gb_model)
    del gb_model
    split = base.splits[0]
    follow = list(case.reference.follow_batch)
    bs = case.batch_size
    gen = torch.Generator().manual_seed(seed)
    train = DataLoader([data[i] for i in split.train], batch_size=bs, shuffle=True, follow_batch=follow,
                       generator=gen)
    val = DataLoader([data[i] for i in split.val], batch_size=max(bs, 256), follow_batch=follow)
    y_val = base.labels[torch.from_numpy(np.asarray(split.val))]
    opt = torch.optim.Adam(net.parameters(), lr=train_hp["lr"], weight_decay=train_hp.get("weight_decay", 0.0))
    train_times, epoch_times = [], []
    for _ in range(train_hp["epochs"]):
        t0 = time.process_time()
        net.train()
        for batch in train:
            loss = case.reference.loss(net, batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
        t1 = time.process_time()
        net.eval()
        with torch.no_grad():
            out = torch.cat([case.reference.predict(net, b) for b in val])
        base.metric_fn.fn(y_val.numpy(), _scores(base, out))
        train_times.append(t1 - t0)
        epoch_times.append(time.process_time() - t0)
    # as graphbench's trainer ends: train / validation / test metrics at batch max(bs, 256), untimed, so that the
    # memory window covers the same work on both sides
    with torch.no_grad():
        for part in (split.train, split.val, split.test):
            loader = DataLoader([data[i] for i in part], batch_size=max(bs, 256), follow_batch=follow)
            out = torch.cat([case.reference.predict(net, b) for b in loader])
            base.metric_fn.fn(base.labels[torch.from_numpy(np.asarray(part))].numpy(), _scores(base, out))
    return {"train": _median(train_times), "epoch": _median(epoch_times),
            "params": sum(p.numel() for p in net.parameters() if p.requires_grad)}


def check_same_function(case: FamilyCase, base: GraphDataset, prepared: GraphDataset, data: list, model_hp: dict,
                        train_hp: dict, count: int = 64) -> tuple[float, float, list[str]]:
    """Load graphbench's freshly built weights into the reference network (``case.extra["state_map"]`` renames
    them) and compare the two networks' outputs on the first ``count`` validation graphs in evaluation mode:
    ``(max |ours − ref|, max |ours|, reference parameters graphbench has no counterpart of)``."""
    from torch_geometric.loader.dataloader import Collater

    from graphbench.transforms.batch import Collator

    ours = build_ours(case, prepared, model_hp, train_hp, 0)
    net = case.reference.build(base, ours)
    keys = net.load_state_dict(case.extra["state_map"](ours.state_dict()), strict=False)
    if keys.unexpected_keys:
        raise ValueError(f"{case.name}: state_map gives names the reference lacks: {keys.unexpected_keys}")
    index = [int(i) for i in base.splits[0].val[:count]]
    collate = Collator.for_outputs(getattr(prepared, "outputs", {}), getattr(ours, "extras", {}), prepared.graphs[0])
    batch, _ = collate([(prepared.graphs[i], prepared.extras[i] if prepared.extras else None, prepared.labels[i])
                        for i in index])
    picked = [data[i] for i in index]
    ours.eval()
    net.eval()
    with torch.no_grad():
        a, b = ours(batch), case.reference.predict(net, Collater(picked)(picked))
    return float((a - b).abs().max()), float(a.abs().max()), list(keys.missing_keys)


# -- one case -------------------------------------------------------------------------------------------------------
def _timed(fn, *args, **kwargs):
    t0 = time.process_time()
    out = fn(*args, **kwargs)
    return out, time.process_time() - t0


def run_case(case: FamilyCase, base: GraphDataset, args) -> dict:
    model_hp, train_hp = train_config(case, args.epochs)
    steps = run_steps(case.model, model_hp, train_hp)
    prep: dict[str, list[float]] = {"ours": [], "ref": []}
    warm = _head(base, 4)  # imports and first-call set-up out of the timed passes, on both sides
    clear_memo()
    prepare(warm, steps, seed=0, workers=1, use_cache=False, progress=False)
    case.reference.preprocess(warm)
    prepared = data = None
    for rep in range(max(args.reps, PREP_REPS)):  # cheap next to training, and short passes vary more
        for side in ("ours", "ref") if rep % 2 == 0 else ("ref", "ours"):
            if side == "ours":
                clear_memo()
                prepared, t = _timed(prepare, base, steps, seed=0, workers=1, use_cache=False, progress=False)
            else:
                data, t = _timed(case.reference.preprocess, base)
            prep[side].append(t)
    clear_memo()
    same = None
    if args.check and "state_map" in case.extra:
        same = check_same_function(case, base, prepared, data, model_hp, train_hp)
        print(f"   same weights, same graphs: max |ours - ref| = {same[0]:.2e} (max |ours| = {same[1]:.2e})"
              + (f"; reference parameters without a graphbench counterpart: {same[2]}" if same[2] else ""),
              flush=True)
    runs: dict[str, list[dict]] = {"ours": [], "ref": []}
    for rep in range(args.reps):
        for side in ("ours", "ref") if rep % 2 == 0 else ("ref", "ours"):
            if side == "ours":
                out = _in_child(run_ours, case, prepared, model_hp, train_hp, rep)
            else:
                out = _in_child(run_reference, case, base, data, model_hp, train_hp, rep)
            if "error" in out:
                raise RuntimeError(f"{case.name} ({side}, rep {rep}): {out['error']}")
            runs[side].append(out)
    return {"prep": prep, "runs": runs, "data_mb": (tensor_mb([prepared.graphs, prepared.extras]), tensor_mb(data)),
            "graphs": len(base.graphs), "same": same}


def _ratio(ref: list[float], ours: list[float]) -> str:
    r = [a / b for a, b in zip(ref, ours) if b > 0]
    if not r:
        return "n/a"
    return f"{statistics.median(r):.2f} [{min(r):.2f}-{max(r):.2f}]"


def print_family(family: str, rows: list[tuple[FamilyCase, dict]], args) -> None:
    print(f"\n== {family}: graphbench (ours) vs reference (ref); times in CPU s per epoch, memory in MiB; "
          f"ratios = ref / ours (> 1: graphbench faster or smaller)")
    head = (f"{'case':<22} {'graphs':>6} {'params ours/ref':>17} | {'epoch ours':>10} {'ref':>7} {'x ref':>17} | "
            f"{'train ours':>10} {'ref':>7} {'x ref':>17} | {'peak ours':>9} {'ref':>7} {'x ref':>6} | "
            f"{'data ours':>9} {'ref':>6} | {'prep ours':>9} {'ref':>8} {'x ref':>17}")
    print(head)
    for case, res in rows:
        r = res["runs"]
        med = {s: {k: statistics.median(x[k] for x in r[s]) for k in ("epoch", "train", "peak_mb")} for s in r}
        params = (r["ours"][0]["params"], r["ref"][0]["params"])
        prep = {s: statistics.median(v) for s, v in res["prep"].items()}
        print(f"{case.name:<22} {res['graphs']:>6} {params[0]:>8}/{params[1]:<8} | "
              f"{med['ours']['epoch']:>10.3f} {med['ref']['epoch']:>7.3f} "
              f"{_ratio([x['epoch'] for x in r['ref']], [x['epoch'] for x in r['ours']]):>17} | "
              f"{med['ours']['train']:>10.3f} {med['ref']['train']:>7.3f} "
              f"{_ratio([x['train'] for x in r['ref']], [x['train'] for x in r['ours']]):>17} | "
              f"{med['ours']['peak_mb']:>9.1f} {med['ref']['peak_mb']:>7.1f} "
              f"{med['ref']['peak_mb'] / max(med['ours']['peak_mb'], 1e-9):>6.2f} | "
              f"{res['data_mb'][0]:>9.1f} {res['data_mb'][1]:>6.1f} | "
              f"{prep['ours']:>9.3f} {prep['ref']:>8.3f} {_ratio(res['prep']['ref'], res['prep']['ours']):>17}",
              flush=True)
        if params[0] != params[1]:
            print(f"    parameter counts differ: {case.notes or 'see the case module'}")
        if res["same"] is not None:
            print(f"    same function: with graphbench's weights loaded, max |ours - ref| = {res['same'][0]:.1e} "
                  f"on 64 validation graphs (outputs up to {res['same'][1]:.1e})")
    for case, _ in rows:
        print(f"  {case.name}: {case.model} {case.hparams} batch {case.batch_size}; reference {case.reference.source}"
              + (f"; {case.notes}" if case.notes else ""))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--families", nargs="+", default=None, help=f"family modules ({', '.join(FAMILIES)}) or case "
                   "names (default: all)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--graphs", type=int, default=None, help="subsample every dataset to this many graphs (default: "
                   "each case's own extra['graphs'], else the whole dataset)")
    p.add_argument("--data-root", default=None)
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True, help="before timing, load "
                   "graphbench's weights into the reference network and print the largest output difference "
                   "(cases whose extra has a state_map)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    import dgl

    print(f"torch {torch.__version__}, dgl {dgl.__version__}, threads {args.threads}, {args.epochs} epochs x "
          f"{args.reps} reps, cpu: {_cpu()}", flush=True)
    datasets: dict[Any, GraphDataset] = {}
    by_family: dict[str, list[tuple[FamilyCase, dict]]] = {}
    for family, case in load_cases(args.families):
        count = args.graphs or case.extra.get("graphs")
        key = (case.dataset, count)
        if key not in datasets:
            datasets[key] = subsample(case.dataset(args.data_root), count)
        print(f"-- {family}/{case.name}: {case.model} on {datasets[key].name} ({len(datasets[key].graphs)} graphs)",
              flush=True)
        try:
            row = (case, run_case(case, datasets[key], args))
        except Exception as exc:
            print(f"   failed: {exc}", flush=True)
            continue
        by_family.setdefault(family, []).append(row)
        print_family(family, [row], args)  # each row as soon as it is measured; all tables again at the end
    for family, rows in by_family.items():
        print_family(family, rows, args)


def _cpu() -> str:
    try:
        from graphbench.env import environment

        env = environment()
        return str(env.get("cpu_model") or env.get("cpu") or "?")
    except Exception:
        return "?"


if __name__ == "__main__":
    main()
