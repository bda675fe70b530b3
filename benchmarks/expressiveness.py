"""Cost of the expressiveness protocol, quick vs trained mode, side by side in one run.

    python benchmarks/expressiveness.py [--dataset sr25] [--max-pairs 10] [--models gcn gin gat sage]
                                        [--data-root DIR] [--threads 1]

Prints, per model and mode, seconds per pair, the ratio to the fastest line, the pairs told apart and the peak
resident memory of the process so far; ratios are what to compare on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import time

import psutil
import torch

from graphbench.expressiveness import ProtocolConfig, evaluate, load_pairs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="wl-pairs")
    p.add_argument("--max-pairs", type=int, default=None)
    p.add_argument("--models", nargs="+", default=["gcn", "gin", "gat", "sage"])
    p.add_argument("--modes", nargs="+", default=["quick", "trained"])
    p.add_argument("--data-root", default=None)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    pairs = load_pairs(args.dataset, args.data_root, max_pairs=args.max_pairs)
    lines = []
    for mode in args.modes:
        for model in args.models:
            t0 = time.perf_counter()
            res = evaluate(model, pairs, config=ProtocolConfig(mode=mode))
            seconds = (time.perf_counter() - t0) / len(pairs)
            told = sum(r.distinguished for r in res.pairs)
            fails = sum(not r.reliable for r in res.pairs)
            rss = psutil.Process().memory_info().rss / 2**20
            lines.append((model, mode, seconds, told, fails, res.num_params, rss))
    fastest = min(line[2] for line in lines)
    print(f"{args.dataset}: {len(pairs)} pairs, q = 32 relabellings, p = 16, {args.threads} thread(s)")
    print(f"{'model':<8} {'mode':<8} {'s/pair':>8} {'x fastest':>9} {'told apart':>10} {'rel. fails':>10} "
          f"{'params':>8} {'RSS MiB':>8}")
    for model, mode, seconds, told, fails, params, rss in lines:
        print(f"{model:<8} {mode:<8} {seconds:>8.3f} {seconds / fastest:>9.1f} {told:>6}/{len(pairs):<3} "
              f"{fails:>10} {params:>8} {rss:>8.0f}")


if __name__ == "__main__":
    main()
