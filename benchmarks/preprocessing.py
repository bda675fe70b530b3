"""Pre-processing time of the encodings on a ZINC-sized dataset: cold (1 and 2 worker processes) vs cached.

    python benchmarks/preprocessing.py [--graphs 12000] [--transforms rwse lappe spd] [--pubmed] [--data-root DIR]

The dataset is ZINC (12k graphs, ~23 nodes) when it loads from the data root, else a generated stand-in of the
same size: random molecule-like graphs (a random tree of 18–28 nodes plus 0–3 ring-closing edges). For each
transform (and the three chained): ``cold`` computes and writes the cache entry in a fresh cache folder with 1 and
with 2 worker processes; ``cached`` reads it back in the same process after the in-process memo is cleared (what
a second run, a second sweep worker or a resumed sweep does). ``--pubmed`` also times RWSE on PubMed's one graph
(19,717 nodes; sparse column blocks, never n × n). Compare ratios; the machine is shared.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import dgl
import numpy as np
import torch

from graphbench.data.base import GraphDataset, Split
from graphbench.transforms import resolve_chain
from graphbench.transforms.apply import clear_memo, prepare


def zinc_like(num_graphs: int, seed: int = 0) -> GraphDataset:
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(num_graphs):
        n = int(rng.integers(18, 29))
        parent = [int(rng.integers(0, i)) for i in range(1, n)]
        src, dst = list(range(1, n)), parent
        for _ in range(int(rng.integers(0, 4))):
            a, b = rng.integers(0, n, 2)
            if a != b:
                src.append(int(a))
                dst.append(int(b))
        s, d = torch.tensor(src + dst), torch.tensor(dst + src)
        g = dgl.graph((s, d), num_nodes=n)
        g.ndata["feat"] = torch.from_numpy(rng.integers(0, 28, (n, 1)))
        graphs.append(g)
    idx = np.arange(num_graphs)
    return GraphDataset("zinc-like", graphs, torch.zeros(num_graphs, 1), "graph", "regression", "mae",
                        [Split("fixed", idx[: int(0.8 * num_graphs)], idx[int(0.8 * num_graphs): int(0.9 * num_graphs)],
                               idx[int(0.9 * num_graphs):])], num_classes=1)


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--graphs", type=int, default=12000)
    p.add_argument("--transforms", nargs="+", default=["rwse", "lappe", "spd"])
    p.add_argument("--workers", nargs="+", type=int, default=[1, 2])
    p.add_argument("--pubmed", action="store_true")
    p.add_argument("--data-root", default=None)
    args = p.parse_args()
    torch.set_num_threads(1)
    ds = None
    if args.graphs == 12000:
        try:
            from graphbench.data import load_dataset

            ds = load_dataset("zinc", args.data_root)
        except Exception as exc:  # absent files: the generated stand-in
            print(f"(ZINC not loadable: {type(exc).__name__}; using a generated stand-in)")
    if ds is None:
        ds = zinc_like(args.graphs)
    nodes = np.mean([g.num_nodes() for g in ds.graphs])
    print(f"{ds.name}: {len(ds.graphs)} graphs, {nodes:.1f} nodes on average")
    chains = [[t] for t in args.transforms] + ([list(args.transforms)] if len(args.transforms) > 1 else [])
    header = " ".join(f"{f'cold {w}w s':>11}" for w in args.workers)
    print(f"{'chain':<18} {header} {'cached s':>9} {'ms/graph (1w)':>13} "
          + " ".join(f"{f'1w/{w}w':>7}" for w in args.workers[1:]) + f" {'cold/cached':>11}")
    for chain in chains:
        steps = resolve_chain(chain)
        cold = {}
        for w in args.workers:
            with tempfile.TemporaryDirectory() as root:
                clear_memo()
                cold[w] = timed(lambda root=root, w=w, steps=steps: prepare(ds, steps, root=root, workers=w,
                                                                                 progress=False))
                if w == args.workers[0]:
                    clear_memo()
                    cached = timed(lambda root=root, steps=steps: prepare(ds, steps, root=root, progress=False))
        first = cold[args.workers[0]]
        print(f"{'+'.join(chain):<18} " + " ".join(f"{cold[w]:>11.2f}" for w in args.workers)
              + f" {cached:>9.2f} {1000 * first / len(ds.graphs):>13.3f} "
              + " ".join(f"{first / cold[w]:>7.2f}" for w in args.workers[1:]) + f" {first / cached:>11.1f}",
              flush=True)
    if args.pubmed:
        from graphbench.data import load_dataset
        from graphbench.transforms.pe import random_walk_se

        g = load_dataset("pubmed", args.data_root).graphs[0]
        for steps in (8, 16):
            t = timed(lambda steps=steps: random_walk_se(g, steps))
            print(f"pubmed RWSE ({g.num_nodes()} nodes, {g.num_edges()} edges, {steps} steps, sparse blocks): "
                  f"{t:.1f} s")


if __name__ == "__main__":
    main()
