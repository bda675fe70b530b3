"""Datasets: the interface, split protocols and loaders. ``load_dataset(name)`` is the entry point."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

# Importing a loader module registers it.
from graphbench.data import brec as _brec  # noqa: F401, E402
from graphbench.data import heterophilous as _het  # noqa: F401, E402
from graphbench.data import lrgb as _lrgb  # noqa: F401, E402
from graphbench.data import ogb_mol as _ogb_mol  # noqa: F401, E402
from graphbench.data import planetoid as _planetoid  # noqa: F401, E402
from graphbench.data import tu as _tu  # noqa: F401, E402
from graphbench.data import zinc as _zinc  # noqa: F401, E402
from graphbench.data.base import DatasetCard, FeatureSpec, GraphDataset, Split
from graphbench.data.synthetic import counting as _counting  # noqa: F401, E402
from graphbench.data.synthetic import csl as _csl  # noqa: F401, E402
from graphbench.data.synthetic import expressiveness as _expressiveness  # noqa: F401, E402
from graphbench.data.synthetic import long_range as _long_range  # noqa: F401, E402
from graphbench.data.synthetic import motifs as _motifs  # noqa: F401, E402
from graphbench.data.synthetic import sets as _sets  # noqa: F401, E402
from graphbench.registry import DATASETS

DATA_ROOT_ENV = "GRAPHBENCH_DATA_ROOT"


def data_root(root: str | os.PathLike | None = None) -> Path:
    """The data root: the argument, else ``$GRAPHBENCH_DATA_ROOT``, else ``./datasets``."""
    return Path(root or os.environ.get(DATA_ROOT_ENV) or "datasets")


def load_dataset(name: str, root: str | os.PathLike | None = None, **options) -> GraphDataset:
    """Load (or generate) the dataset registered as ``name``; ``options`` go to its loader (e.g. ``seed``).

    One option is understood for every dataset: ``random_splits: N`` (with ``train_fraction`` and
    ``val_fraction``, default 0.6 / 0.2) replaces the dataset's splits by N seeded random splits over its examples
    (nodes of a node-level dataset, graphs of a graph-level one; :func:`graphbench.data.splits.random_splits`),
    the protocol of papers that average over repeated random splits.
    """
    entry = DATASETS.get(name)
    count = options.pop("random_splits", None)
    fractions = {k: options.pop(k) for k in ("train_fraction", "val_fraction") if k in options}
    if fractions and count is None:
        raise ValueError(f"{name}: {', '.join(fractions)} only apply with random_splits: N (the number of random "
                         "splits to draw)")
    ds = entry.obj(data_root(root), **options)
    if count is not None:
        from graphbench.data.splits import random_splits

        splits = random_splits(len(ds.labels), int(count), train_fraction=fractions.get("train_fraction", 0.6),
                               val_fraction=fractions.get("val_fraction", 0.2), seed=int(options.get("seed", 0)))
        source = (f"random: {int(count)} seeded random splits ({splits[0].name}..{splits[-1].name}), "
                  f"train/val fractions {fractions.get('train_fraction', 0.6)}/{fractions.get('val_fraction', 0.2)}")
        ds = dataclasses.replace(ds, splits=splits, meta={**ds.meta, "random_splits": int(count), **fractions,
                                                          "split_source": source})
    return ds


def dataset_card(name: str) -> DatasetCard:
    return DATASETS.get(name).meta["card"]


__all__ = ["DATASETS", "DatasetCard", "FeatureSpec", "GraphDataset", "Split", "data_root", "dataset_card",
           "load_dataset"]
