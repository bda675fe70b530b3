"""Cost of a node-based subgraph GNN (GNN-SSWL+) vs a plain GIN stack on random ZINC-sized graphs, and its growth
with the number of nodes n.

Graphs: random molecule-like graphs (a random tree on n nodes plus ⌈n/10⌉ extra edges closing rings, mean
degree ≈ 2.2 as ZINC). Per n it prints

- product-graph build time per graph (distance policy, max_dist 5, the typed edges of {uL, vL, vv}) and its size
  (pair-nodes, typed edges per graph);
- forward+backward time per batch (median of ``--repeats``) of GNN-SSWL+ (``graphbench.subgraph``) and of the
  registered GIN (``graphbench.models.gin``) at the same hidden width, depth and batch;
- memory: bytes of the tensors autograd saves for backward (counted once per storage through
  ``torch.autograd.graph.saved_tensors_hooks``; deterministic, the bulk of training memory) plus the product
  graph's index tensors, next to the memory guard's estimate (``graphbench.subgraph.guard``);

and fits ``cost ∝ n^α`` by least squares in log-log space (α for build time, time and memory of each model).

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/subgraph_cost.py --sizes 10 20 30 40 60 --batch 16
"""

from __future__ import annotations

import argparse
import statistics
import time

import dgl
import networkx as nx
import numpy as np
import torch

from graphbench.models.gin import GIN
from graphbench.subgraph.guard import estimate_lifted_size
from graphbench.subgraph.layers import SubgraphGNN
from graphbench.subgraph.product import batch_product_graphs, build_product_graph

AGGS = ("uL", "vL", "vv")


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


def fwd_bwd_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn().sum().backward()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def fit_exponent(ns, ys) -> float:
    return float(np.polyfit(np.log(ns), np.log(ys), 1)[0])


def measure(n: int, args: argparse.Namespace, rng: np.random.Generator) -> tuple:
    """One row of the table for graphs of ``n`` nodes (module docstring)."""
    graphs = [molecule_like(n, rng) for _ in range(args.batch)]
    edges = [directed(g) for g in graphs]
    t0 = time.perf_counter()
    products = [build_product_graph(n, s, d, policy="distance", max_dist=5, aggregations=AGGS)
                for s, d in edges]
    build_ms = (time.perf_counter() - t0) / len(graphs) * 1e3
    batch = batch_product_graphs(products)
    typed = sum(sum(p.num_typed_edges().values()) for p in products) / len(products)
    index_bytes = sum(8 * e.numel() for e in batch.edges.values()) + sum(8 * e.numel()
                                                                         for e in batch.edge_ids.values())
    x = torch.ones(batch.num_nodes, 1)
    sswl = SubgraphGNN(1, 1, hidden=args.hidden, layers=args.layers, config="gnn_sswl_plus", num_labels=6)
    dg = dgl.batch([dgl.graph(e, num_nodes=n) for e in edges])
    gin = GIN(1, 1, hidden=args.hidden, layers=args.layers)
    t_sswl = fwd_bwd_time(lambda: sswl(x, batch), args.repeats)
    t_gin = fwd_bwd_time(lambda: gin(dg, x), args.repeats)
    _, m_sswl = saved_bytes(lambda: sswl(x, batch))
    _, m_gin = saved_bytes(lambda: gin(dg, x))
    m_sswl += index_bytes
    est = estimate_lifted_size([(n, len(s)) for s, _ in edges], aggregations=AGGS, hidden=args.hidden,
                               layers=args.layers, batch_size=args.batch)
    print(f"{n:>4} {build_ms:>10.2f} {batch.num_pairs / len(graphs):>8.0f} {typed:>10.0f} {t_sswl:>8.3f} "
          f"{t_gin:>7.3f} {t_sswl / t_gin:>8.1f} {m_sswl / 2**20:>9.1f} {m_gin / 2**20:>8.2f} "
          f"{m_sswl / m_gin:>8.1f} {est.bytes / 2**20:>9.1f}")
    return n, build_ms, t_sswl, t_gin, m_sswl, m_gin, batch.num_pairs / len(graphs), typed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 20, 30, 40, 60])
    ap.add_argument("--batch", type=int, default=16, help="graphs per batch")
    ap.add_argument("--hidden", type=int, default=96)
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    rows = []
    print(f"batch {args.batch} graphs, hidden {args.hidden}, {args.layers} layers, threads {args.threads}, "
          f"aggregations {AGGS} (GNN-SSWL+), times = median of {args.repeats}")
    header = (f"{'n':>4} {'build ms/g':>10} {'pairs/g':>8} {'typed e/g':>10} {'SSWL+ s':>8} {'GIN s':>7} "
              f"{'t ratio':>8} {'SSWL+ MiB':>9} {'GIN MiB':>8} {'m ratio':>8} {'guard MiB':>9}")
    print(header)
    for n in args.sizes:
        rows.append(measure(n, args, rng))
    if len(rows) >= 2:
        ns = [r[0] for r in rows]
        names = ("build", "SSWL+ time", "GIN time", "SSWL+ memory", "GIN memory", "pairs", "typed edges")
        cols = (1, 2, 3, 4, 5, 6, 7)
        fits = ", ".join(f"{name} {fit_exponent(ns, [r[c] for r in rows]):.2f}" for name, c in zip(names, cols))
        print(f"fitted exponents α (cost ∝ n^α): {fits}")

if __name__ == "__main__":
    main()
