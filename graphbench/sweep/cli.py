"""``graphbench sweep``: hyperparameter sweeps with Optuna (see :mod:`graphbench.sweep`).

    graphbench sweep sweeps/quick.yaml [--workers N] [--storage URL] [--quiet]
    graphbench sweep --dry-run sweeps/quick.yaml

The integrator wires :func:`register` into ``graphbench.cli``; ``python -m graphbench.sweep.cli`` works on its own
(and is how ``--workers`` starts its worker processes).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from graphbench.env import ISA_CHOICES

HELP = "run a hyperparameter sweep file (search, then final re-runs on every seed/fold)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="sweep file, e.g. sweeps/quick.yaml")
    p.add_argument("--dry-run", action="store_true", help="print the plan (studies, trials, runs, time) and exit")
    p.add_argument("--workers", type=int, default=1, help="worker processes on this machine (default 1)")
    p.add_argument("--storage", default=None,
                   help="default: the journal file results/<sweep>.journal; or PATH.journal, sqlite:///PATH "
                        "(one worker), postgresql://user@host/db (many machines)")
    p.add_argument("--quiet", action="store_true", help="no live display; one line per finished trial (for logs)")
    p.add_argument("--threads", type=int, default=None, help="torch threads per worker (default cores // workers)")
    p.add_argument("--heartbeat", type=int, default=60, help="RDB storage: heartbeat interval, seconds")
    p.add_argument("--grace", type=int, default=None,
                   help="RDB storage: a trial without heartbeat for this long is failed and retried (3 × heartbeat)")
    p.add_argument("--stale-after", type=float, default=None,
                   help="journal storage: fail a RUNNING trial of another host after this many seconds")
    p.add_argument("--data-root", default=None,
                   help="folder holding the datasets' files (overrides the sweep file's data_root)")
    p.add_argument("--isa", choices=ISA_CHOICES, default=None, type=str.lower,
                   help="pin the instruction set of torch's, MKL's and oneDNN's CPU kernels (overrides the file's "
                        "isa; default: avx2 when the file says deterministic: true, else native, the CPU's best); "
                        "workers inherit the pin")
    p.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)


def handle(args: argparse.Namespace) -> int:
    from graphbench.config import ConfigError, requested_isa
    from graphbench.env import IsaPinError, isa_level, pin_isa

    try:  # first: torch, MKL and oneDNN read the pin when torch is imported
        file_isa, deterministic = requested_isa(args.file)
        level = isa_level(args.isa or file_isa, deterministic)
        if level != "native":
            pin_isa(level, strict=True)
    except (ConfigError, IsaPinError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    from graphbench.sweep.launch import Options, plan, run_sweep, run_worker
    from graphbench.sweep.runner import SweepError
    from graphbench.sweep.storage import StorageError

    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 2
    opts = Options(workers=args.workers, storage=args.storage, quiet=args.quiet, stale_after=args.stale_after,
                   heartbeat=args.heartbeat, grace=args.grace, threads=args.threads,
                   data_root=args.data_root, isa=args.isa)
    try:
        if args.dry_run:
            return plan(args.file, storage=args.storage, workers=args.workers, data_root=args.data_root)
        if args.worker is not None:
            return run_worker(args.file, args.worker, opts)
        return run_sweep(args.file, opts)
    except (ConfigError, StorageError, SweepError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``sweep`` subcommand to ``graphbench``'s parser; ``args.func(args)`` returns the exit code."""
    p = subparsers.add_parser("sweep", help=HELP, description=HELP)
    add_arguments(p)
    p.set_defaults(func=handle)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="graphbench sweep", description=HELP)
    add_arguments(parser)
    return handle(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
