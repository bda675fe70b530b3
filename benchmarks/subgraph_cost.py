"""Cost of the registered subgraph GNNs (issue 14) vs a plain GIN on random ZINC-sized graphs, and its growth
with the number of nodes n.

Graphs: random molecule-like graphs (a random tree on n nodes plus ⌈n/10⌉ extra edges closing rings, mean
degree ≈ 2.2 as ZINC), one constant node feature. Every model is a **registered** model built and fed exactly as
the trainer does (:mod:`graphbench.train.runner`): its ``input_transforms`` run through
:func:`graphbench.transforms.apply.prepare` (not cached here, so the build is timed), :func:`~graphbench.models
.build_model` builds it from the dataset's feature specs, and the trainer's :class:`~graphbench.transforms.batch
.Collator` batches graphs and per-graph extras into the :class:`~graphbench.transforms.batch.Batch` the model reads.
All models share ``--hidden`` and ``--layers`` (their own defaults otherwise; the parameter count is printed). Per n
and model it prints

- ``prep ms/g``: the model's input transform per graph (product graph, k-tuples; 0 for GIN and SPEN, which find
  their inputs inside the forward pass);
- ``step s``: one training step on a batch of ``--batch`` graphs (forward, L1 loss, backward, Adam step; median of
  ``--repeats``) and ``epoch s``: that × the batches of a ZINC-12k training epoch (10,000 graphs), the "epoch time";
- ``MiB``: bytes of the tensors autograd saves for backward (counted once per storage through
  ``torch.autograd.graph.saved_tensors_hooks``; deterministic, the bulk of training memory) plus the batch's
  per-graph input tensors (the lifted index structures), as "peak memory"; ``guard MiB`` is the memory guard's
  estimate for the same batch (SSWL family);
- ratios to GIN in the same run (the machine is shared: compare ratios, not seconds);

and fits ``cost ∝ n^α`` by least squares in log-log space per model. A model whose memory guard
(``check_inputs``) trips at ``--budget-gb`` is reported as skipped at that n, with the guard's estimate.

    OMP_NUM_THREADS=1 GRAPHBENCH_TRANSFORM_WORKERS=1 PYTHONPATH=. python benchmarks/subgraph_cost.py \\
        --sizes 10 20 40 80 --batch 8 --models gin swl gnn-sswl gnn-sswl-plus kl-gnn
"""

from __future__ import annotations

import argparse
import statistics
import time

import dgl
import networkx as nx
import numpy as np
import torch

from graphbench.data.base import GraphDataset, Split
from graphbench.models import MODELS, build_model, count_parameters
from graphbench.subgraph.guard import LiftedGraphTooLarge, estimate_lifted_size
from graphbench.train.runner import resolve_hparams
from graphbench.transforms.apply import clear_memo, prepare
from graphbench.transforms.base import pe_width
from graphbench.transforms.batch import Collator
from graphbench.transforms.config import run_steps

DEFAULT_MODELS = ["gin", "swl", "pswl", "gswl", "gnn-sswl", "gnn-sswl-plus", "sun-like", "gnn-ak-like", "kl-gnn",
                  "spen"]


def molecule_like(n: int, rng: np.random.Generator) -> nx.Graph:
    g = nx.random_labeled_tree(n, seed=int(rng.integers(1 << 30))) if hasattr(nx, "random_labeled_tree") \
        else nx.random_tree(n, seed=int(rng.integers(1 << 30)))
    for _ in range(int(np.ceil(n / 10))):
        a, b = rng.choice(n, 2, replace=False)
        g.add_edge(int(a), int(b))
    return g


def directed(g: nx.Graph) -> tuple[torch.Tensor, torch.Tensor]:
    e = torch.tensor(list(g.edges()), dtype=torch.int64).view(-1, 2)
    return torch.cat([e[:, 0], e[:, 1]]), torch.cat([e[:, 1], e[:, 0]])


def saved_bytes(fn) -> tuple[torch.Tensor, int]:
    """Run ``fn`` and count the bytes of distinct storages autograd saves for backward."""
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor):
        try:
            s = t.untyped_storage()
            seen[s.data_ptr()] = max(seen.get(s.data_ptr(), 0), s.nbytes())
        except RuntimeError:
            pass
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = fn()
    return out, sum(seen.values())


def fit_exponent(ns, ys) -> float:
    return float(np.polyfit(np.log(ns), np.log(ys), 1)[0])


def graph_dataset(n: int, count: int, rng: np.random.Generator) -> GraphDataset:
    """``count`` molecule-like graphs of ``n`` nodes as a graph-regression dataset (constant node feature)."""
    graphs = []
    for _ in range(count):
        g = dgl.graph(directed(molecule_like(n, rng)), num_nodes=n)
        g.ndata["feat"] = torch.ones(n, 1)
        graphs.append(g)
    idx = np.arange(count)  # the split is never used (no training loop); the dataset type requires one
    return GraphDataset(f"molecule-like-{n}", graphs, torch.zeros(count, 1), "graph", "regression", "mae",
                        [Split("unused", idx[:-2], idx[-2:-1], idx[-1:])], num_classes=1)


def model_hparams(name: str, args: argparse.Namespace) -> tuple[dict, dict]:
    given = {"hidden": args.hidden, "layers": args.layers, "batch_size": args.batch,
             "lifted_budget_gb": args.budget_gb}
    declared = MODELS.get(name).meta.get("hparams", {})
    return resolve_hparams(name, {k: v for k, v in given.items() if k in declared or k == "batch_size"})


def measure_model(name: str, ds: GraphDataset, args: argparse.Namespace) -> dict:
    """Prep time, training-step time and memory of one registered model on the graphs of ``ds`` (one batch)."""
    model_hp, train_hp = model_hparams(name, args)
    check = getattr(MODELS.get(name).obj, "check_inputs", None)
    if callable(check):
        try:
            check(ds, {**model_hp, **train_hp})
        except LiftedGraphTooLarge as exc:
            return {"skipped": str(exc).split(". largest batch")[0]}
    steps = run_steps(name, model_hp, train_hp)
    clear_memo()  # time the build itself (models whose transform coincides, e.g. swl and gswl, would share it)
    t0 = time.perf_counter()
    prepared = prepare(ds, steps, use_cache=False, workers=1) if steps else ds
    prep_ms = (time.perf_counter() - t0) / len(ds.graphs) * 1e3 if steps else 0.0
    torch.manual_seed(args.seed)
    model = build_model(name, prepared.node_features, prepared.num_classes, task_level="graph",
                        edge_dim=prepared.edge_features, pe_dim=pe_width(steps), **model_hp)
    collator = Collator.for_outputs(getattr(prepared, "outputs", {}), getattr(model, "extras", {}),
                                    prepared.graphs[0])
    extras = getattr(prepared, "extras", None) if collator.extras else None
    batch = collator.batch(prepared.graphs, extras)
    y = prepared.labels
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def step() -> None:
        opt.zero_grad()
        torch.nn.functional.l1_loss(model(batch), y).backward()
        opt.step()

    step()  # warm-up (lazy allocations, first-call dispatch)
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    _, saved = saved_bytes(lambda: model(batch))
    inputs = sum(t.numel() * t.element_size() for t in _tensors(batch.extras))
    guard = None
    if hasattr(MODELS.get(name).obj, "aggregations"):
        est = estimate_lifted_size([(g.num_nodes(), g.num_edges()) for g in ds.graphs],
                                   aggregations=MODELS.get(name).obj.aggregations(), hidden=model_hp["hidden"],
                                   layers=model_hp["layers"], batch_size=len(ds.graphs), segment_globals=True)
        guard = est.bytes
    return {"prep_ms": prep_ms, "step_s": statistics.median(times), "mem": saved + inputs, "guard": guard,
            "params": count_parameters(model)}


def _tensors(obj):
    """Every tensor inside a batch's extras (tensors, DGL graphs' node/edge data and structure)."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from _tensors(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from _tensors(v)
    elif isinstance(obj, dgl.DGLGraph):
        yield from obj.edges()
        yield from (obj.ndata[k] for k in obj.ndata)
        yield from (obj.edata[k] for k in obj.edata)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 23, 40, 80])
    ap.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="registered model names (gin first)")
    ap.add_argument("--batch", type=int, default=8, help="graphs per batch")
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--budget-gb", type=float, default=2.0, help="memory guard budget (lifted_budget_gb)")
    ap.add_argument("--epoch-graphs", type=int, default=10_000, help="graphs per epoch for 'epoch s' (ZINC-12k)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for m in args.models:
        MODELS.get(m)
    base = args.models[0]
    print(f"batch {args.batch} graphs, hidden {args.hidden}, {args.layers} layers (where the model has them), "
          f"threads {args.threads}, times = median of {args.repeats}, guard budget {args.budget_gb} GiB; "
          f"ratios are to {base} in the same run")
    print(f"{'n':>4} {'model':<14} {'params':>7} {'prep ms/g':>9} {'step s':>8} {'epoch s':>8} {'t ratio':>8} "
          f"{'MiB':>9} {'m ratio':>8} {'guard MiB':>9}")
    rng = np.random.default_rng(args.seed)
    results: dict[str, list[tuple[int, dict]]] = {m: [] for m in args.models}
    for n in args.sizes:
        ds = graph_dataset(n, args.batch, rng)
        ref = None
        for m in args.models:
            r = measure_model(m, ds, args)
            if "skipped" in r:
                print(f"{n:>4} {m:<14} skipped: {r['skipped']}")
                continue
            ref = ref or r
            results[m].append((n, r))
            epoch = r["step_s"] * args.epoch_graphs / args.batch
            guard = f"{r['guard'] / 2**20:>9.1f}" if r["guard"] else f"{'-':>9}"
            print(f"{n:>4} {m:<14} {r['params']:>7} {r['prep_ms']:>9.2f} {r['step_s']:>8.3f} {epoch:>8.0f} "
                  f"{r['step_s'] / ref['step_s']:>8.1f} {r['mem'] / 2**20:>9.1f} {r['mem'] / ref['mem']:>8.1f} "
                  f"{guard}", flush=True)
    print("fitted exponents α (cost ∝ n^α) over the sizes each model ran:")
    for m, rows in results.items():
        if len(rows) >= 2:
            ns = [n for n, _ in rows]
            fits = {"step time": fit_exponent(ns, [r["step_s"] for _, r in rows]),
                    "memory": fit_exponent(ns, [r["mem"] for _, r in rows])}
            if any(r["prep_ms"] for _, r in rows):
                fits["prep"] = fit_exponent(ns, [max(r["prep_ms"], 1e-6) for _, r in rows])
            print(f"  {m:<14} " + ", ".join(f"{k} {v:.2f}" for k, v in fits.items()) + f"  (n = {ns})")


if __name__ == "__main__":
    main()
