"""The ``graphbench report`` subcommand: ``register(subparsers)`` for graphbench's CLI, ``main`` for standalone use.

    graphbench report RESULTS.csv... --out reports/NAME/ [--baseline gin --model mymodel] [--alpha 0.05]
                      [--storage sweeps/journal.log] [--stage final] [--configs split|refuse] [--no-figures]
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+", help="results CSV files (schema v1 or v2)")
    p.add_argument("--out", required=True, help="output folder, e.g. reports/NAME/")
    p.add_argument("--baseline", help="compare mode: the reference model (with --model)")
    p.add_argument("--model", help="compare mode: the model to test against --baseline")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level (default 0.05)")
    p.add_argument("--storage", help="Optuna storage URL or journal file: adds sweep history and importances")
    p.add_argument("--stage", default="final", choices=("final", "run", "search"),
                   help="rows to count (default final; falls back to run when there are no final rows)")
    p.add_argument("--configs", default="split", choices=("split", "refuse"),
                   help="several configurations of one model: report each as model@hash (split) or refuse")
    p.add_argument("--no-figures", action="store_true", help="skip the figures (faster)")
    p.add_argument("--title", default="graphbench report")


def run(args: argparse.Namespace) -> int:
    from graphbench.report.aggregate import ReportError
    from graphbench.report.build import build_report

    if (args.baseline is None) != (args.model is None):
        print("error: compare mode needs both --baseline and --model", file=sys.stderr)
        return 2
    try:
        res = build_report(args.results, args.out, baseline=args.baseline, model=args.model, alpha=args.alpha,
                           storage=args.storage, stage=args.stage, configs=args.configs,
                           figures=not args.no_figures, title=args.title)
    except (ReportError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for note in res.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"report written: {res.html}")
    print(f"  markdown: {res.markdown}")
    print(f"  latex:    {res.latex}")
    return 0


def register(subparsers) -> argparse.ArgumentParser:
    """Add the ``report`` subcommand to an argparse subparsers object; its ``func`` returns an exit code."""
    p = subparsers.add_parser("report", help="turn results files into a leaderboard report",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    p.set_defaults(func=run)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="graphbench")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] != ["report"]:
        argv.insert(0, "report")  # `python -m graphbench.report.cli RESULTS... --out DIR` works too
    args = parser.parse_args(argv)
    return args.func(args)


handle = run  # the name graphbench.cli's command table calls


if __name__ == "__main__":
    raise SystemExit(main())
