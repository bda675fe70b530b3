"""``graphbench published [MODEL] [DATASET]``."""

from __future__ import annotations

import argparse

DESCRIPTION = ("List the published results graphbench compares against (the paper's value, std, number of runs, "
               "protocol, source and how sure the number is), for a model, a dataset or both.")
EPILOG = "examples:\n  graphbench published gcn cora\n  graphbench published gin\n  graphbench published mutag"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="model name (or a dataset name alone)")
    p.add_argument("dataset", nargs="?", help="dataset name")
    p.add_argument("--ledger", default=None, metavar="CSV",
                   help="also read this reproduction ledger (e.g. results/reproductions.csv, written by "
                        "`graphbench reproduce`); its rows take precedence over the project's shipped ledger")


def handle(args: argparse.Namespace) -> int:
    """A single name may be a model or a dataset."""
    from graphbench.published import format_published, published, published_datasets
    from graphbench.registry import MODELS

    model, dataset = args.model, args.dataset
    if model is not None and dataset is None and model not in MODELS and model.lower() in published_datasets():
        model, dataset = None, model
    from graphbench.reproduce.ledger import read_ledger, reproduced_lookup

    reproduced = reproduced_lookup(read_ledger())
    if args.ledger:
        reproduced.update(reproduced_lookup(read_ledger(args.ledger)))
    print(format_published(published(model, dataset), reproduced))
    return 0
