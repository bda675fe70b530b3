"""``graphbench published [MODEL] [DATASET]``."""

from __future__ import annotations

import argparse

DESCRIPTION = ("List the published results graphbench compares against (the paper's value, std, number of runs, "
               "protocol, source and how sure the number is), for a model, a dataset or both.")
EPILOG = "examples:\n  graphbench published gcn cora\n  graphbench published gin\n  graphbench published mutag"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", nargs="?", help="model name (or a dataset name alone)")
    p.add_argument("dataset", nargs="?", help="dataset name")


def handle(args: argparse.Namespace) -> int:
    """A single name may be a model or a dataset."""
    from graphbench.published import format_published, published, published_datasets
    from graphbench.registry import MODELS

    model, dataset = args.model, args.dataset
    if model is not None and dataset is None and model not in MODELS and model.lower() in published_datasets():
        model, dataset = None, model
    print(format_published(published(model, dataset)))
    return 0
