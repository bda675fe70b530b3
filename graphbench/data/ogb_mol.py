"""OGB molecular property prediction: ogbg-molhiv (ROC-AUC) and ogbg-molpcba (AP), scaffold split
(Hu et al., "Open Graph Benchmark: Datasets for Machine Learning on Graphs", NeurIPS 2020; data from MoleculeNet,
Wu et al. 2018).

Two accepted layouts under the data root:

* ``root/molecules/HIV/HIV.csv`` (MoleculeNet: ``smiles, activity, HIV_active``; empty lines are skipped) with
  ``root/molecules/HIV/{train,val,test}_idx-0.txt`` (the ogbg-molhiv scaffold split, one 0-based index per line).
  Graphs are built with OGB's ``smiles2graph``; row order is ogbg-molhiv's graph order.
* OGB's own download folder ``root/molecules/ogbg_molpcba/`` (or ``ogbg_molhiv``): ``raw/{edge,node-feat,edge-feat,
  num-node-list,num-edge-list,graph-label}.csv.gz`` and ``split/scaffold/{train,valid,test}.csv.gz``, read with
  ``ogb.io.read_csv_graph_raw`` (no RDKit needed). When the files of neither layout are present, OGB's zip is
  downloaded (its ``hiv/`` or ``pcba/`` folder becomes ``ogbg_molhiv`` / ``ogbg_molpcba``).

Graphs, split sizes, tasks (and molhiv's positives) are checked against OGB's published statistics (``COUNTS``);
dataset option ``accept_modified=true`` uses edited files and records the difference in ``meta["modified"]``.

Scores: our ``rocauc`` / ``ap`` metrics follow ``ogb.graphproppred.Evaluator`` (a test cross-checks them).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from graphbench.data import cache
from graphbench.data.base import DatasetCard, GraphDataset, Split
from graphbench.data.files import ensure_files, missing
from graphbench.data.integrity import check_counts
from graphbench.data.molecules import atom_spec, bond_spec, graph_from_ogb_dict, remap_split, smiles_to_graphs
from graphbench.registry import DATASETS

log = logging.getLogger(__name__)
LOADER_VERSION = 1
OGB_URL = "http://snap.stanford.edu/ogb/data/graphproppred/csv_mol_download/{short}.zip"
CITATION = ("Hu, Fey, Zitnik, Dong, Ren, Liu, Catasta, Leskovec. Open Graph Benchmark: Datasets for Machine Learning "
            "on Graphs. NeurIPS 2020. Wu et al. MoleculeNet: a benchmark for molecular machine learning. 2018.")
OGB_RAW = ("edge.csv.gz", "node-feat.csv.gz", "edge-feat.csv.gz", "num-node-list.csv.gz", "num-edge-list.csv.gz",
           "graph-label.csv.gz")
OGB_SPLIT = ("train.csv.gz", "valid.csv.gz", "test.csv.gz")
#: OGB's published statistics (Hu et al. 2020, Table; ogb.stanford.edu), checked on every build
COUNTS = {"ogbg-molhiv": {"graphs": 41127, "train graphs": 32901, "val graphs": 4113, "test graphs": 4113,
                          "tasks": 1, "positives": 1443},
          "ogbg-molpcba": {"graphs": 437929, "train graphs": 350343, "val graphs": 43793, "test graphs": 43793,
                           "tasks": 128}}
#: average atoms and bonds per graph to 2 decimals, as the loader produces them (molhiv's RDKit-built graphs);
#: molpcba's are published to 1 decimal only (26.0 / 28.1) and are not checked
AVERAGES = {"ogbg-molhiv": {"nodes": 25.51, "bonds": 27.47}}

HIV_CARD = DatasetCard(
    name="ogbg-molhiv", description="HIV replication inhibition (binary), 41127 molecules; OGB atom/bond features.",
    task_level="graph", task_kind="binary", metric="rocauc",
    protocol="OGB scaffold split 32901/4113/4113 (one fixed split 'scaffold'); report test ROC-AUC at best val",
    source=("MoleculeNet HIV: root/molecules/HIV/HIV.csv + root/molecules/HIV/{train,val,test}_idx-0.txt, or OGB's "
            "root/molecules/ogbg_molhiv/{raw,split/scaffold}/ (download: " + OGB_URL.format(short="hiv") + ")"),
    citation=CITATION, size=(f"41127 graphs, {AVERAGES['ogbg-molhiv']['nodes']:.2f} nodes, "
                             f"{AVERAGES['ogbg-molhiv']['bonds']:.2f} bonds on average; 1443 positives; 1 task"),
    needs_files=True)
PCBA_CARD = DatasetCard(
    name="ogbg-molpcba", description="PubChem BioAssay, 128 binary tasks with missing labels; OGB atom/bond features.",
    task_level="graph", task_kind="multilabel", metric="ap",
    protocol="OGB scaffold split 350343/43793/43793 (one fixed split 'scaffold'); mean AP over tasks (OGB Evaluator)",
    source=("OGB download folder root/molecules/ogbg_molpcba/raw/*.csv.gz and split/scaffold/{train,valid,test}"
            ".csv.gz (" + OGB_URL.format(short="pcba") + ", unzip and rename 'pcba' to 'ogbg_molpcba')"),
    citation=CITATION, size="437929 graphs, 26.0 nodes, 28.1 bonds on average; 128 tasks", needs_files=True)


def _read_index(path: Path) -> np.ndarray:
    return pd.read_csv(path, header=None).to_numpy()[:, 0].astype(np.int64)


def load_ogb_folder(name: str, folder: Path) -> tuple[list, np.ndarray, Split]:
    """Graphs, labels ``[n, T]`` float (NaN = missing) and the scaffold split from an OGB download folder."""
    from ogb.io.read_graph_raw import read_csv_graph_raw

    graph_dicts = read_csv_graph_raw(str(folder / "raw"), add_inverse_edge=True)
    graphs = [graph_from_ogb_dict(gd) for gd in graph_dicts]
    y = pd.read_csv(folder / "raw" / "graph-label.csv.gz", compression="gzip", header=None).to_numpy(np.float32).copy()
    sd = folder / "split" / "scaffold"
    split = Split("scaffold", *(np.sort(_read_index(sd / f)) for f in OGB_SPLIT))
    return graphs, y, split


def check_ogb_counts(name: str, rows: int, y: np.ndarray, split: Split, graphs: list | None, files: list[Path], *,
                     accept_modified: bool) -> str | None:
    """Graphs (raw rows), split sizes, tasks and (molhiv) positives against :data:`COUNTS` (``graphs=None``: before
    any graph is built); given the graphs, their total atoms and bonds against :data:`AVERAGES` (to within the
    rounding of the published 2-decimal averages)."""
    if graphs is None:
        found = {"graphs": rows, "train graphs": len(split.train), "val graphs": len(split.val),
                 "test graphs": len(split.test), "tasks": y.shape[1], "positives": int(np.nansum(y))}
        return check_counts(name, found, COUNTS[name], files, accept_modified=accept_modified)
    if name not in AVERAGES:
        return None
    g = COUNTS[name]["graphs"]
    found = {"nodes": sum(x.num_nodes() for x in graphs), "bonds": sum(x.num_edges() for x in graphs) / 2}
    expected = {k: v * g for k, v in AVERAGES[name].items()}
    return check_counts(name, found, expected, files, accept_modified=accept_modified,
                        tolerance={k: 0.005 * g + 0.5 for k in expected})


def _with_modified(meta: dict, modified: str | None) -> dict:
    return {**meta, "modified": modified} if modified else meta


def _finish(ds: GraphDataset, card: DatasetCard) -> GraphDataset:
    ds.card = card
    ds.node_spec, ds.edge_spec = atom_spec(), bond_spec()
    return ds


def load_molhiv(root: Path, *, seed: int = 0, workers: int | None = None, accept_modified: bool = False,
                use_cache: bool = True) -> GraphDataset:
    """ogbg-molhiv from ``root/molecules/HIV`` (MoleculeNet CSV + scaffold idx) or OGB's folder;
    ``accept_modified``: use raw files whose counts differ from OGB's (recorded in the meta)."""
    root = Path(root)
    extra = {"accept_modified": True} if accept_modified else {}
    ogb_dir = root / "molecules" / "ogbg_molhiv"
    csv_files = ["molecules/HIV/HIV.csv"] + [f"molecules/HIV/{p}_idx-0.txt" for p in ("train", "val", "test")]
    if missing(root, csv_files):  # OGB's folder, downloaded (OGB's hiv.zip) when neither layout is there
        rel = [f"molecules/ogbg_molhiv/raw/{f}" for f in OGB_RAW]
        rel += [f"molecules/ogbg_molhiv/split/scaffold/{f}" for f in OGB_SPLIT]
        ensure_files("ogbg-molhiv", root, rel, urls={f: OGB_URL.format(short="hiv") for f in rel}, source=(
            f"{OGB_URL.format(short='hiv')} (unzip into root/molecules/ and rename hiv to ogbg_molhiv), or "
            "MoleculeNet HIV.csv (deepchem) plus the ogbg-molhiv scaffold split as root/molecules/HIV/HIV.csv and "
            "root/molecules/HIV/{train,val,test}_idx-0.txt"))
        files = [root / f for f in rel]
        key = cache.cache_key("ogbg-molhiv", LOADER_VERSION, {"layout": "ogb", **extra}, files, root=root)

        def build_ogb() -> GraphDataset:
            graphs, y, split = load_ogb_folder("ogbg-molhiv", ogb_dir)
            modified = "; ".join(m for m in (
                check_ogb_counts("ogbg-molhiv", len(graphs), y, split, None, files, accept_modified=accept_modified),
                check_ogb_counts("ogbg-molhiv", len(graphs), y, split, graphs, files, accept_modified=accept_modified),
            ) if m)
            return GraphDataset("ogbg-molhiv", graphs, torch.from_numpy(y), "graph", "binary", "rocauc", [split],
                                num_classes=1, meta=_with_modified({"layout": "ogb"}, modified))

        return _finish(cache.cached(build_ogb, root=root, key=key, use_cache=use_cache), HIV_CARD)
    key = cache.cache_key("ogbg-molhiv", LOADER_VERSION, {"layout": "csv", **extra}, [root / f for f in csv_files],
                          root=root)

    def build() -> GraphDataset:
        df = pd.read_csv(root / "molecules" / "HIV" / "HIV.csv", skip_blank_lines=True)
        df = df.dropna(subset=["smiles"]).reset_index(drop=True)
        hd = root / "molecules" / "HIV"
        split = Split("scaffold", *(np.sort(_read_index(hd / f"{p}_idx-0.txt")) for p in ("train", "val", "test")))
        paths, labels = [root / f for f in csv_files], df["HIV_active"].to_numpy(np.float32).reshape(-1, 1)
        modified = [check_ogb_counts("ogbg-molhiv", len(df), labels, split, None, paths,
                                     accept_modified=accept_modified)]
        graphs, kept, report = smiles_to_graphs(df["smiles"].tolist(), workers=workers)
        modified.append(check_ogb_counts("ogbg-molhiv", len(df), labels, split, graphs, paths,
                                         accept_modified=accept_modified))
        y = df["HIV_active"].to_numpy(np.float32)[kept].reshape(-1, 1)
        if report["unparsable"]:
            log.warning("ogbg-molhiv: %d SMILES could not be parsed and were dropped", len(report["unparsable"]))
            split = remap_split(split, kept)
        meta = _with_modified({"layout": "csv", "rows": len(df), **report}, "; ".join(m for m in modified if m))
        return GraphDataset("ogbg-molhiv", graphs, torch.from_numpy(y), "graph", "binary", "rocauc", [split],
                            num_classes=1, meta=meta)

    return _finish(cache.cached(build, root=root, key=key, use_cache=use_cache), HIV_CARD)


def load_molpcba(root: Path, *, seed: int = 0, accept_modified: bool = False, use_cache: bool = True) -> GraphDataset:
    """ogbg-molpcba from OGB's download folder ``root/molecules/ogbg_molpcba``; ``accept_modified``: use raw files
    whose counts differ from OGB's (recorded in the meta)."""
    root = Path(root)
    files = [f"molecules/ogbg_molpcba/raw/{f}" for f in OGB_RAW]
    files += [f"molecules/ogbg_molpcba/split/scaffold/{f}" for f in OGB_SPLIT]
    ensure_files("ogbg-molpcba", root, files, urls={f: OGB_URL.format(short="pcba") for f in files},
                 source=f"{OGB_URL.format(short='pcba')} (unzip into root/molecules/ and rename pcba to ogbg_molpcba)")
    options = {"accept_modified": True} if accept_modified else {}
    key = cache.cache_key("ogbg-molpcba", LOADER_VERSION, options, [root / f for f in files], root=root)

    def build() -> GraphDataset:
        graphs, y, split = load_ogb_folder("ogbg-molpcba", root / "molecules" / "ogbg_molpcba")
        modified = check_ogb_counts("ogbg-molpcba", len(graphs), y, split, None, [root / f for f in files],
                                    accept_modified=accept_modified)
        return GraphDataset("ogbg-molpcba", graphs, torch.from_numpy(y), "graph", "multilabel", "ap", [split],
                            num_classes=y.shape[1], meta=_with_modified({"layout": "ogb"}, modified))

    return _finish(cache.cached(build, root=root, key=key, use_cache=use_cache), PCBA_CARD)


DATASETS.add("ogbg-molhiv", load_molhiv, card=HIV_CARD, aliases=("molhiv", "hiv"))
DATASETS.add("ogbg-molpcba", load_molpcba, card=PCBA_CARD, aliases=("molpcba", "pcba"))
