"""PathNN path sets (docs/models/pathnn.md §1) on ZINC-sized graphs: path counts and enumeration time per cutoff K,
side by side with networkx in one run.

ZINC itself is not in the shared data, so ``--graphs`` (default 12 000, ZINC-12k's size) molecule-like graphs are
generated: a random tree of 9–37 nodes (mean ≈ 23, ZINC's 23.2) with degree ≤ 3, plus ring closures between
nodes 4–5 edges apart (5- and 6-rings) until the graph has about ZINC's 24.9 undirected edges, degrees ≤ 4.

Measured, for K in ``--cutoffs`` and each kind (SP, SP+, AP):
* ``many``  — :func:`graphbench.paths.enumerate_many` over all graphs (disjoint unions of ≤ 50k nodes);
* ``single`` — :func:`graphbench.paths.graph_paths` one graph at a time, on ``--subset`` graphs, extrapolated;
* ``networkx`` — ``nx.all_simple_paths`` / ``nx.all_shortest_paths`` (+ one SP per pair) per graph, on
  ``--subset`` graphs, extrapolated to all graphs (the columns say "extrapolated").
* ``--transform``: the ``paths`` transform through the transform cache (what a run does): ``cold`` = the first
  :func:`graphbench.transforms.apply.prepare` (per-graph enumeration in one process + writing the entry), ``cached`` =
  the same call in a fresh state (in-process memo cleared), which reads the entry from disk; and the entry's size.
Counts are the mean number of paths per graph (all lengths 1 … K−1) and the largest graph's total.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/paths_enumeration.py [--graphs 12000] [--subset 300]
    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/paths_enumeration.py --transform --graphs 2000
"""

from __future__ import annotations

import argparse
import time

import dgl
import networkx as nx
import numpy as np
import torch

from graphbench.paths import enumerate_many, graph_paths


def molecule_like(rng: np.random.Generator) -> nx.Graph:
    n = int(np.clip(rng.normal(23.2, 4.5), 9, 37))
    g = nx.Graph()
    g.add_node(0)
    for v in range(1, n):  # random tree, degree ≤ 3
        choices = [u for u in g.nodes if g.degree[u] < 3]
        g.add_edge(v, int(rng.choice(choices)))
    target = round(n * 24.9 / 23.2)
    tries = 0
    while g.number_of_edges() < target and tries < 200:
        tries += 1
        u = int(rng.integers(n))
        if g.degree[u] >= 4:
            continue
        dist = nx.single_source_shortest_path_length(g, u, cutoff=5)
        cand = [v for v, d in dist.items() if d in (4, 5) and g.degree[v] < 4]
        if cand:
            g.add_edge(u, int(rng.choice(cand)))
    return g


def to_dgl(g: nx.Graph) -> dgl.DGLGraph:
    e = np.array(list(g.edges()), dtype=np.int64)
    src = torch.from_numpy(np.concatenate([e[:, 0], e[:, 1]]))
    dst = torch.from_numpy(np.concatenate([e[:, 1], e[:, 0]]))
    return dgl.graph((src, dst), num_nodes=g.number_of_nodes())


def networkx_paths(g: nx.Graph, kind: str, cutoff: int) -> int:
    """The same path sets with networkx (start-first lists), returning their number."""
    total = 0
    if kind == "ap":
        for s in g.nodes:
            for t in g.nodes:
                if s != t:
                    total += sum(1 for _ in nx.all_simple_paths(g, s, t, cutoff=cutoff - 1))
        return total
    lengths = dict(nx.all_pairs_shortest_path_length(g, cutoff=cutoff - 1))
    for s in g.nodes:
        for t, d in lengths[s].items():
            if d == 0 or t < s:
                continue
            paths = sorted(nx.all_shortest_paths(g, s, t))
            total += 2 * (len(paths) if kind == "sp+" else 1)
    return total


def transform_cache(graphs: list[dgl.DGLGraph], kinds: list[str], cutoffs: list[int]) -> None:
    """Cold vs cached ``prepare`` of the ``paths`` transform (one worker process, a fresh cache folder)."""
    import shutil
    import tempfile
    from pathlib import Path

    from graphbench.data.base import GraphDataset, Split
    from graphbench.transforms.apply import clear_memo, prepare
    from graphbench.transforms.base import resolve_step

    n = len(graphs)
    idx = np.arange(n)
    ds = GraphDataset("zinc-like", graphs, torch.zeros(n, dtype=torch.long), "graph", "multiclass", "accuracy",
                      [Split("fixed", idx[2:], idx[:1], idx[1:2])], num_classes=2)
    root = Path(tempfile.mkdtemp(prefix="paths-cache-"))
    print(f"\nthe paths transform through the cache ({n} graphs, 1 worker): cold = enumerate + write, cached = read")
    print(f"{'kind':5} {'K':>2} {'cold s':>8} {'cached s':>9} {'cold/cached':>11} {'entry MB':>9} {'paths/graph':>11}")
    try:
        for kind in kinds:
            for k in cutoffs:
                step = resolve_step({"name": "paths", "kind": kind, "cutoff": k})
                clear_memo()
                t = time.perf_counter()
                out = prepare(ds, [step], root=root, workers=1, progress=False)
                cold = time.perf_counter() - t
                clear_memo()
                t = time.perf_counter()
                prepare(ds, [step], root=root, workers=1, progress=False)
                cached = time.perf_counter() - t
                entries = list(root.rglob("data.npz"))
                size = sum(f.stat().st_size for f in entries) / 2 ** 20
                for f in entries:  # one entry at a time on disk
                    shutil.rmtree(f.parent)
                mean = np.mean([e["path_nodes"].shape[0] for e in out.extras])
                print(f"{kind:5} {k:>2} {cold:>8.2f} {cached:>9.2f} {cold / cached:>11.1f} {size:>9.1f} {mean:>11.1f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--graphs", type=int, default=12000)
    p.add_argument("--subset", type=int, default=300, help="graphs timed one by one / with networkx")
    p.add_argument("--cutoffs", type=int, nargs="+", default=[3, 4, 5, 6])
    p.add_argument("--kinds", nargs="+", default=["sp", "sp+", "ap"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--transform", action="store_true", help="time the paths transform cold vs cached instead")
    a = p.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(a.seed)
    t = time.perf_counter()
    nxg = [molecule_like(rng) for _ in range(a.graphs)]
    graphs = [to_dgl(g) for g in nxg]
    nodes = np.array([g.num_nodes() for g in graphs])
    edges = np.array([g.num_edges() for g in graphs]) / 2
    print(f"{a.graphs} generated graphs in {time.perf_counter() - t:.1f} s: {nodes.mean():.1f} nodes, "
          f"{edges.mean():.1f} undirected edges on average (ZINC-12k: 23.2, 24.9); max degree "
          f"{max(max(d for _, d in g.degree) for g in nxg)}")
    if a.transform:
        transform_cache(graphs, a.kinds, a.cutoffs)
        return
    sub = slice(0, min(a.subset, a.graphs))
    scale = a.graphs / len(nxg[sub])
    print(f"{'kind':5} {'K':>2} {'paths/graph':>11} {'max':>6} {'per length (mean)':<34} {'many s':>8} "
          f"{'single s*':>9} {'networkx s*':>11} {'nx/many':>8}")
    for kind in a.kinds:
        for k in a.cutoffs:
            t = time.perf_counter()
            sets = enumerate_many(graphs, kind, k)
            t_many = time.perf_counter() - t
            t = time.perf_counter()
            for g in graphs[sub]:
                graph_paths(g, kind, k)
            t_single = (time.perf_counter() - t) * scale
            t = time.perf_counter()
            nx_counts = [networkx_paths(g, kind, k) for g in nxg[sub]]
            t_nx = (time.perf_counter() - t) * scale
            totals = np.array([s.total() for s in sets])
            assert nx_counts == totals[sub].tolist(), "networkx and graphbench disagree on the path counts"
            per_len = " ".join(f"{np.mean([s.counts()[ell] for s in sets]):.0f}" for ell in range(1, k))
            print(f"{kind:5} {k:>2} {totals.mean():>11.1f} {totals.max():>6} {per_len:<34} {t_many:>8.2f} "
                  f"{t_single:>9.1f} {t_nx:>11.1f} {t_nx / t_many:>8.0f}")
    print(f"* extrapolated from the first {len(nxg[sub])} graphs to all {a.graphs}")


if __name__ == "__main__":
    main()
