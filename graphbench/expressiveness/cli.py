"""The ``graphbench expressiveness`` subcommand (``register(subparsers)`` for graphbench's CLI).

    graphbench expressiveness --model gin [gcn ...] --dataset brec [exp sr25 csl wl-pairs]
        [--mode quick|trained] [--seeds 0 1 ...] [--max-pairs N] [--hidden 64 --layers 4 --pe rwse --set k=v]
        [--permutations 32 --output-dim 16 --alpha 0.05 --statistic brec|hotelling]
        [--epochs 20 --lr 1e-4 --weight-decay 1e-4 --batch-size 16 --loss-threshold 0.2]
        [--results results/results.csv | --no-results] [--pairs] [--data-root DIR] [--device cpu]

Prints, per model and dataset, the pairs told apart per category (and, with ``--pairs``, every pair's T²), then
the table of models × categories; appends one row per model × dataset × category × seed to the results CSV.
"""

from __future__ import annotations

import argparse
import sys

# model hyperparameters with their own flags (anything else: --set key=value)
_HP_FLAGS = {"hidden": int, "layers": int, "norm": str, "readout": str, "pe": str, "pe_dim": int}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", nargs="+", required=True, help="registered model name(s)")
    p.add_argument("--dataset", nargs="+", required=True,
                   help="pair dataset(s): exp, sr25, csl, wl-pairs, brec (any dataset that declares pairs)")
    p.add_argument("--mode", choices=("quick", "trained"), default="quick",
                   help="quick: untrained model in float64 (default); trained: BREC's siamese training per pair")
    p.add_argument("--seeds", nargs="+", type=int, default=[0], help="seeds (default 0); BREC reports 10")
    p.add_argument("--max-pairs", type=int, default=None, help="test only the first N pairs of each category")
    for name, typ in _HP_FLAGS.items():
        p.add_argument(f"--{name.replace('_', '-')}", dest=name, type=typ, default=None)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any other model hyperparameter, e.g. --set heads=8 (repeatable)")
    g = p.add_argument_group("protocol (defaults: BREC's)")
    g.add_argument("--permutations", type=int, default=None, help="relabellings per graph, q (32)")
    g.add_argument("--output-dim", type=int, default=None, help="embedding dimension, p (16)")
    g.add_argument("--alpha", type=float, default=None, help="level of the T² test (0.05 → 72.34 for q=32, p=16)")
    g.add_argument("--statistic", choices=("brec", "hotelling"), default=None,
                   help="brec: d̄ᵀS⁺d̄ as BREC's code (default); hotelling: the textbook q·d̄ᵀS⁺d̄")
    g.add_argument("--eps-rel", type=float, default=None,
                   help="covariance regulariser relative to the embedding scale (1e-8 float64, 1e-6 float32)")
    g.add_argument("--dtype", choices=("float32", "float64"), default=None,
                   help="precision (default float64 for quick, float32 for trained)")
    g.add_argument("--epochs", type=int, default=None, help="trained: max epochs per pair (20)")
    g.add_argument("--lr", type=float, default=None, help="trained: Adam learning rate (1e-4)")
    g.add_argument("--weight-decay", type=float, default=None, help="trained: Adam weight decay (1e-4)")
    g.add_argument("--batch-size", type=int, default=None, help="trained: graphs per batch, even (16)")
    g.add_argument("--loss-threshold", type=float, default=None, help="trained: stop below this loss (0.2)")
    p.add_argument("--results", default=None, help="results CSV to append to (default results/results.csv)")
    p.add_argument("--no-results", action="store_true", help="print only, write no rows")
    p.add_argument("--pairs", action="store_true", help="print every pair's statistics")
    p.add_argument("--data-root", default=None, help="data root (default $GRAPHBENCH_DATA_ROOT or ./datasets)")
    p.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or auto (default cpu)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm.auto import tqdm

    from graphbench.commands.run import _device
    from graphbench.commands.run import parse_set as _parse_set
    from graphbench.expressiveness.protocol import ProtocolConfig, config_with
    from graphbench.expressiveness.runner import run as run_protocol
    from graphbench.report.expressiveness import expressiveness_table
    from graphbench.report.tables import to_markdown
    from graphbench.results import rows_frame

    if args.threads:
        torch.set_num_threads(args.threads)
    hparams = {k: getattr(args, k) for k in _HP_FLAGS if getattr(args, k) is not None}
    hparams.update(_parse_set(args.set))
    config = config_with(ProtocolConfig(mode=args.mode), permutations=args.permutations, output_dim=args.output_dim,
                         alpha=args.alpha, statistic=args.statistic, eps_rel=args.eps_rel, dtype=args.dtype,
                         epochs=args.epochs, lr=args.lr, weight_decay=args.weight_decay,
                         batch_size=args.batch_size, loss_threshold=args.loss_threshold)
    results = None
    if not args.no_results:
        from graphbench import api

        results = args.results or api.DEFAULT_RESULTS
    bar = None

    def on_start(model, pairs, seed) -> None:
        nonlocal bar
        if bar is not None:
            bar.close()
        bar = tqdm(total=len(pairs), desc=f"{model} on {pairs.dataset} seed {seed}", unit="pair",
                   disable=args.quiet, file=sys.stderr)

    def on_pair(r) -> None:
        if args.pairs:
            d = r.decision
            tqdm.write(f"  [{r.category}] {r.name}: T² = {d.t2:.4g}, reliability T² = {d.t2_reliability:.4g} → "
                       f"{'distinguished' if d.distinguished else 'not distinguished'}"
                       f"{'' if d.reliable else ' (RELIABILITY CHECK FAILED)'}")
        if bar is not None:
            bar.update(1)

    def on_result(result, rows) -> None:
        if bar is not None:
            bar.close()
        head = rows[0]
        lines = [f"\n{head['model']} on {head['dataset']} (seed {head['seed']}, {config.mode}, "
                 f"T² threshold {config.threshold:.2f}):"]
        if result is None:
            failed = [r for r in rows if r["status"] == "failed"]
            lines.append(f"  failed from category {failed[0]['expr_category']} on: {failed[0]['error']}")
        else:
            lines.append(f"  {'category':<22} {'pairs':>6} {'distinguished':>14} {'reliability fails':>18} "
                         f"{'time (s)':>9}")
            for c in result.counts():
                lines.append(f"  {c.category:<22} {c.pairs:>6} {c.distinguished:>14} {c.reliability_failures:>18} "
                             f"{c.time_s:>9.2f}")
            if len(result.counts()) > 1:
                cs = result.counts()
                lines.append(f"  {'total':<22} {sum(c.pairs for c in cs):>6} {sum(c.distinguished for c in cs):>14} "
                             f"{sum(c.reliability_failures for c in cs):>18} {sum(c.time_s for c in cs):>9.2f}")
        tqdm.write("\n".join(lines), file=sys.stdout)

    def on_skip(model, pairs, seed, categories) -> None:
        tqdm.write(f"{model} on {pairs.dataset} seed {seed}: {len(categories)} categor"
                   f"{'y' if len(categories) == 1 else 'ies'} already in {results}, skipped: {', '.join(categories)}",
                   file=sys.stderr)

    try:
        rows = run_protocol(args.model, args.dataset, hparams=hparams, config=config, seeds=args.seeds,
                            data_root=args.data_root, max_pairs=args.max_pairs, device=_device(args.device),
                            results=results, on_result=on_result, on_start=on_start, on_pair=on_pair,
                            on_skip=on_skip)
    except KeyboardInterrupt:
        if bar is not None:
            bar.close()
        print(f"\ninterrupted: every finished category is in {results}; the same command resumes without "
              "repeating them", file=sys.stderr)
        return 130
    table = expressiveness_table(rows_frame(rows, source=str(results or ""))) if rows else None
    if table is not None:
        print(f"\n{table.title}\n\n{to_markdown(table)}")
    failed = sum(r["status"] != "ok" for r in rows)
    if results is not None:
        print(f"\n{len(rows)} row(s) appended to {results}" + (f" ({failed} failed)" if failed else ""))
    return 0


handle = run  # the entry point graphbench.cli's COMMANDS table calls


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``expressiveness`` subcommand to graphbench's argparse subparsers."""
    p = subparsers.add_parser("expressiveness", help="which pairs of non-isomorphic graphs can a model tell apart "
                              "(BREC's protocol)", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)
    return p
