"""TU Dortmund graph classification sets with the protocol of Errica et al. (ICLR 2020).

Format (Morris et al., "TUDataset: A collection of benchmark datasets for learning with graphs", 2020): under
``root/tu/NAME/``: ``NAME_A.txt`` (one directed edge ``i, j`` per line, 1-based global node ids),
``NAME_graph_indicator.txt`` (graph id of each node, 1-based), ``NAME_graph_labels.txt``, optionally
``NAME_node_labels.txt``, ``NAME_node_attributes.txt``, ``NAME_edge_labels.txt``. Graphs keep TU order (the Errica
split files index it). Repeated edges (IMDB lists each twice) are removed.

Splits: Errica et al.'s 10 outer folds with their inner hold-out from ``root/tu-splits/NAME_splits.json``
(diningphil/gnn-comparison) when present; else 10 stratified folds with a 10 % stratified inner validation part
generated with a fixed seed, and ``meta["split_source"]`` says which.

Features, as Errica et al.: chemical/bio sets use the one-hot node label (ENZYMES also its 18 attributes); the
social sets (IMDB-*, COLLAB, REDDIT-*) use the one-hot node degree, stored as a categorical column (the degree,
clipped at ``max_degree``): an embedding of it equals a one-hot times a linear layer, without an ``n × max_degree``
dense tensor (REDDIT-BINARY's max degree is above 3000).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import dgl
import numpy as np
import pandas as pd
import torch

from graphbench.data import cache
from graphbench.data.base import DatasetCard, FeatureSpec, GraphDataset, Split
from graphbench.data.files import ensure_files
from graphbench.data.splits import stratified_kfold
from graphbench.registry import DATASETS

LOADER_VERSION = 1
TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets/{name}.zip"
ERRICA_URL = "https://raw.githubusercontent.com/diningphil/gnn-comparison/master/data_splits/{folder}/{name}_splits.json"
CITATION_TU = ("Morris, Kriege, Bause, Kersting, Mutzel, Neumann. TUDataset: A collection of benchmark datasets for "
               "learning with graphs. ICML 2020 GRL+ workshop.")
CITATION_ERRICA = ("Errica, Podda, Bacciu, Micheli. A Fair Comparison of Graph Neural Networks for Graph "
                   "Classification. ICLR 2020.")


@dataclass(frozen=True)
class TUInfo:
    name: str
    social: bool
    graphs: int
    classes: int
    stats: str
    attributes: bool = False


TU_SETS: tuple[TUInfo, ...] = (
    TUInfo("MUTAG", False, 188, 2, "188 graphs (125/63), 17.93 nodes, 19.79 edges on average"),
    TUInfo("PTC_MR", False, 344, 2, "344 graphs (192/152), 14.29 nodes, 14.69 edges on average"),
    TUInfo("PROTEINS", False, 1113, 2, "1113 graphs (663/450), 39.06 nodes, 72.82 edges on average"),
    TUInfo("NCI1", False, 4110, 2, "4110 graphs (2053/2057), 29.87 nodes, 32.30 edges on average"),
    TUInfo("ENZYMES", False, 600, 6, "600 graphs (6×100), 32.63 nodes, 62.14 edges on average", attributes=True),
    TUInfo("DD", False, 1178, 2, "1178 graphs (691/487), 284.32 nodes, 715.66 edges on average"),
    TUInfo("IMDB-BINARY", True, 1000, 2, "1000 graphs (500/500), 19.77 nodes, 96.53 edges on average"),
    TUInfo("IMDB-MULTI", True, 1500, 3, "1500 graphs (3×500), 13.00 nodes, 65.94 edges on average"),
    TUInfo("COLLAB", True, 5000, 3, "5000 graphs (2600/775/1625), 74.49 nodes, 2457.78 edges on average"),
    TUInfo("REDDIT-BINARY", True, 2000, 2, "2000 graphs (1000/1000), 429.63 nodes, 497.75 edges on average"),
)


def _card(info: TUInfo) -> DatasetCard:
    feats = ("one-hot node degree (categorical column)" if info.social else
             "one-hot node label" + (" + 18 continuous node attributes" if info.attributes else ""))
    return DatasetCard(
        name=info.name.lower(),
        description=f"TU graph classification: {info.name}, {info.classes} classes; node features: {feats}.",
        task_level="graph", task_kind="multiclass", metric="accuracy",
        protocol=("Errica et al. 2020: 10 outer folds (test), inner 90/10 hold-out for model selection; split file "
                  f"root/tu-splits/{info.name}_splits.json when present, else stratified 10-fold generated with the "
                  "given seed (sklearn StratifiedKFold; meta['split_source'] records which)"),
        source=(f"TU Dortmund collection ({TU_URL.format(name=info.name)}); files under "
                f"root/tu/{info.name}/{info.name}_{{A,graph_indicator,graph_labels,node_labels}}.txt; splits from "
                "diningphil/gnn-comparison"),
        citation=f"{CITATION_TU} {CITATION_ERRICA}",
        size=info.stats, needs_files=True)


def _read_ints(path: Path) -> np.ndarray:
    return pd.read_csv(path, header=None, sep=",", dtype=np.int64, skipinitialspace=True).to_numpy()


def read_tu(folder: Path, name: str) -> dict[str, np.ndarray | None]:
    """Raw TU arrays: 0-based ``edges [m, 2]`` (duplicates removed, first-occurrence order), ``graph_of_node``,
    ``graph_labels``, and ``node_labels`` / ``node_attributes`` / ``edge_labels`` or None."""
    def opt(suffix: str) -> Path | None:
        p = folder / f"{name}_{suffix}.txt"
        return p if p.exists() else None

    edges = _read_ints(folder / f"{name}_A.txt") - 1
    graph_of_node = _read_ints(folder / f"{name}_graph_indicator.txt")[:, 0] - 1
    graph_labels = _read_ints(folder / f"{name}_graph_labels.txt")[:, 0]
    node_labels = _read_ints(p)[:, 0] if (p := opt("node_labels")) is not None else None
    edge_labels = _read_ints(p)[:, 0] if (p := opt("edge_labels")) is not None else None
    node_attrs = (pd.read_csv(p, header=None, sep=",", dtype=np.float32).to_numpy()
                  if (p := opt("node_attributes")) is not None else None)
    # Remove repeated directed edges, keeping TU order of first occurrences.
    _, first = np.unique(edges, axis=0, return_index=True)
    keep = np.sort(first)
    if len(keep) != len(edges):
        edges = edges[keep]
        edge_labels = edge_labels[keep] if edge_labels is not None else None
    if np.any(np.diff(graph_of_node) < 0):
        raise ValueError(f"{name}: graph_indicator is not sorted; nodes of a graph must be contiguous")
    return {"edges": edges, "graph_of_node": graph_of_node, "graph_labels": graph_labels,
            "node_labels": node_labels, "node_attributes": node_attrs, "edge_labels": edge_labels}


def _one_hot(values: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(values, return_inverse=True)
    out = np.zeros((len(values), len(uniq)), dtype=np.float32)
    out[np.arange(len(values)), inv] = 1.0
    return out


def build_tu(info: TUInfo, folder: Path, *, max_degree: int | None) -> tuple[list[dgl.DGLGraph], np.ndarray, int]:
    """DGL graphs (features in ``ndata['feat']``), class ids 0..C-1, and the degree cardinality (social sets)."""
    raw = read_tu(folder, info.name)
    gon = raw["graph_of_node"]
    num_graphs = int(gon.max()) + 1
    node_off = np.searchsorted(gon, np.arange(num_graphs + 1))
    edges = raw["edges"]
    graph_of_edge = gon[edges[:, 0]]
    order = np.argsort(graph_of_edge, kind="stable")
    edges = edges[order]
    edge_off = np.searchsorted(graph_of_edge[order], np.arange(num_graphs + 1))
    edge_labels = raw["edge_labels"][order] if raw["edge_labels"] is not None else None

    degree_card = 0
    if info.social:
        deg = np.bincount(edges[:, 0], minlength=len(gon))  # both directions are listed: out-degree = degree
        if max_degree is not None:
            deg = np.minimum(deg, max_degree)
        degree_card = int(deg.max()) + 1
        feat = torch.from_numpy(deg.astype(np.int64)).unsqueeze(1)
    else:
        parts = []
        if raw["node_attributes"] is not None and info.attributes:
            parts.append(raw["node_attributes"])
        if raw["node_labels"] is not None:
            parts.append(_one_hot(raw["node_labels"]))
        if not parts:
            parts.append(np.ones((len(gon), 1), dtype=np.float32))
        feat = torch.from_numpy(np.concatenate(parts, axis=1))
    efeat = torch.from_numpy(_one_hot(edge_labels)) if edge_labels is not None else None

    graphs = []
    for i in range(num_graphs):
        e = torch.from_numpy(edges[edge_off[i]:edge_off[i + 1]] - node_off[i])
        g = dgl.graph((e[:, 0], e[:, 1]), num_nodes=int(node_off[i + 1] - node_off[i]))
        g.ndata["feat"] = feat[node_off[i]:node_off[i + 1]]
        if efeat is not None:
            g.edata["feat"] = efeat[edge_off[i]:edge_off[i + 1]]
        graphs.append(g)
    _, y = np.unique(raw["graph_labels"], return_inverse=True)
    return graphs, y.astype(np.int64), degree_card


def errica_splits(path: Path) -> list[Split]:
    """The 10 outer folds of an Errica et al. split file (``test`` and one inner ``train`` / ``validation``)."""
    folds = json.loads(path.read_text())
    out = []
    for i, fold in enumerate(folds):
        inner = fold["model_selection"][0]
        out.append(Split(f"fold{i}", np.sort(inner["train"]), np.sort(inner["validation"]), np.sort(fold["test"])))
    return out


def load_tu(name: str, root: Path, *, seed: int = 0, max_degree: int | None = None,
            use_cache: bool = True) -> GraphDataset:
    """Load TU set ``name`` from ``root/tu/NAME`` with Errica splits (see module docstring)."""
    info = next(i for i in TU_SETS if i.name == name)
    folder = Path(root) / "tu" / name
    required = [f"tu/{name}/{name}_{s}.txt" for s in ("A", "graph_indicator", "graph_labels")]
    ensure_files(name, Path(root), required, source=f"{TU_URL.format(name=name)} (unzip into root/tu/)",
                 urls={f: TU_URL.format(name=name) for f in required})
    split_file = Path(root) / "tu-splits" / f"{name}_splits.json"
    raw_files = sorted(folder.glob(f"{name}_*.txt")) + ([split_file] if split_file.exists() else [])
    key = cache.cache_key(name.lower(), LOADER_VERSION, {"seed": seed, "max_degree": max_degree}, raw_files)

    def build() -> GraphDataset:
        graphs, y, degree_card = build_tu(info, folder, max_degree=max_degree)
        if split_file.exists():
            splits, source = errica_splits(split_file), f"Errica et al. split file {split_file.name}"
        else:
            splits = stratified_kfold(y, k=10, seed=seed, val_fraction=0.1)
            source = f"generated: stratified 10-fold, 10% inner validation, seed {seed}"
        meta = {"split_source": source, "degree_cardinality": degree_card}
        return GraphDataset(name.lower(), graphs, torch.from_numpy(y), "graph", "multiclass", "accuracy", splits,
                            num_classes=int(y.max()) + 1, meta=meta)

    ds = cache.cached(build, root=Path(root), key=key, use_cache=use_cache)
    ds.card = _card(info)
    if info.social:
        ds.node_spec = FeatureSpec("categorical", cardinalities=(int(ds.meta["degree_cardinality"]),))
    return ds


def _register(info: TUInfo) -> None:
    def loader(root: Path, *, seed: int = 0, **options) -> GraphDataset:
        return load_tu(info.name, root, seed=seed, **options)

    loader.__doc__ = f"Load {info.name} (TU format) with the Errica et al. protocol."
    DATASETS.add(info.name.lower(), loader, card=_card(info))


for _info in TU_SETS:
    _register(_info)
