"""``graphbench reproduce MODEL --preset NAME --dataset D``."""

from __future__ import annotations

import argparse

DESCRIPTION = ("Re-run a paper's table row at its full protocol: its splits or cross-validation, its selection "
               "(the paper's grid searched inside every outer fold where it selected per fold; the preset point "
               "where it fixed one), its full schedule and its number of repetitions — through the sweep runner "
               "(resumable: the same command continues a stopped run). At the end it prints and records ours "
               "against the paper's number, the gap, whether it lies within the combined std, the protocol "
               "differences, the command, the commit, the machine and the wall and CPU time.")
EPILOG = ("examples:\n"
          "  graphbench reproduce gin --preset errica2020 --dataset enzymes --dry-run\n"
          "  graphbench reproduce gin --preset errica2020 --dataset enzymes --workers 2 --data-root DIR\n"
          "  graphbench reproduce gin --preset errica2020 --dataset enzymes --trials 16   # part of the grid\n"
          "  graphbench reproduce gcn --preset kipf2017 --dataset cora --seeds 10\n"
          "  graphbench reproduce gcn --preset nguyen2023-borf-texas --dataset texas --splits 20   # 20 of 100 splits\n"
          "  graphbench reproduce gcn --preset nguyen2023-borf-cora --dataset cora --record-only   # a stopped run")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="registered model name (`graphbench list models`)")
    p.add_argument("--preset", required=True, help="the paper preset (`graphbench info MODEL` lists them)")
    p.add_argument("--dataset", required=True, help="a dataset the paper reports (`graphbench published MODEL`)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--data-root", default=None, metavar="DIR", help="where the datasets' files are")
    p.add_argument("--out", default="results/reproduce", metavar="DIR",
                   help="folder of the generated sweep file, its results, journal and record (default %(default)s)")
    p.add_argument("--ledger", default="results/reproductions.csv", metavar="CSV",
                   help="the ledger the record is added to (default %(default)s; 'none' for no ledger)")
    p.add_argument("--trials", type=int, default=None,
                   help="configurations searched per study (default: the paper's whole grid); fewer samples part "
                        "of it with TPE and is recorded as a protocol difference")
    p.add_argument("--seeds", type=int, default=None,
                   help="repetitions per split (default: the paper's); fewer is recorded as a protocol difference")
    p.add_argument("--splits", type=int, default=None,
                   help="run only the first N outer folds or random splits (default: all the paper's); fewer is "
                        "recorded as a protocol difference, and the same command without it completes the run")
    p.add_argument("--pruner", default="none", choices=("none", "median", "hyperband"),
                   help="prune search runs (default none, as the papers; recorded as a protocol difference)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per worker")
    p.add_argument("--quiet", action="store_true", help="no live display")
    p.add_argument("--dry-run", action="store_true",
                   help="print the plan and a time estimate from one measured epoch; trains nothing else")
    p.add_argument("--record-plan", action="store_true",
                   help="as --dry-run, and add the plan to the ledger as 'not yet reproduced' with its measured "
                        "cost (for reproductions too long for this machine)")
    p.add_argument("--record-only", action="store_true",
                   help="train nothing: record a stopped run from the final runs it has finished (status "
                        "'partial' until all are done), with the CPU time its invocations used; the same command "
                        "without it goes on with the run")


def handle(args: argparse.Namespace) -> int:
    from graphbench.reproduce.run import reproduce

    if args.workers < 1:
        raise ValueError("--workers must be at least 1")
    if args.record_only and (args.dry_run or args.record_plan):
        raise ValueError("--record-only records a run that has started; --dry-run and --record-plan plan one that "
                         "has not: give one of them")
    return reproduce(args.model, args.preset, args.dataset, workers=args.workers, data_root=args.data_root,
                     out_dir=args.out, ledger=None if args.ledger == "none" else args.ledger, trials=args.trials,
                     seeds=args.seeds, splits=args.splits, pruner=args.pruner, dry_run=args.dry_run, quiet=args.quiet,
                     threads=args.threads, record_plan=args.record_plan, record_only=args.record_only)
