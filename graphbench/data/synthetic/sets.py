"""Aggregation-sensitive set tasks on star graphs, with a size-extrapolation split (LCM paper;
``docs/models/aggregators.md`` §4).

Each example is a star: a centre (node 0) and ``d`` leaves, with edges leaf → centre only, so the centre's
in-neighbourhood is exactly the leaf multiset and one aggregation at the centre (or a readout over the nodes)
sees the whole set. Node features ``ndata["feat"]`` are ``[value, is_centre]`` floats (the centre's value is 0).
The graph-level regression target is a function of the leaf values:

- ``set-second-min``: the second-smallest leaf value (ties counted: ``sorted(values)[1]``). Each star draws the
  gap ``g ~ U(0, 1/2)`` between its two smallest leaves, the minimum ``m ~ U(0, 1 − g)``, puts one leaf at ``m`` and
  one at ``m + g``, and draws the other ``d − 2`` leaves uniformly from ``[m + g, 1]``. The answer a min
  aggregator gives for free (the minimum) is then wrong by ``g`` — 0.25 on average — at *every* set size, so a
  model that learned "about the minimum" fails instead of scoring well by accident.
- ``set-top2-sum``: the sum of the two largest leaf values, drawn the mirror way (the largest ``M``, the second
  ``M − g``, the rest uniform in ``[0, M − g]``): twice the maximum is wrong by ``g``.
- ``set-distinct-count``: the number of distinct leaf values. Each star draws an alphabet of ``K ∈ {1..16}``
  distinct values from the sparse range ``{0..63}`` and its leaves uniformly from that alphabet. The answer needs
  set-union (idempotent) semantics; with a sparse alphabet neither the largest value (``max + 1``) nor the sum or
  the count of the leaves stands in for it.

These generators replace the first reconstruction (version 1: leaves uniform in a random range; an alphabet
``{0..K−1}``), on which the trivial answers were nearly right at the test sizes (the minimum was within 0.005 of
the second minimum for ``d`` = 32–128, and ``max + 1`` equalled the distinct count in 95 % of the test stars), so
those tasks could not separate an aggregator that computes the target from one that does not.

Split ``extrapolation``: train and validation stars have ``d`` uniform in ``train_degrees`` (default 2..16), the
test stars ``d`` uniform in ``test_degrees`` (default 32..128). Validation is therefore *in-distribution* (model
selection does not peek at large sets) and test measures size extrapolation. ``meta["degrees"]`` holds every
example's ``d``. Metric: MAE. Generated deterministically from ``seed``.

This is a reconstruction: the paper's exact generators are not available (``docs/models/aggregators.md`` §4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import dgl
import numpy as np
import torch

from graphbench.data.base import DatasetCard, GraphDataset, Split
from graphbench.registry import DATASETS

MAX_ALPHABET = 16
#: The alphabet of ``set-distinct-count`` is drawn from ``{0..ALPHABET_RANGE−1}`` (sparse: ``max + 1`` is no count).
ALPHABET_RANGE = 64
#: Version of the generators (1: the first reconstruction; 2: the gap and sparse-alphabet draws above).
GENERATOR_VERSION = 2


def _gap_low_values(rng: np.random.Generator, d: int) -> np.ndarray:
    """``d`` values whose two smallest are ``m`` and ``m + g`` with ``g ~ U(0, 1/2)``; the rest above ``m + g``."""
    g = 0.5 * rng.random()
    m = (1.0 - g) * rng.random()
    rest = m + g + (1.0 - m - g) * rng.random(d - 2)
    return rng.permutation(np.concatenate([[m, m + g], rest]))


def _gap_high_values(rng: np.random.Generator, d: int) -> np.ndarray:
    """The mirror of :func:`_gap_low_values`: the two largest are ``M − g`` and ``M``; the rest below."""
    return 1.0 - _gap_low_values(rng, d)


def _sparse_alphabet_values(rng: np.random.Generator, d: int) -> np.ndarray:
    """``d`` leaves drawn uniformly from ``K ∈ {1..16}`` distinct values of ``{0..63}``."""
    alphabet = rng.choice(ALPHABET_RANGE, size=int(rng.integers(1, MAX_ALPHABET + 1)), replace=False)
    return rng.choice(alphabet, size=d).astype(np.float64)


def second_min(values: np.ndarray) -> float:
    return float(np.partition(values, 1)[1])


def top2_sum(values: np.ndarray) -> float:
    return float(np.partition(values, len(values) - 2)[-2:].sum())


def distinct_count(values: np.ndarray) -> float:
    return float(len(np.unique(values)))


@dataclass(frozen=True)
class SetTask:
    name: str
    description: str
    values: Callable[[np.random.Generator, int], np.ndarray]
    target: Callable[[np.ndarray], float]
    min_degree: int


SET_TASKS: dict[str, SetTask] = {t.name: t for t in (
    SetTask("set-second-min", "second-smallest leaf value of a star (gap to the minimum ~ U(0, 1/2))",
            _gap_low_values, second_min, 2),
    SetTask("set-top2-sum", "sum of the two largest leaf values of a star (gap between them ~ U(0, 1/2))",
            _gap_high_values, top2_sum, 2),
    SetTask("set-distinct-count", f"number of distinct integer leaf values (1..{MAX_ALPHABET} values of "
            f"{{0..{ALPHABET_RANGE - 1}}} per star)", _sparse_alphabet_values, distinct_count, 1),
)}


def star_graph(values: np.ndarray) -> dgl.DGLGraph:
    """Centre 0 and leaves ``1..d`` with edges leaf → centre; ``feat = [value, is_centre]``."""
    d = len(values)
    g = dgl.graph((torch.arange(1, d + 1), torch.zeros(d, dtype=torch.int64)), num_nodes=d + 1)
    feat = torch.zeros(d + 1, 2)
    feat[1:, 0] = torch.from_numpy(values).float()
    feat[0, 1] = 1.0
    g.ndata["feat"] = feat
    return g


def set_card(task: SetTask, train_degrees: tuple[int, int], test_degrees: tuple[int, int], size: str
             ) -> DatasetCard:
    return DatasetCard(
        name=task.name, description=task.description, task_level="graph", task_kind="regression", metric="mae",
        protocol=f"size extrapolation: train/val d in {train_degrees}, test d in {test_degrees} (inclusive); "
                 "validation in-distribution",
        source="generated by code (graphbench.data.synthetic.sets)",
        citation="Ong, Veličković. Learnable Commutative Monoids for Graph Neural Networks. LoG 2022.",
        size=size,
    )


def make_set_dataset(task: SetTask, *, seed: int = 0, num_train: int = 1000, num_val: int = 200,
                     num_test: int = 400, train_degrees: tuple[int, int] = (2, 16),
                     test_degrees: tuple[int, int] = (32, 128)) -> GraphDataset:
    """Generate ``task`` (see module docstring); degree ranges are inclusive."""
    for name, (lo, hi) in (("train_degrees", train_degrees), ("test_degrees", test_degrees)):
        if not task.min_degree <= lo <= hi:
            raise ValueError(f"{task.name}: {name} must satisfy {task.min_degree} <= low <= high, got {(lo, hi)}")
    rng = np.random.default_rng(seed)
    counts = {"train": num_train, "val": num_val, "test": num_test}
    graphs, labels, degrees, parts = [], [], [], {}
    for part, count in counts.items():
        lo, hi = test_degrees if part == "test" else train_degrees
        start = len(graphs)
        for d in rng.integers(lo, hi + 1, size=count):
            values = task.values(rng, int(d))
            graphs.append(star_graph(values))
            labels.append(task.target(values))
            degrees.append(int(d))
        parts[part] = np.arange(start, len(graphs))
    card = set_card(task, train_degrees, test_degrees, f"{num_train}/{num_val}/{num_test} star graphs")
    y = torch.tensor(labels, dtype=torch.float32).unsqueeze(-1)
    split = Split("extrapolation", parts["train"], parts["val"], parts["test"])
    return GraphDataset(task.name, graphs, y, "graph", "regression", "mae", [split], num_classes=1, card=card,
                        meta={"degrees": np.asarray(degrees), "generator_version": GENERATOR_VERSION})


def _register(task: SetTask) -> None:
    def load(root: Path | None = None, **options) -> GraphDataset:
        return make_set_dataset(task, **options)

    load.__doc__ = f"Generate {task.name} ({task.description}); options as for make_set_dataset."
    DATASETS.add(task.name, load, card=set_card(task, (2, 16), (32, 128), "1000/200/400 star graphs by default"))


for _task in SET_TASKS.values():
    _register(_task)
