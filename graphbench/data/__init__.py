"""Datasets: the interface, split protocols and loaders. ``load_dataset(name)`` is the entry point."""

from __future__ import annotations

import os
from pathlib import Path

from graphbench.data.base import DatasetCard, FeatureSpec, GraphDataset, Split

# Importing a loader module registers it.
from graphbench.data.synthetic import csl as _csl  # noqa: F401, E402
from graphbench.data.synthetic import sets as _sets  # noqa: F401, E402
from graphbench.registry import DATASETS

DATA_ROOT_ENV = "GRAPHBENCH_DATA_ROOT"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: the argument, else ``$GRAPHBENCH_DATA_ROOT``, else ``./datasets``."""
    return Path(root or os.environ.get(DATA_ROOT_ENV) or "datasets")


def load_dataset(name: str, root: str | os.PathLike | None = None, **options) -> GraphDataset:
    """Load (or generate) the dataset registered as ``name``; ``options`` go to its loader (e.g. ``seed``)."""
    entry = DATASETS.get(name)
    return entry.obj(data_root(root), **options)


def dataset_card(name: str) -> DatasetCard:
    return DATASETS.get(name).meta["card"]


__all__ = ["DATASETS", "DatasetCard", "FeatureSpec", "GraphDataset", "Split", "data_root", "dataset_card",
           "load_dataset"]
