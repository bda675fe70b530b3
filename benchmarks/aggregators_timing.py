"""Time of one forward + backward of an aggregator alone vs neighbourhood size d, side by side in one run.

``--nodes`` destination nodes, each with exactly ``d`` in-neighbours (one degree bucket), messages of width
``--dim``; the loss is the sum of the output. Reported: median over ``--repeats`` timed calls (after one warm-up)
in milliseconds, the ratio GRU / LCM, and LCM's number of sequential operator calls (its tree depth).

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/aggregators_timing.py
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import dgl
import torch

from graphbench.nn.aggregators import make_aggregator


def neighbourhoods(nodes: int, d: int) -> dgl.DGLGraph:
    src = torch.arange(nodes, nodes + nodes * d)
    return dgl.graph((src, torch.arange(nodes).repeat_interleave(d)), num_nodes=nodes + nodes * d)


def time_fwd_bwd(agg, graph, x, repeats: int) -> float:
    times = []
    for i in range(repeats + 1):
        x.grad = None
        t = time.perf_counter()
        agg(graph, x).sum().backward()
        if i:  # the first call is a warm-up
            times.append(time.perf_counter() - t)
    return 1e3 * statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--degrees", nargs="+", type=int, default=[8, 64, 512, 4096])
    p.add_argument("--aggregators", nargs="+", default=["sum", "gru", "lcm"])
    p.add_argument("--nodes", type=int, default=16)
    p.add_argument("--dim", type=int, default=32)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    aggs = {name: make_aggregator(name, args.dim).train() for name in args.aggregators}
    lcm_calls: list[int] = []
    if "lcm" in aggs:
        aggs["lcm"].operator.register_forward_hook(lambda *_: lcm_calls.append(1))

    print(f"forward+backward of the aggregator alone: {args.nodes} nodes × d neighbours, dim {args.dim}, "
          f"median of {args.repeats}, {args.threads} thread(s); milliseconds")
    header = f"{'d':>6}" + "".join(f"{n + ' ms':>12}" for n in args.aggregators)
    if {"gru", "lcm"} <= set(aggs):
        header += f"{'GRU/LCM':>9}{'LCM depth':>11}{'⌈log2 d⌉':>10}"
    print(header)
    for d in args.degrees:
        graph = neighbourhoods(args.nodes, d)
        x = torch.randn(graph.num_nodes(), args.dim, requires_grad=True)
        ms = {}
        for name, agg in aggs.items():
            lcm_calls.clear()
            ms[name] = time_fwd_bwd(agg, graph, x, args.repeats)
        line = f"{d:>6}" + "".join(f"{ms[n]:>12.2f}" for n in args.aggregators)
        if {"gru", "lcm"} <= set(aggs):
            depth = len(lcm_calls) // (args.repeats + 1)
            line += f"{ms['gru'] / ms['lcm']:>9.1f}{depth:>11}{math.ceil(math.log2(d)):>10}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
