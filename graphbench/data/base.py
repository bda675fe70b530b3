"""The dataset interface every loader returns: DGL graphs, labels, task, metric and splits.

Graph-level datasets hold one DGL graph per example and one label row per graph. Node-level datasets hold a single
graph; the "examples" are its nodes, and splits index nodes. Either way ``labels[i]`` is the target of example
``i`` and every :class:`Split` holds disjoint index arrays into ``range(num_examples)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import dgl
import numpy as np
import torch

from graphbench.metrics import Metric, get_metric

TaskLevel = Literal["graph", "node"]
TaskKind = Literal["multiclass", "binary", "multilabel", "regression"]
TASK_LEVELS: tuple[str, ...] = ("graph", "node")
TASK_KINDS: tuple[str, ...] = ("multiclass", "binary", "multilabel", "regression")


@dataclass(frozen=True)
class FeatureSpec:
    """How the raw node (or edge) features look, so an encoder can embed them.

    ``kind="dense"``: float tensor ``[n, dim]``; ``kind="categorical"``: long tensor ``[n, len(cardinalities)]``,
    column ``j`` in ``range(cardinalities[j])`` (OGB's atom/bond features, ZINC atom types); ``kind="none"``:
    no features, models use a constant input.
    """

    kind: Literal["dense", "categorical", "none"] = "none"
    dim: int = 0
    cardinalities: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "dense" and self.dim <= 0:
            raise ValueError("a dense FeatureSpec needs dim > 0")
        if self.kind == "categorical" and not self.cardinalities:
            raise ValueError("a categorical FeatureSpec needs its cardinalities")

    @classmethod
    def infer(cls, feat: torch.Tensor | None) -> FeatureSpec:
        """Spec of a feature tensor: float → dense, integer → categorical (cardinality = max + 1 per column)."""
        if feat is None:
            return cls("none")
        if feat.dtype.is_floating_point:
            return cls("dense", dim=feat.reshape(feat.shape[0], -1).shape[1])
        cols = feat.reshape(feat.shape[0], -1)
        return cls("categorical", cardinalities=tuple(int(c.max()) + 1 if len(c) else 1 for c in cols.T))


@dataclass(frozen=True)
class Split:
    """One train/validation/test partition of the examples; ``name`` is e.g. ``"fold3"`` or ``"public"``."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def __post_init__(self) -> None:
        for part in ("train", "val", "test"):
            object.__setattr__(self, part, np.asarray(getattr(self, part), dtype=np.int64))

    def check(self, num_examples: int) -> None:
        """Raise ``ValueError`` unless the three parts are non-empty, in range and pairwise disjoint."""
        parts = {"train": self.train, "val": self.val, "test": self.test}
        for part, idx in parts.items():
            if len(idx) == 0:
                raise ValueError(f"split {self.name!r}: the {part} part is empty")
            if idx.min() < 0 or idx.max() >= num_examples:
                raise ValueError(f"split {self.name!r}: {part} indices outside 0..{num_examples - 1}")
            if len(np.unique(idx)) != len(idx):
                raise ValueError(f"split {self.name!r}: {part} has repeated indices")
        for a, b in (("train", "val"), ("train", "test"), ("val", "test")):
            if np.intersect1d(parts[a], parts[b]).size:
                raise ValueError(f"split {self.name!r}: {a} and {b} overlap")


@dataclass(frozen=True)
class DatasetCard:
    """What ``graphbench info NAME`` prints: provenance, task and protocol, known counts."""

    name: str
    description: str
    task_level: TaskLevel
    task_kind: TaskKind
    metric: str
    protocol: str
    source: str = ""
    citation: str = ""
    size: str = ""
    needs_files: bool = False

    @property
    def direction(self) -> str:
        return get_metric(self.metric).direction


@dataclass
class GraphDataset:
    """A loaded dataset. See the module docstring for the graph-level / node-level conventions.

    Attributes:
        name: registry name.
        graphs: one DGLGraph per example (graph level) or a single graph (node level). Node features, when any,
            are in ``ndata["feat"]``, edge features in ``edata["feat"]``.
        labels: ``[num_examples]`` long class ids (multiclass), or ``[num_examples, num_tasks]`` float
            (binary / multilabel with NaN for missing labels, regression).
        task_level, task_kind, metric: what is predicted and how it is scored.
        splits: one fixed split, or k folds (each with its own inner validation part).
        num_classes: classes (multiclass) or tasks (binary / multilabel / regression): the model's output width.
        card: provenance and protocol text.
        meta: loader-specific facts (e.g. molecules that could not be parsed).
        node_spec, edge_spec: the feature specs over the whole dataset, when the loader knows them (categorical
            cardinalities of OGB atom features, degree ranges); otherwise inferred from the first graph.
    """

    name: str
    graphs: list[dgl.DGLGraph]
    labels: torch.Tensor
    task_level: TaskLevel
    task_kind: TaskKind
    metric: str
    splits: list[Split]
    num_classes: int
    card: DatasetCard | None = None
    meta: dict = field(default_factory=dict)
    node_spec: FeatureSpec | None = None
    edge_spec: FeatureSpec | None = None

    def __post_init__(self) -> None:
        if self.task_level not in TASK_LEVELS:
            raise ValueError(f"task_level must be one of {TASK_LEVELS}, got {self.task_level!r}")
        if self.task_kind not in TASK_KINDS:
            raise ValueError(f"task_kind must be one of {TASK_KINDS}, got {self.task_kind!r}")
        get_metric(self.metric)
        if self.task_level == "node" and len(self.graphs) != 1:
            raise ValueError("a node-level dataset holds exactly one graph")
        if len(self.labels) != self.num_examples:
            raise ValueError(f"{len(self.labels)} labels for {self.num_examples} examples")
        for split in self.splits:
            split.check(self.num_examples)

    @property
    def num_examples(self) -> int:
        return self.graphs[0].num_nodes() if self.task_level == "node" else len(self.graphs)

    @property
    def metric_fn(self) -> Metric:
        return get_metric(self.metric)

    @property
    def node_features(self) -> FeatureSpec:
        if self.node_spec is not None:
            return self.node_spec
        return FeatureSpec.infer(self.graphs[0].ndata.get("feat"))

    @property
    def edge_features(self) -> FeatureSpec:
        if self.edge_spec is not None:
            return self.edge_spec
        return FeatureSpec.infer(self.graphs[0].edata.get("feat"))

    def split(self, name_or_index: str | int) -> Split:
        """The split of that name (``"fold2"``) or position (``2``)."""
        if isinstance(name_or_index, int):
            return self.splits[name_or_index]
        for s in self.splits:
            if s.name == name_or_index:
                return s
        raise KeyError(f"{self.name} has no split {name_or_index!r}; splits: {[s.name for s in self.splits]}")

    def summary(self) -> dict:
        """Counts for ``graphbench info``: examples, nodes, edges, feature specs, splits."""
        nodes = [g.num_nodes() for g in self.graphs]
        edges = [g.num_edges() for g in self.graphs]
        return {
            "examples": self.num_examples,
            "graphs": len(self.graphs),
            "avg_nodes": float(np.mean(nodes)),
            "avg_edges": float(np.mean(edges)),
            "node_features": self.node_features,
            "edge_features": self.edge_features,
            "outputs": self.num_classes,
            "splits": [f"{s.name}: {len(s.train)}/{len(s.val)}/{len(s.test)}" for s in self.splits],
        }
