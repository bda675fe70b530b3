"""Planetoid citation graphs Cora, CiteSeer, PubMed (Yang, Cohen, Salakhutdinov, ICML 2016).

Format (kimiyoung/planetoid) under ``root/planetoid/``: ``ind.NAME.{x,tx,allx}`` pickled scipy sparse features,
``ind.NAME.{y,ty,ally}`` one-hot labels, ``ind.NAME.graph`` (dict node -> neighbours), ``ind.NAME.test.index``.
Node order: the ``allx`` rows, then the test nodes by sorted id (Kipf & Welling's ``load_data``; CiteSeer's isolated
test ids get zero features and class 0, excluded from every split, as PyG does). Edges are made undirected,
de-duplicated, and self-loops removed. Features are the raw bag-of-words (``normalize_features=True`` row-normalises).
Nodes, undirected edges, features and classes are checked against the card (the counts PyG's ``Planetoid`` gives);
dataset option ``accept_modified=true`` uses edited files and records the difference in ``meta["modified"]``.

Splits: ``split="public"`` (default) is the Planetoid split (20 per class train, 500 val, 1000 test);
``split="geom-gcn"`` gives the 10 splits of Pei et al. (ICLR 2020) from
``root/geom-gcn/splits/NAME_split_0.6_0.2_K.npz`` (names ``geom0..geom9``).
"""

from __future__ import annotations

import pickle
import re
import sys
from pathlib import Path

import dgl
import numpy as np
import scipy.sparse as sp
import torch

from graphbench.data import cache
from graphbench.data.base import DatasetCard, GraphDataset, Split
from graphbench.data.files import ensure_files
from graphbench.data.integrity import check_counts
from graphbench.registry import DATASETS

LOADER_VERSION = 1
URL = "https://github.com/kimiyoung/planetoid/raw/master/data/ind.{name}.{ext}"
GEOM_URL = "https://raw.githubusercontent.com/graphdml-uiuc-jlu/geom-gcn/master/splits/{file}"
EXTS = ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
CITATION = ("Yang, Cohen, Salakhutdinov. Revisiting Semi-Supervised Learning with Graph Embeddings. ICML 2016. "
            "geom-gcn splits: Pei, Wei, Chang, Lei, Yang. Geom-GCN: Geometric Graph Convolutional Networks. ICLR 2020.")
STATS = {"cora": "1 graph, 2708 nodes, 5278 undirected edges, 1433 features, 7 classes",
         "citeseer": "1 graph, 3327 nodes, 4552 undirected edges, 3703 features, 6 classes",
         "pubmed": "1 graph, 19717 nodes, 44324 undirected edges, 500 features, 3 classes"}
DISPLAY = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}


def expected_counts(name: str) -> dict[str, int]:
    """Nodes, undirected edges, features and classes as the loader produces them (from the card's ``STATS``)."""
    return {what: int(n) for n, what in re.findall(r"(\d+) (nodes|undirected edges|features|classes)", STATS[name])}


def _card(name: str) -> DatasetCard:
    return DatasetCard(
        name=name, description=f"{DISPLAY[name]} citation graph, node classification (homophilous).",
        task_level="node", task_kind="multiclass", metric="accuracy",
        protocol=("split='public' (default): Planetoid public split, 20 labelled nodes per class / 500 val / 1000 "
                  "test; split='geom-gcn': the 10 geom-gcn splits (60/20/20 nominal), named geom0..geom9"),
        source=(f"kimiyoung/planetoid: root/planetoid/ind.{name}.{{{','.join(EXTS)}}}; geom-gcn splits "
                f"root/geom-gcn/splits/{name}_split_0.6_0.2_{{0..9}}.npz"),
        citation=CITATION, size=STATS[name], needs_files=True)


def _load_pickle(path: Path):
    with open(path, "rb") as f:
        return pickle.load(f, encoding="latin1") if sys.version_info > (3, 0) else pickle.load(f)


def read_planetoid(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int, np.ndarray]:
    """Features ``[n, d]`` float32, labels ``[n]``, undirected edges ``[m, 2]`` (both directions), number of
    training nodes, of labelled ``allx`` nodes, and the sorted test ids."""
    objs = {e: _load_pickle(folder / f"ind.{name}.{e}") for e in ("x", "y", "tx", "ty", "allx", "ally", "graph")}
    test_idx = np.loadtxt(folder / f"ind.{name}.test.index", dtype=np.int64)
    test_sorted = np.sort(test_idx)
    tx, ty = objs["tx"], objs["ty"]
    if name == "citeseer":  # isolated test ids: pad so that the node ids stay aligned
        full = np.arange(test_sorted.min(), test_sorted.max() + 1)
        tx_ext = sp.lil_matrix((len(full), tx.shape[1]))
        tx_ext[test_sorted - test_sorted.min(), :] = tx
        ty_ext = np.zeros((len(full), ty.shape[1]))
        ty_ext[test_sorted - test_sorted.min(), :] = ty
        tx, ty = tx_ext, ty_ext
    features = sp.vstack((objs["allx"], tx)).tolil()
    features[test_idx, :] = features[test_sorted, :]
    labels = np.vstack((objs["ally"], ty))
    labels[test_idx, :] = labels[test_sorted, :]
    n = features.shape[0]
    src, dst = [], []
    for u, nbrs in objs["graph"].items():
        for v in nbrs:
            if u != v and u < n and v < n:
                src.append(u)
                dst.append(v)
    e = np.array([src, dst], dtype=np.int64).T
    e = np.unique(np.concatenate([e, e[:, ::-1]]), axis=0)
    return (np.asarray(features.todense(), dtype=np.float32), labels.argmax(1).astype(np.int64), e,
            objs["y"].shape[0], objs["ally"].shape[0], test_sorted)


def geom_gcn_splits(split_dir: Path, name: str, num_nodes: int) -> list[Split]:
    """The 10 geom-gcn splits ``NAME_split_0.6_0.2_K.npz`` (boolean masks) as ``geom0..geom9``."""
    out = []
    for k in range(10):
        with np.load(split_dir / f"{name}_split_0.6_0.2_{k}.npz") as z:
            masks = [np.asarray(z[m]).astype(bool) for m in ("train_mask", "val_mask", "test_mask")]
        if any(len(m) != num_nodes for m in masks):
            raise ValueError(f"{name} geom-gcn split {k}: masks of length {len(masks[0])}, graph has {num_nodes}")
        out.append(Split(f"geom{k}", *(np.flatnonzero(m) for m in masks)))
    return out


def row_normalize(x: np.ndarray) -> np.ndarray:
    """Each node's features divided by their sum (PyG's ``T.NormalizeFeatures``, which Kipf's and the ω-GNN scripts
    apply); an all-zero row stays zero."""
    return x / np.maximum(x.sum(1, keepdims=True), 1e-12)


def load_planetoid(name: str, root: Path, *, seed: int = 0, split: str = "public", normalize_features: bool = False,
                   accept_modified: bool = False, use_cache: bool = True) -> GraphDataset:
    """Load Cora / CiteSeer / PubMed (see the module docstring); ``accept_modified``: use raw files whose counts
    differ from the card's (recorded in the meta)."""
    if split not in ("public", "geom-gcn"):
        raise ValueError(f"{name}: split must be 'public' or 'geom-gcn', got {split!r}")
    root = Path(root)
    files = [f"planetoid/ind.{name}.{e}" for e in EXTS]
    urls = {f"planetoid/ind.{name}.{e}": URL.format(name=name, ext=e) for e in EXTS}
    if split == "geom-gcn":
        split_files = [f"geom-gcn/splits/{name}_split_0.6_0.2_{k}.npz" for k in range(10)]
        files += split_files
        urls.update({f: GEOM_URL.format(file=Path(f).name) for f in split_files})
    ensure_files(DISPLAY[name], root, files, source="kimiyoung/planetoid (data/) and geom-gcn (splits/)", urls=urls)
    options = {"split": split, "normalize": normalize_features}
    if accept_modified:
        options["accept_modified"] = True
    key = cache.cache_key(name, LOADER_VERSION, options, [root / f for f in files], root=root)

    def build() -> GraphDataset:
        x, y, e, n_train, n_labelled, test = read_planetoid(root / "planetoid", name)
        found = {"nodes": len(y), "undirected edges": len(e) // 2, "features": x.shape[1],
                 "classes": len(np.unique(y))}
        raw_paths = [root / f for f in files if f.startswith("planetoid/")]
        modified = check_counts(DISPLAY[name], found, expected_counts(name), raw_paths, accept_modified=accept_modified)
        if normalize_features:
            x = row_normalize(x)
        g = dgl.graph((torch.from_numpy(e[:, 0]), torch.from_numpy(e[:, 1])), num_nodes=len(y))
        g.ndata["feat"] = torch.from_numpy(x)
        if split == "public":
            splits = [Split("public", np.arange(n_train), np.arange(n_train, n_train + 500), test)]
        else:
            splits = geom_gcn_splits(root / "geom-gcn" / "splits", name, len(y))
        return GraphDataset(name, [g], torch.from_numpy(y), "node", "multiclass", "accuracy", splits,
                            num_classes=int(y.max()) + 1, meta={"split": split, "labelled_allx": n_labelled,
                                                                **({"modified": modified} if modified else {})})

    ds = cache.cached(build, root=root, key=key, use_cache=use_cache)
    ds.card = _card(name)
    return ds


def _register(name: str) -> None:
    def loader(root: Path, *, seed: int = 0, **options) -> GraphDataset:
        return load_planetoid(name, root, seed=seed, **options)

    loader.__doc__ = f"Load {DISPLAY[name]} (Planetoid format); options: split='public'|'geom-gcn'."
    DATASETS.add(name, loader, card=_card(name))


for _name in DISPLAY:
    _register(_name)
