"""The ``graphbench`` command line: a table of subcommands, each in its own module, imported only when used.

To add a subcommand, add one line to :data:`COMMANDS` and write its module (see :mod:`graphbench.commands` for
what a module defines). Modules are imported lazily: ``graphbench --help`` imports none of them, ``graphbench NAME
--help`` imports only NAME's, and heavy libraries (torch, DGL, Optuna, pandas) are imported inside ``handle``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from graphbench import __version__

#: name -> (module, one-line help for `graphbench --help`). Keep the order users meet the commands in.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("graphbench.commands.listing", "list the registered models or datasets"),
    "info": ("graphbench.commands.info", "describe a model or a dataset (--load: load it and print its counts)"),
    "run": ("graphbench.commands.run", "train models on datasets; appends one results row per run"),
    "sweep": ("graphbench.sweep.cli", "run a sweep file: hyperparameter search, then final runs on every fold/seed"),
    "report": ("graphbench.report.cli", "turn results files into a leaderboard report (HTML, Markdown, LaTeX)"),
    "published": ("graphbench.commands.published", "list published results (paper values) of models on datasets"),
    "reproduce": ("graphbench.commands.reproduce", "re-run a paper's table row at its full protocol and record "
                  "ours against the paper's number"),
    "expressiveness": ("graphbench.expressiveness.cli", "which pairs of non-isomorphic graphs a model tells apart "
                       "(BREC's protocol; EXP, SR25, CSL, wl-pairs, BREC)"),
}

DESCRIPTION = "graphbench: reproducible GNN benchmarks with standard splits, sweeps and leaderboards."
EPILOG = """quick start:
  graphbench list datasets
  graphbench run --model gin --dataset csl --seeds 0 1 --epochs 20
  graphbench sweep sweeps/quick.yaml
  graphbench report results/quick.csv --out reports/quick/

`graphbench COMMAND --help` explains each command."""


def _command_of(argv: Sequence[str]) -> str | None:
    """The subcommand named on the command line (the first word that is one), if any."""
    for word in argv:
        if word in COMMANDS:
            return word
        if not word.startswith("-"):
            return None
    return None


def build_parser(command: str | None = "*") -> argparse.ArgumentParser:
    """The full parser. ``command`` limits which subcommand modules are imported: ``"*"`` all of them (tests,
    documentation), a name only that one, ``None`` none (``graphbench --help``)."""
    parser = argparse.ArgumentParser(prog="graphbench", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"graphbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", title="commands")
    for name, (module_name, text) in COMMANDS.items():
        if command not in ("*", name):
            sub.add_parser(name, help=text)
            continue
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=text, description=getattr(module, "DESCRIPTION", text),
                           epilog=getattr(module, "EPILOG", None), formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(p)
        p.set_defaults(func=module.handle)
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that are the user's to fix: printed as one line, exit status 2 (no traceback)."""
    from graphbench.config import ConfigError
    from graphbench.env import IsaPinError
    from graphbench.hparams import HyperparameterError
    from graphbench.registry import UnknownNameError
    from graphbench.results.schema import SchemaError

    return UnknownNameError, HyperparameterError, ConfigError, SchemaError, FileNotFoundError, ValueError, IsaPinError


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command_of(argv)).parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:  # the reader went away (`graphbench published | head`): stop quietly
        # Python's advice (docs: signal, "Note on SIGPIPE"): point stdout at devnull so that the interpreter's
        # final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            print(f"graphbench: error: {exc}", file=sys.stderr)
            return 2
        raise
