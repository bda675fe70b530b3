"""Every loader with published statistics refuses raw files whose counts differ (naming the file and the expected
and found counts) unless ``accept_modified`` is given, which records the difference in ``meta["modified"]``; and
every loader that downloads puts the files where it then reads them (served from a local HTTP server or a file URL).

Planetoid, geom-gcn and LRGB use copies of the shared real files; ZINC (not shared) a tiny file in its format.
"""

from __future__ import annotations

import dataclasses
import gzip
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from graphbench.data import load_dataset
from graphbench.data.integrity import DataFileError
from tests.data.test_integrity import _serve


def _base(served: Path, scheme: str):
    """(base URL, server or None) for files under ``served``."""
    if scheme == "file":
        return served.as_uri(), None
    server = _serve(served)
    return f"http://127.0.0.1:{server.server_address[1]}", server


# ---------------------------------------------------------------------------------------------------------- counts


@pytest.mark.data
def test_planetoid_card_states_what_the_loader_produces(shared_data, no_network):
    from graphbench.data.planetoid import expected_counts

    ds = load_dataset("cora", shared_data)
    g = ds.graphs[0]
    assert expected_counts("cora") == {"nodes": g.num_nodes(), "undirected edges": g.num_edges() // 2,
                                       "features": ds.node_features.dim, "classes": ds.num_classes}
    assert "modified" not in ds.meta
    assert expected_counts("citeseer") == {"nodes": 3327, "undirected edges": 4552, "features": 3703, "classes": 6}
    assert expected_counts("pubmed") == {"nodes": 19717, "undirected edges": 44324, "features": 500, "classes": 3}


@pytest.mark.data
def test_planetoid_edited_graph_is_refused_then_accepted(shared_data, tmp_path):
    shutil.copytree(shared_data / "planetoid", tmp_path / "planetoid")
    path = tmp_path / "planetoid" / "ind.cora.graph"
    with open(path, "rb") as f:
        graph = pickle.load(f, encoding="latin1")
    for u in list(graph)[:30]:  # drop the neighbour lists of 30 nodes (their edges survive only where listed back)
        graph[u] = []
    with open(path, "wb") as f:
        pickle.dump(graph, f)
    with pytest.raises(DataFileError, match=r"undirected edges: expected 5278, found \d+") as info:
        load_dataset("cora", tmp_path)
    assert "ind.cora.graph" in str(info.value) and "accept_modified" in str(info.value)
    ds = load_dataset("cora", tmp_path, accept_modified=True)
    assert ds.meta["modified"].startswith("undirected edges: expected 5278, found")
    assert ds.graphs[0].num_edges() < 2 * 5278


def _truncated_peptides(shared: Path, dest: Path, rows: int) -> None:
    """The first ``rows`` peptides of the real Peptides-func files, with the split restricted to them."""
    src = shared / "molecules" / "peptides-func"
    (dest / "raw").mkdir(parents=True)
    with gzip.open(src / "raw" / "peptide_multi_class_dataset.csv.gz", "rt") as f:
        head = [next(f) for _ in range(rows + 1)]
    with gzip.open(dest / "raw" / "peptide_multi_class_dataset.csv.gz", "wt") as f:
        f.writelines(head)
    with open(src / "splits_random_stratified_peptide.pickle", "rb") as f:
        split = pickle.load(f)  # noqa: S301 (the shared LRGB file)
    with open(dest / "splits_random_stratified_peptide.pickle", "wb") as f:
        pickle.dump({k: np.asarray(v)[np.asarray(v) < rows] for k, v in split.items()}, f)


@pytest.mark.data
def test_peptides_truncated_file_is_refused_before_building_then_accepted(shared_data, tmp_path, monkeypatch):
    from graphbench.data import lrgb

    _truncated_peptides(shared_data, tmp_path / "molecules" / "peptides-func", 60)
    built = []
    real = lrgb.smiles_to_graphs
    monkeypatch.setattr(lrgb, "smiles_to_graphs", lambda *a, **k: built.append(1) or real(*a, **k))
    with pytest.raises(DataFileError, match=r"graphs: expected 15535, found 60") as info:
        load_dataset("peptides-func", tmp_path, workers=1)
    assert "peptide_multi_class_dataset.csv.gz" in str(info.value) and not built  # refused before any graph
    ds = load_dataset("peptides-func", tmp_path, workers=1, accept_modified=True)
    assert ds.num_examples == 60
    assert "graphs: expected 15535, found 60" in ds.meta["modified"] and "nodes: expected" in ds.meta["modified"]


@pytest.mark.data
def test_peptides_edited_split_is_refused(shared_data, tmp_path):
    d = tmp_path / "molecules" / "peptides-func"
    shutil.copytree(shared_data / "molecules" / "peptides-func", d)
    with open(d / "splits_random_stratified_peptide.pickle", "rb") as f:
        split = pickle.load(f)  # noqa: S301 (the shared LRGB file)
    split["test"] = np.asarray(split["test"])[:-31]
    with open(d / "splits_random_stratified_peptide.pickle", "wb") as f:
        pickle.dump(split, f)
    with pytest.raises(DataFileError, match=r"test graphs: expected 2331, found 2300.*splits_random_stratified"):
        load_dataset("peptides-func", tmp_path, workers=1)


@pytest.mark.data
def test_molhiv_truncated_csv_is_refused_before_building_then_accepted(shared_data, tmp_path, monkeypatch):
    from graphbench.data import ogb_mol

    src, d = shared_data / "molecules" / "HIV", tmp_path / "molecules" / "HIV"
    d.mkdir(parents=True)
    df = pd.read_csv(src / "HIV.csv", skip_blank_lines=True)
    df.head(50).to_csv(d / "HIV.csv", index=False)
    for p in ("train", "val", "test"):
        shutil.copy(src / f"{p}_idx-0.txt", d / f"{p}_idx-0.txt")
    built = []
    monkeypatch.setattr(ogb_mol, "smiles_to_graphs", lambda *a, **k: built.append(1))
    with pytest.raises(DataFileError, match=r"graphs: expected 41127, found 50; .*positives: expected 1443") as info:
        load_dataset("ogbg-molhiv", tmp_path, workers=1)
    assert "HIV.csv" in str(info.value) and not built  # refused before the 41127 SMILES are parsed
    monkeypatch.undo()
    for p, idx in (("train", range(40)), ("val", range(40, 45)), ("test", range(45, 50))):  # a split of the 50 rows
        (d / f"{p}_idx-0.txt").write_text("\n".join(map(str, idx)) + "\n")
    ds = load_dataset("ogbg-molhiv", tmp_path, workers=1, accept_modified=True)
    assert ds.num_examples == 50 and "graphs: expected 41127, found 50" in ds.meta["modified"]


# ------------------------------------------------------------------------------------------------------- downloads


@pytest.mark.data
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_planetoid_download_puts_files_where_the_loader_reads(shared_data, tmp_path, monkeypatch, scheme):
    from graphbench.data import planetoid

    served = tmp_path / "served"  # kimiyoung/planetoid serves data/ind.cora.*; geom-gcn splits/NAME_split_*.npz
    shutil.copytree(shared_data / "planetoid", served / "data")
    shutil.copytree(shared_data / "geom-gcn" / "splits", served / "splits")
    base, server = _base(served, scheme)
    monkeypatch.setattr(planetoid, "URL", base + "/data/ind.{name}.{ext}")
    monkeypatch.setattr(planetoid, "GEOM_URL", base + "/splits/{file}")
    monkeypatch.delenv("GRAPHBENCH_OFFLINE", raising=False)
    root = tmp_path / "root"
    try:
        ds = load_dataset("cora", root, split="geom-gcn")
    finally:
        if server:
            server.shutdown()
    assert sorted(p.name for p in (root / "planetoid").iterdir()) == sorted(
        f"ind.cora.{e}" for e in planetoid.EXTS)
    assert len(list((root / "geom-gcn" / "splits").glob("cora_split_0.6_0.2_*.npz"))) == 10
    assert ds.num_examples == 2708 and len(ds.splits) == 10 and "modified" not in ds.meta


@pytest.mark.data
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_heterophilous_download_puts_files_where_the_loader_reads(shared_data, tmp_path, monkeypatch, scheme):
    from graphbench.data import heterophilous

    served = tmp_path / "served"  # the geom-gcn repository's layout: new_data/NAME/..., splits/...
    shutil.copytree(shared_data / "geom-gcn" / "new_data" / "texas", served / "new_data" / "texas")
    (served / "splits").mkdir()
    for f in (shared_data / "geom-gcn" / "splits").glob("texas_*"):
        shutil.copy(f, served / "splits" / f.name)
    base, server = _base(served, scheme)
    monkeypatch.setattr(heterophilous, "URL", base + "/{path}")
    monkeypatch.delenv("GRAPHBENCH_OFFLINE", raising=False)
    root = tmp_path / "root"
    try:
        ds = load_dataset("texas", root)
    finally:
        if server:
            server.shutdown()
    assert (root / "geom-gcn" / "new_data" / "texas" / "out1_graph_edges.txt").exists()
    assert ds.num_examples == 183 and ds.graphs[0].num_edges() == 2 * 279 and len(ds.splits) == 10


@pytest.mark.data
def test_lrgb_download_puts_files_where_the_loader_reads(shared_data, tmp_path, monkeypatch):
    from graphbench.data import lrgb

    served = tmp_path / "served"  # Dropbox-style URLs: /s/<id>/<file>?dl=1
    _truncated_peptides(shared_data, served / "pep", 40)
    (served / "s" / "a").mkdir(parents=True)
    (served / "s" / "b").mkdir(parents=True)
    shutil.move(served / "pep" / "raw" / "peptide_multi_class_dataset.csv.gz", served / "s" / "a")
    shutil.move(served / "pep" / "splits_random_stratified_peptide.pickle", served / "s" / "b")
    server = _serve(served)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    info = dataclasses.replace(lrgb.FUNC, url=f"{base}/s/a/peptide_multi_class_dataset.csv.gz?dl=1",
                               split_url=f"{base}/s/b/splits_random_stratified_peptide.pickle?dl=1")
    monkeypatch.delenv("GRAPHBENCH_OFFLINE", raising=False)
    root = tmp_path / "root"
    try:
        ds = lrgb.load_peptides(info, root, workers=1, accept_modified=True)  # 40 of the 15535 peptides
    finally:
        server.shutdown()
    d = root / "molecules" / "peptides-func"
    assert (d / "raw" / "peptide_multi_class_dataset.csv.gz").exists()
    assert (d / "splits_random_stratified_peptide.pickle").exists()
    assert ds.num_examples == 40 and ds.labels.shape == (40, 10) and ds.metric == "ap"
    assert "graphs: expected 15535, found 40" in ds.meta["modified"]


def test_zinc_download_unpacks_the_archive_where_the_loader_reads(tmp_path, monkeypatch):
    from graphbench.data import zinc
    from tests.data.test_molecules import _zinc_mol

    served = tmp_path / "served" / "s" / "x"
    served.mkdir(parents=True)
    with zipfile.ZipFile(served / "molecules.zip", "w") as zf:  # benchmarking-gnns' molecules.zip: molecules/...
        for part, count in (("train", 5), ("val", 2), ("test", 2)):
            zf.writestr(f"molecules/{part}.pickle", pickle.dumps([_zinc_mol(3 + i, float(i)) for i in range(count)]))
            zf.writestr(f"molecules/{part}.index", ",".join(map(str, range(count - 1))) + "\n")
    server = _serve(tmp_path / "served")
    monkeypatch.setattr(zinc, "URL", f"http://127.0.0.1:{server.server_address[1]}/s/x/molecules.zip?dl=1")
    monkeypatch.delenv("GRAPHBENCH_OFFLINE", raising=False)
    root = tmp_path / "root"
    try:
        ds = load_dataset("zinc", root, accept_modified=True)  # a tiny archive: not the published counts
    finally:
        server.shutdown()
    d = root / "molecules" / "ZINC"
    assert sorted(p.name for p in d.iterdir()) == sorted(f"{p}.{e}" for p in zinc.PARTS for e in ("pickle", "index"))
    sp = ds.split("fixed")
    assert (len(sp.train), len(sp.val), len(sp.test)) == (4, 1, 1)
    assert "train graphs: expected 10000, found 4" in ds.meta["modified"]


@pytest.mark.parametrize(("name", "short"), [("ogbg-molhiv", "hiv"), ("ogbg-molpcba", "pcba")])
def test_ogb_download_unpacks_the_archive_where_the_loader_reads(tmp_path, monkeypatch, name, short):
    from graphbench.data import ogb_mol

    tasks = 1 if short == "hiv" else 3
    tables = {  # OGB's csv_mol_download/NAME.zip: NAME/raw/*.csv.gz, NAME/split/scaffold/*.csv.gz, NAME/mapping/
        "raw/num-node-list.csv.gz": [[3], [2], [1]], "raw/num-edge-list.csv.gz": [[2], [1], [0]],
        "raw/edge.csv.gz": [[0, 1], [1, 2], [0, 1]], "raw/node-feat.csv.gz": [[5, 0, 4, 5, 3, 0, 2, 0, 0]] * 6,
        "raw/edge-feat.csv.gz": [[0, 0, 0]] * 3, "raw/graph-label.csv.gz": [[1] * tasks, [0] * tasks, [1] * tasks],
        "split/scaffold/train.csv.gz": [[0]], "split/scaffold/valid.csv.gz": [[1]],
        "split/scaffold/test.csv.gz": [[2]], "mapping/mol.csv.gz": [["smiles"], ["CCO"], ["CC"], ["C"]]}
    (tmp_path / "served").mkdir()
    with zipfile.ZipFile(tmp_path / "served" / f"{short}.zip", "w") as zf:
        for rel, rows in tables.items():
            zf.writestr(f"{short}/{rel}", gzip.compress(("\n".join(",".join(map(str, r)) for r in rows) + "\n")
                                                        .encode()))
    server = _serve(tmp_path / "served")
    monkeypatch.setattr(ogb_mol, "OGB_URL", f"http://127.0.0.1:{server.server_address[1]}/{{short}}.zip")
    monkeypatch.delenv("GRAPHBENCH_OFFLINE", raising=False)
    root = tmp_path / "root"
    try:
        ds = load_dataset(name, root, accept_modified=True)  # 3 made-up graphs
    finally:
        server.shutdown()
    d = root / "molecules" / f"ogbg_mol{short}"
    assert sorted(p.name for p in d.iterdir()) == ["mapping", "raw", "split"]  # no ogbg_molNAME/NAME/ folder
    assert (d / "split" / "scaffold" / "test.csv.gz").exists()
    assert ds.num_examples == 3 and ds.meta["layout"] == "ogb" and "graphs: expected" in ds.meta["modified"]
    assert ds.graphs[0].num_edges() == 4
