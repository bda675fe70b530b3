"""LRGB Peptides-func (AP, 10 binary tasks) and Peptides-struct (MAE, 11 regression targets)
(Dwivedi, Rampášek, Galkin, Parviz, Wolf, Luu, Beaini, "Long Range Graph Benchmark", NeurIPS 2022 D&B).

Exactly the files the LRGB loaders download, under ``root/molecules/peptides-func/`` resp. ``peptides-struct/``:
``raw/peptide_multi_class_dataset.csv.gz`` (``smiles``, ``labels`` = a list of 10 0/1) and
``splits_random_stratified_peptide.pickle``; ``raw/peptide_structure_dataset.csv.gz`` (``smiles`` and the 11
targets) and ``splits_random_stratified_peptide_structure.pickle`` (dict ``train/val/test`` → index arrays).
Graphs via OGB's ``smiles2graph``. As in LRGB, Peptides-struct targets are standardised to zero mean and unit
standard deviation over the whole set (the means and stds are in ``meta``).

Graphs, split sizes and the average atom and directed-edge counts (published to 2 decimals, so checked to within
their rounding) are compared with the card; dataset option ``accept_modified=true`` uses edited files and records
the difference in ``meta["modified"]``.
"""

from __future__ import annotations

import ast
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from graphbench.data import cache
from graphbench.data.base import DatasetCard, GraphDataset, Split
from graphbench.data.files import ensure_files
from graphbench.data.integrity import check_counts
from graphbench.data.molecules import atom_spec, bond_spec, remap_split, smiles_to_graphs
from graphbench.registry import DATASETS

LOADER_VERSION = 1
STRUCT_TARGETS = ("Inertia_mass_a", "Inertia_mass_b", "Inertia_mass_c", "Inertia_valence_a", "Inertia_valence_b",
                  "Inertia_valence_c", "length_a", "length_b", "length_c", "Spherocity", "Plane_best_fit")
#: LRGB's published statistics (Dwivedi et al. 2022, Table 1), the same for both Peptides sets
GRAPHS, SPLIT_SIZES, AVG_NODES, AVG_EDGES = 15535, (10873, 2331, 2331), 150.94, 307.30
CITATION = ("Dwivedi, Rampášek, Galkin, Parviz, Wolf, Luu, Beaini. Long Range Graph Benchmark. NeurIPS 2022 "
            "Datasets and Benchmarks.")


@dataclass(frozen=True)
class PeptidesInfo:
    name: str
    folder: str
    csv: str
    split_file: str
    url: str
    split_url: str
    task_kind: str
    metric: str
    tasks: int


FUNC = PeptidesInfo(
    "peptides-func", "peptides-func", "raw/peptide_multi_class_dataset.csv.gz",
    "splits_random_stratified_peptide.pickle",
    "https://www.dropbox.com/s/ol2v01usvaxbsr8/peptide_multi_class_dataset.csv.gz?dl=1",
    "https://www.dropbox.com/s/j4zcnx2eipuo0xz/splits_random_stratified_peptide.pickle?dl=1",
    "multilabel", "ap", 10)
STRUCT = PeptidesInfo(
    "peptides-struct", "peptides-struct", "raw/peptide_structure_dataset.csv.gz",
    "splits_random_stratified_peptide_structure.pickle",
    "https://www.dropbox.com/s/464u3303eu2u4zp/peptide_structure_dataset.csv.gz?dl=1",
    "https://www.dropbox.com/s/9dfifzft1hqgow6/splits_random_stratified_peptide_structure.pickle?dl=1",
    "regression", "mae", 11)


def _card(info: PeptidesInfo) -> DatasetCard:
    what = ("10 binary peptide-function tasks (multilabel), mean AP over tasks" if info.task_kind == "multilabel" else
            "11 standardised 3D-structure targets (regression), MAE averaged over targets")
    return DatasetCard(
        name=info.name, description=f"LRGB {info.name}: {what}; OGB atom/bond features; long-range interactions.",
        task_level="graph", task_kind=info.task_kind, metric=info.metric,
        protocol="official LRGB stratified random split {}/{}/{} (one split 'lrgb')".format(*SPLIT_SIZES),
        source=(f"LRGB files: root/molecules/{info.folder}/{info.csv} and root/molecules/{info.folder}/"
                f"{info.split_file} ({info.url}; {info.split_url})"),
        citation=CITATION, size=f"{GRAPHS} graphs, {AVG_NODES:.2f} nodes, {AVG_EDGES:.2f} directed edges on average",
        needs_files=True)


def check_peptides_counts(info: PeptidesInfo, rows: int, split: Split, graphs: list | None, files: list[Path], *,
                          accept_modified: bool) -> str | None:
    """Rows and split sizes (``graphs=None``: before any graph is built), or total atoms and directed edges, against
    LRGB's published statistics."""
    if graphs is None:
        found = {"graphs": rows, "train graphs": len(split.train), "val graphs": len(split.val),
                 "test graphs": len(split.test)}
        expected = {"graphs": GRAPHS, **dict(zip(("train graphs", "val graphs", "test graphs"), SPLIT_SIZES))}
    else:
        found = {"nodes": sum(g.num_nodes() for g in graphs), "directed edges": sum(g.num_edges() for g in graphs)}
        expected = {"nodes": AVG_NODES * GRAPHS, "directed edges": AVG_EDGES * GRAPHS}
    slack = {"nodes": 0.005 * GRAPHS + 0.5, "directed edges": 0.005 * GRAPHS + 0.5}  # averages to 2 decimals
    return check_counts(info.name, found, expected, files, accept_modified=accept_modified, tolerance=slack)


def load_peptides(info: PeptidesInfo, root: Path, *, seed: int = 0, workers: int | None = None,
                  accept_modified: bool = False, use_cache: bool = True) -> GraphDataset:
    root = Path(root)
    files = [f"molecules/{info.folder}/{info.csv}", f"molecules/{info.folder}/{info.split_file}"]
    ensure_files(info.name, root, files, source="the LRGB files (URLs in the card)",
                 urls={files[0]: info.url, files[1]: info.split_url})
    options = {"accept_modified": True} if accept_modified else {}
    key = cache.cache_key(info.name, LOADER_VERSION, options, [root / f for f in files], root=root)

    def build() -> GraphDataset:
        df = pd.read_csv(root / files[0])
        with open(root / files[1], "rb") as f:
            sp = pickle.load(f)  # noqa: S301 (LRGB's own split format: a dict of numpy arrays)
        split = Split("lrgb", *(np.sort(np.asarray(sp[p], dtype=np.int64)) for p in ("train", "val", "test")))
        paths = [root / f for f in files]
        modified = [check_peptides_counts(info, len(df), split, None, paths, accept_modified=accept_modified)]
        graphs, kept, report = smiles_to_graphs(df["smiles"].tolist(), workers=workers)
        modified.append(check_peptides_counts(info, len(df), split, graphs, paths, accept_modified=accept_modified))
        meta: dict = {"rows": len(df), **report}
        if any(modified):
            meta["modified"] = "; ".join(m for m in modified if m)
        if info.task_kind == "multilabel":
            y = np.array([ast.literal_eval(s) for s in df["labels"]], dtype=np.float32)
        else:
            t = df[list(STRUCT_TARGETS)].astype(np.float64)
            meta["target_mean"], meta["target_std"] = t.mean().tolist(), t.std().tolist()
            y = ((t - t.mean()) / t.std()).to_numpy(np.float32)
        if report["unparsable"]:
            split = remap_split(split, kept)
        return GraphDataset(info.name, graphs, torch.from_numpy(y[kept]), "graph", info.task_kind, info.metric,
                            [split], num_classes=info.tasks, meta=meta)

    ds = cache.cached(build, root=root, key=key, use_cache=use_cache)
    ds.card = _card(info)
    ds.node_spec, ds.edge_spec = atom_spec(), bond_spec()
    return ds


def _register(info: PeptidesInfo) -> None:
    def loader(root: Path, *, seed: int = 0, **options) -> GraphDataset:
        return load_peptides(info, root, seed=seed, **options)

    loader.__doc__ = f"Load LRGB {info.name} with its official split."
    DATASETS.add(info.name, loader, card=_card(info))


_register(FUNC)
_register(STRUCT)
