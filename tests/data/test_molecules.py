"""Molecule loaders: ogbg-molhiv and Peptides-func on the real files; molpcba, ZINC, Peptides-struct on tiny
files in their official formats; our rocauc/ap against OGB's Evaluator."""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from graphbench.data import load_dataset
from graphbench.data.integrity import DataFileError
from graphbench.metrics import get_metric

ATOM_DIMS = (119, 5, 12, 12, 10, 6, 6, 2, 2)


@pytest.fixture(scope="module")
def molhiv(shared_data, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GRAPHBENCH_CACHE", str(tmp_path_factory.mktemp("mol_cache")))
    yield load_dataset("ogbg-molhiv", shared_data)
    mp.undo()


@pytest.mark.data
def test_molhiv_counts_split_and_features(molhiv):
    ds = molhiv
    assert ds.num_examples + len(ds.meta["unparsable"]) == 41127
    assert ds.meta["rows"] == 41127 and "modified" not in ds.meta  # the real files pass the count check
    assert int(np.nansum(ds.labels.numpy())) == 1443
    sp = ds.split("scaffold")
    assert (len(sp.train), len(sp.val), len(sp.test)) == (32901, 4113, 4113)
    assert ds.node_features.cardinalities == ATOM_DIMS and ds.edge_features.cardinalities == (5, 6, 2)
    g = ds.graphs[0]
    assert g.ndata["feat"].dtype == torch.long and g.edata["feat"].shape[1] == 3
    assert ds.metric == "rocauc" and ds.task_kind == "binary"
    # the SMILES recent RDKit rejects are reported, not fatal
    assert len(ds.meta["unsanitized"]) + len(ds.meta["unparsable"]) <= 10


@pytest.fixture(scope="module")
def peptides(shared_data, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("GRAPHBENCH_CACHE", str(tmp_path_factory.mktemp("pep_cache")))
    yield load_dataset("peptides-func", shared_data)
    mp.undo()


@pytest.mark.data
def test_peptides_func_counts_and_split(peptides):
    ds = peptides
    assert ds.num_examples == 15535 and ds.labels.shape == (15535, 10) and "modified" not in ds.meta
    s = ds.summary()
    assert s["avg_nodes"] == pytest.approx(150.94, abs=0.01)
    assert s["avg_edges"] == pytest.approx(307.30, abs=0.01)
    sp = ds.split("lrgb")
    assert (len(sp.train), len(sp.val), len(sp.test)) == (10873, 2331, 2331)
    assert set(np.unique(ds.labels.numpy()).tolist()) == {0.0, 1.0}
    assert ds.metric == "ap" and ds.num_classes == 10


@pytest.mark.parametrize(("ogb_name", "metric", "tasks"), [("ogbg-molhiv", "rocauc", 1), ("ogbg-molpcba", "ap", 128)])
def test_our_metrics_agree_with_ogb_evaluator(ogb_name, metric, tasks):
    from ogb.graphproppred import Evaluator
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, (400, tasks)).astype(np.float64)
    if tasks > 1:
        y[rng.random(y.shape) < 0.2] = np.nan  # missing labels, as in molpcba
    pred = y + rng.normal(0, 1.0, y.shape)
    pred = np.nan_to_num(pred)
    ref = Evaluator(ogb_name).eval({"y_true": y, "y_pred": pred})[metric]
    ours = get_metric(metric).fn(y, pred)
    assert ours == pytest.approx(ref, abs=1e-9)


def _csv_gz(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as f:
        f.write("\n".join(",".join(str(v) for v in r) for r in rows) + "\n")


def test_molpcba_from_tiny_ogb_folder(tmp_path, no_network, monkeypatch):
    monkeypatch.setenv("GRAPHBENCH_OFFLINE", "1")  # a missing file is an error here, not a download of OGB's zip
    d = tmp_path / "molecules" / "ogbg_molpcba"
    # two graphs: a 3-atom path and a 2-atom edge; OGB raw files list each bond once
    _csv_gz(d / "raw" / "num-node-list.csv.gz", [[3], [2]])
    _csv_gz(d / "raw" / "num-edge-list.csv.gz", [[2], [1]])
    _csv_gz(d / "raw" / "edge.csv.gz", [[0, 1], [1, 2], [0, 1]])
    _csv_gz(d / "raw" / "node-feat.csv.gz", [[5, 0, 4, 5, 3, 0, 2, 0, 0]] * 5)
    _csv_gz(d / "raw" / "edge-feat.csv.gz", [[0, 0, 0]] * 3)
    _csv_gz(d / "raw" / "graph-label.csv.gz", [[1, "", 0], [0, 1, ""]])
    _csv_gz(d / "split" / "scaffold" / "train.csv.gz", [[0]])
    _csv_gz(d / "split" / "scaffold" / "valid.csv.gz", [[1]])
    (d / "split" / "scaffold" / "test.csv.gz").unlink(missing_ok=True)
    with pytest.raises(FileNotFoundError, match="test.csv.gz"):
        load_dataset("ogbg-molpcba", tmp_path)
    _csv_gz(d / "split" / "scaffold" / "test.csv.gz", [[1]])
    with pytest.raises(ValueError, match="overlap"):  # val and test share graph 1
        load_dataset("ogbg-molpcba", tmp_path, accept_modified=True)
    _csv_gz(d / "raw" / "num-node-list.csv.gz", [[3], [2], [1]])
    _csv_gz(d / "raw" / "num-edge-list.csv.gz", [[2], [1], [0]])
    _csv_gz(d / "raw" / "node-feat.csv.gz", [[5, 0, 4, 5, 3, 0, 2, 0, 0]] * 6)
    _csv_gz(d / "raw" / "graph-label.csv.gz", [[1, "", 0], [0, 1, ""], [1, 1, 1]])
    _csv_gz(d / "split" / "scaffold" / "test.csv.gz", [[2]])
    with pytest.raises(DataFileError, match=r"graphs: expected 437929, found 3; .*tasks: expected 128, found 3"):
        load_dataset("ogbg-molpcba", tmp_path)  # 3 made-up graphs: not OGB's counts
    ds = load_dataset("ogbg-molpcba", tmp_path, accept_modified=True)
    assert "graphs: expected 437929, found 3" in ds.meta["modified"]
    assert ds.num_examples == 3 and ds.num_classes == 3 and ds.task_kind == "multilabel"
    assert torch.isnan(ds.labels[0, 1]) and ds.labels[2].tolist() == [1, 1, 1]
    assert ds.graphs[0].num_edges() == 4  # inverse edges added
    assert ds.graphs[0].ndata["feat"].dtype == torch.long
    assert ds.node_features.cardinalities == ATOM_DIMS


def test_molhiv_csv_layout_from_tiny_file(tmp_path, no_network):
    d = tmp_path / "molecules" / "HIV"
    d.mkdir(parents=True)
    rows = ["smiles,activity,HIV_active", "CCO,CI,0", "c1ccccc1,CM,1", "NOT_A_SMILES,CI,0", "CN,CI,1"]
    (d / "HIV.csv").write_text("\n\n".join(rows) + "\n")  # with the empty lines of the shared copy
    for part, idx in (("train", [0, 2]), ("val", [1]), ("test", [3])):
        (d / f"{part}_idx-0.txt").write_text("\n".join(map(str, idx)) + "\n")
    with pytest.raises(DataFileError, match=r"graphs: expected 41127, found 4.*HIV\.csv"):
        load_dataset("ogbg-molhiv", tmp_path, workers=1)
    ds = load_dataset("ogbg-molhiv", tmp_path, workers=1, accept_modified=True)
    assert "graphs: expected 41127, found 4" in ds.meta["modified"]
    assert ds.meta["rows"] == 4
    assert [r[0] for r in ds.meta["unparsable"]] == [2]  # reported, dropped, removed from the split
    assert ds.num_examples == 3 and ds.labels.view(-1).tolist() == [0, 1, 1]
    sp = ds.split("scaffold")
    assert sp.train.tolist() == [0] and sp.val.tolist() == [1] and sp.test.tolist() == [2]
    assert ds.graphs[1].num_nodes() == 6 and ds.graphs[1].num_edges() == 12


def _zinc_mol(n: int, y: float) -> dict:
    adj = torch.zeros(n, n, dtype=torch.long)
    for i in range(n - 1):
        adj[i, i + 1] = adj[i + 1, i] = 1 + i % 3
    return {"atom_type": torch.arange(n) % 28, "bond_type": adj, "logP_SA_cycle_normalized": torch.tensor([y]),
            "num_atom": n}


def test_zinc_from_tiny_official_format(tmp_path, no_network):
    d = tmp_path / "molecules" / "ZINC"
    d.mkdir(parents=True)
    sizes = {"train": 6, "val": 3, "test": 3}
    for part, count in sizes.items():
        mols = [_zinc_mol(3 + i, float(i)) for i in range(count + 2)]  # the subset skips some molecules
        with open(d / f"{part}.pickle", "wb") as f:
            pickle.dump(mols, f)
        (d / f"{part}.index").write_text(",".join(str(i) for i in range(1, count + 1)) + "\n")
    with pytest.raises(DataFileError, match=r"train graphs: expected 10000, found 6.*train\.index"):
        load_dataset("zinc", tmp_path)
    ds = load_dataset("zinc", tmp_path, accept_modified=True)
    assert ds.meta["modified"].startswith("train graphs: expected 10000, found 6")
    sp = ds.split("fixed")
    assert (len(sp.train), len(sp.val), len(sp.test)) == (6, 3, 3)
    assert ds.labels.shape == (12, 1) and ds.labels[0, 0] == 1.0  # first subset index is 1
    g = ds.graphs[0]
    assert g.num_nodes() == 4 and g.num_edges() == 6
    assert g.edata["feat"].dtype == torch.long and set(g.edata["feat"].view(-1).tolist()) <= {1, 2, 3}
    assert ds.node_features.cardinalities == (28,) and ds.edge_features.cardinalities == (4,)
    assert ds.metric == "mae"
    full = load_dataset("zinc", tmp_path, subset=False, accept_modified=True)
    assert "train graphs: expected 220011, found 8" in full.meta["modified"]
    assert full.num_examples == 8 + 5 + 5


def test_peptides_struct_from_tiny_lrgb_files(tmp_path, no_network):
    from graphbench.data.lrgb import STRUCT_TARGETS
    d = tmp_path / "molecules" / "peptides-struct"
    (d / "raw").mkdir(parents=True)
    smiles = ["CC(N)C(=O)O", "NCC(=O)O", "CC(C)C(N)C(=O)O", "CCO", "CCN", "CCCC"]
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"smiles": smiles, **{t: rng.normal(5, 2, len(smiles)) for t in STRUCT_TARGETS}})
    df.to_csv(d / "raw" / "peptide_structure_dataset.csv.gz", index=False)
    with open(d / "splits_random_stratified_peptide_structure.pickle", "wb") as f:
        pickle.dump({"train": np.array([0, 1, 2]), "val": np.array([3]), "test": np.array([4, 5])}, f)
    with pytest.raises(DataFileError, match=r"graphs: expected 15535, found 6.*peptide_structure_dataset\.csv\.gz"):
        load_dataset("peptides-struct", tmp_path, workers=1)
    ds = load_dataset("peptides-struct", tmp_path, workers=1, accept_modified=True)
    assert "graphs: expected 15535, found 6" in ds.meta["modified"]
    assert ds.labels.shape == (6, 11) and ds.task_kind == "regression" and ds.metric == "mae"
    assert ds.labels.mean(0).abs().max() < 1e-5  # standardised as in LRGB
    assert np.allclose(ds.meta["target_mean"], df[list(STRUCT_TARGETS)].mean().to_numpy())
    assert len(ds.split("lrgb").train) == 3
