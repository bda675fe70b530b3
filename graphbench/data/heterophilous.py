"""Heterophilous node classification sets with the 10 geom-gcn splits (Pei et al., "Geom-GCN: Geometric Graph
Convolutional Networks", ICLR 2020): WebKB Cornell, Texas, Wisconsin; Wikipedia Chameleon, Squirrel
(Rozemberczki et al. 2021); Actor (the ``film`` co-occurrence graph of Tang et al. 2009).

Format (graphdml-uiuc-jlu/geom-gcn) under ``root/geom-gcn/new_data/NAME/``: ``out1_graph_edges.txt`` (a header,
then tab-separated ``src dst``; treated as undirected, duplicates and self-loops removed) and
``out1_node_feature_label.txt`` (a header, then ``id \\t comma-separated features \\t label``; for Actor the
features are the indices of the active entries of a 932-dimensional binary vector). Splits:
``root/geom-gcn/splits/NAME_split_0.6_0.2_K.npz`` (``train_mask``, ``val_mask``, ``test_mask``), named ``geom0..9``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import dgl
import numpy as np
import torch

from graphbench.data import cache
from graphbench.data.base import DatasetCard, GraphDataset
from graphbench.data.files import ensure_files
from graphbench.data.integrity import DataFileError, check_counts
from graphbench.data.planetoid import geom_gcn_splits, row_normalize
from graphbench.registry import DATASETS

LOADER_VERSION = 1
URL = "https://raw.githubusercontent.com/graphdml-uiuc-jlu/geom-gcn/master/{path}"
ACTOR_FEATURES = 932
CITATION = "Pei, Wei, Chang, Lei, Yang. Geom-GCN: Geometric Graph Convolutional Networks. ICLR 2020."


@dataclass(frozen=True)
class HeteroInfo:
    name: str
    folder: str
    stats: str
    origin: str

    @property
    def counts(self) -> dict[str, int]:
        """Nodes, undirected edges and features as the loader produces them (from ``stats``)."""
        nums = re.findall(r"(\d+) (nodes|undirected edges|features|classes)", self.stats)
        return {what: int(n) for n, what in nums}


HETERO_SETS = (
    HeteroInfo("cornell", "cornell", "183 nodes, 277 undirected edges, 1703 features, 5 classes", "WebKB"),
    HeteroInfo("texas", "texas", "183 nodes, 279 undirected edges, 1703 features, 5 classes", "WebKB"),
    HeteroInfo("wisconsin", "wisconsin", "251 nodes, 450 undirected edges, 1703 features, 5 classes",
               "WebKB"),
    HeteroInfo("chameleon", "chameleon", "2277 nodes, 31371 undirected edges, 2325 features, 5 classes "
               "(the raw file's 31421 lines include self-loops and repeats, removed here)",
               "Wikipedia network (Rozemberczki, Allen, Sarkar 2021)"),
    HeteroInfo("squirrel", "squirrel", "5201 nodes, 198353 undirected edges, 2089 features, 5 classes "
               "(the raw file's 198493 lines include self-loops and repeats, removed here)",
               "Wikipedia network (Rozemberczki, Allen, Sarkar 2021)"),
    HeteroInfo("actor", "film", "7600 nodes, 26659 undirected edges, 932 features, 5 classes "
               "(the raw file's 26752 lines include self-loops and repeats, removed here)",
               "actor co-occurrence (Tang, Sun, Wang, Yang 2009)"),
)


def _card(info: HeteroInfo) -> DatasetCard:
    return DatasetCard(
        name=info.name, description=(f"{info.name.capitalize()} ({info.origin}): heterophilous node classification; "
                                     "edges symmetrised, de-duplicated, self-loops removed."),
        task_level="node", task_kind="multiclass", metric="accuracy",
        protocol="the 10 geom-gcn splits (nominal 60/20/20, actual 48/32/20), splits geom0..geom9; report mean ± std",
        source=(f"graphdml-uiuc-jlu/geom-gcn: root/geom-gcn/new_data/{info.folder}/out1_graph_edges.txt, "
                f"out1_node_feature_label.txt; root/geom-gcn/splits/{info.folder}_split_0.6_0.2_{{0..9}}.npz"),
        citation=CITATION, size=f"1 graph, {info.stats}", needs_files=True)


def read_geom_gcn(folder: Path, *, actor: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Features ``[n, d]``, labels ``[n]``, symmetric edges ``[m, 2]`` and the number of raw edge lines."""
    ids, feats, labels = [], [], []
    path = folder / "out1_node_feature_label.txt"
    try:
        lines = path.read_bytes().decode("ascii").splitlines()
    except UnicodeDecodeError as exc:
        raise DataFileError(f"{path}: holds a byte that is not text at offset {exc.start}; fetch it again") from None
    for k, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        try:
            i, feat, label = line.split("\t")
            ids.append(int(i))
            feats.append([int(v) for v in feat.split(",")] if feat else [])
            labels.append(int(label))
        except ValueError:
            raise DataFileError(f"{path}: line {k} is not 'id<TAB>features<TAB>label' ({line[:60]!r}); the file is "
                                "truncated or corrupt — fetch it again") from None
    n = len(ids)
    if n == 0:
        raise DataFileError(f"{path}: no nodes (the file is empty or holds only its header)")
    if sorted(ids) != list(range(n)):
        raise DataFileError(f"{path}: node ids are not 0..{n - 1} (missing or repeated ids)")
    if not actor and len({len(f) for f in feats}) != 1:
        bad = next(k for k, f in enumerate(feats) if len(f) != len(feats[0]))
        raise DataFileError(f"{path}: node {ids[bad]} has {len(feats[bad])} features, node {ids[0]} has "
                            f"{len(feats[0])}")
    if actor and any(v < 0 or v >= ACTOR_FEATURES for f in feats for v in f):
        raise DataFileError(f"{path}: an active-feature index lies outside 0..{ACTOR_FEATURES - 1}")
    if actor:
        x = np.zeros((n, ACTOR_FEATURES), dtype=np.float32)
        for i, active in zip(ids, feats):
            x[i, active] = 1.0
    else:
        x = np.zeros((n, len(feats[0])), dtype=np.float32)
        x[ids] = np.asarray(feats, dtype=np.float32)
    y = np.zeros(n, dtype=np.int64)
    y[ids] = labels
    epath = folder / "out1_graph_edges.txt"
    try:
        raw = np.loadtxt(epath, skiprows=1, dtype=np.int64, ndmin=2)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{epath}: not a table of 'src<TAB>dst' node ids ({exc}); fetch it again") from None
    if raw.shape[1] != 2 or len(raw) == 0:
        raise DataFileError(f"{epath}: expected two columns 'src<TAB>dst' and at least one edge")
    if raw.min() < 0 or raw.max() >= n:
        i = int(np.nonzero((raw < 0).any(axis=1) | (raw >= n).any(axis=1))[0][0])
        raise DataFileError(f"{epath}: line {i + 2}: edge {raw[i, 0]} {raw[i, 1]} names a node outside 0..{n - 1}")
    e = raw[raw[:, 0] != raw[:, 1]]
    e = np.unique(np.concatenate([e, e[:, ::-1]]), axis=0)
    return x, y, e, len(raw)


def load_heterophilous(info: HeteroInfo, root: Path, *, seed: int = 0, accept_modified: bool = False,
                       normalize_features: bool = False, use_cache: bool = True) -> GraphDataset:
    """One geom-gcn node set with Pei et al.'s 10 splits; ``normalize_features`` row-normalises the bag-of-words
    features (:func:`graphbench.data.planetoid.row_normalize`), as the ω-GNN scripts do."""
    root = Path(root)
    files = [f"geom-gcn/new_data/{info.folder}/out1_graph_edges.txt",
             f"geom-gcn/new_data/{info.folder}/out1_node_feature_label.txt"]
    files += [f"geom-gcn/splits/{info.folder}_split_0.6_0.2_{k}.npz" for k in range(10)]
    ensure_files(info.name, root, files, source="github.com/graphdml-uiuc-jlu/geom-gcn (new_data/, splits/)",
                 urls={f: URL.format(path=f.removeprefix("geom-gcn/")) for f in files})
    options = {"accept_modified": True} if accept_modified else {}
    if normalize_features:
        options["normalize"] = True
    key = cache.cache_key(info.name, LOADER_VERSION, options, [root / f for f in files], root=root)

    def build() -> GraphDataset:
        x, y, e, raw_lines = read_geom_gcn(root / "geom-gcn" / "new_data" / info.folder, actor=info.name == "actor")
        found = {"nodes": len(y), "undirected edges": len(e) // 2, "features": x.shape[1],
                 "classes": len(np.unique(y))}
        modified = check_counts(info.name, found, info.counts, [root / f for f in files[:2]],
                                accept_modified=accept_modified)
        if normalize_features:
            x = row_normalize(x)
        g = dgl.graph((torch.from_numpy(e[:, 0]), torch.from_numpy(e[:, 1])), num_nodes=len(y))
        g.ndata["feat"] = torch.from_numpy(x)
        splits = geom_gcn_splits(root / "geom-gcn" / "splits", info.folder, len(y))
        return GraphDataset(info.name, [g], torch.from_numpy(y), "node", "multiclass", "accuracy", splits,
                            num_classes=int(y.max()) + 1,
                            meta={"raw_edge_lines": raw_lines, "split_source": "official: geom-gcn splits (Pei et al.)",
                                  **({"modified": modified} if modified else {})})

    ds = cache.cached(build, root=root, key=key, use_cache=use_cache)
    ds.card = _card(info)
    return ds


def _register(info: HeteroInfo) -> None:
    def loader(root: Path, *, seed: int = 0, **options) -> GraphDataset:
        return load_heterophilous(info, root, seed=seed, **options)

    loader.__doc__ = f"Load {info.name} with the 10 geom-gcn splits."
    DATASETS.add(info.name, loader, card=_card(info))


for _info in HETERO_SETS:
    _register(_info)
