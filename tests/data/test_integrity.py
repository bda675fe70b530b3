"""Raw-data integrity: malformed TU files are refused before any graph is built (file + line), counts are checked
against the published statistics, downloads unpack where the loader looks, official Errica splits are found under
their official names and never replaced silently, and the cache notices every change."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import stat
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from graphbench.data import cache, load_dataset
from graphbench.data.files import MissingDataError
from graphbench.data.integrity import DataFileError
from tests.helpers import run_cli


def _copy(shared: Path, tmp: Path, *names: str, splits: bool = True) -> Path:
    for name in names:
        shutil.copytree(shared / "tu" / name, tmp / "tu" / name)
    if splits:
        shutil.copytree(shared / "tu-splits", tmp / "tu-splits")
    return tmp


@pytest.mark.data
def test_truncated_mid_line_is_a_clear_error_not_a_segfault(shared_data, tmp_path):
    root = _copy(shared_data, tmp_path, "MUTAG")
    os.truncate(root / "tu" / "MUTAG" / "MUTAG_A.txt", 38470)
    proc = run_cli("run", "--model", "gin", "--dataset", "mutag", "--data-root", str(root), "--epochs", "1",
                   "--folds", "0", cwd=tmp_path, check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "MUTAG_A.txt: line 3945" in proc.stderr and "joins nodes of graphs" in proc.stderr
    assert not list((root / ".cache").rglob("DONE")) if (root / ".cache").exists() else True  # nothing cached


@pytest.mark.data
def test_truncated_at_a_line_boundary_is_refused_with_expected_and_found_counts(shared_data, tmp_path):
    root = _copy(shared_data, tmp_path, "IMDB-BINARY")
    a = root / "tu" / "IMDB-BINARY" / "IMDB-BINARY_A.txt"
    text = a.read_bytes()
    a.write_bytes(text[: text.rfind(b"\n", 0, len(text) // 2) + 1])  # half the edges, whole lines
    with pytest.raises(DataFileError, match=r"IMDB-BINARY_A\.txt") as info:
        load_dataset("imdb-binary", root)
    assert "undirected edges: expected 96530, found" in str(info.value)
    assert "accept_modified" in str(info.value)
    ds = load_dataset("imdb-binary", root, accept_modified=True)
    assert "undirected edges" in ds.meta["modified"]


@pytest.mark.data
def test_modified_dataset_is_recorded_on_every_row(shared_data, tmp_path):
    from graphbench import api

    root = _copy(shared_data, tmp_path, "MUTAG")
    labels = root / "tu" / "MUTAG" / "MUTAG_graph_labels.txt"
    labels.write_text(labels.read_text().replace("-1", "1", 10))  # 10 graphs relabelled: class counts differ
    with pytest.raises(DataFileError, match="the raw files do not match"):
        api.plan_runs(["gin"], ["mutag"], data_root=str(root))
    df = api.run(["gin"], ["mutag"], folds=[0], hparams={"epochs": 1, "hidden": 8}, threads=1, data_root=str(root),
                 dataset_options={"accept_modified": True}, results=None)
    assert df["dataset_modified"].iloc[0] and json.loads(df["dataset_options"].iloc[0]) == {"accept_modified": True}


@pytest.mark.data
@pytest.mark.parametrize("content", [b"", b"\x00\x01\x02garbage\xff\n", b"hello, world\n", b"1, 2, 3\n"])
def test_garbage_or_empty_raw_files_name_the_file(shared_data, tmp_path, content):
    root = _copy(shared_data, tmp_path, "MUTAG")
    path = root / "tu" / "MUTAG" / "MUTAG_graph_labels.txt"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=r"MUTAG_graph_labels\.txt"):
        load_dataset("mutag", root)


def _serve(folder: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.data
@pytest.mark.parametrize("scheme", ["http", "file"])
def test_tu_download_unpacks_where_the_loader_looks(shared_data, tmp_path, monkeypatch, scheme):
    from graphbench.data import tu

    served = tmp_path / "served"
    served.mkdir()
    with zipfile.ZipFile(served / "ENZYMES.zip", "w") as zf:  # as the TU site ships it: ENZYMES/ENZYMES_A.txt ...
        for f in (shared_data / "tu" / "ENZYMES").iterdir():
            zf.write(f, f"ENZYMES/{f.name}")
    (served / "ENZYMES_splits.json").write_bytes((shared_data / "tu-splits" / "ENZYMES_splits.json").read_bytes())
    server = _serve(served) if scheme == "http" else None
    base = f"http://127.0.0.1:{server.server_address[1]}" if server else served.as_uri()
    monkeypatch.setattr(tu, "TU_URL", base + "/{name}.zip")
    monkeypatch.setattr(tu, "ERRICA_URL", base + "/{file}")
    monkeypatch.delenv("GRAPHBENCH_OFFLINE", raising=False)
    root = tmp_path / "root"
    try:
        ds = load_dataset("enzymes", root)
    finally:
        if server:
            server.shutdown()
    assert (root / "tu" / "ENZYMES" / "ENZYMES_A.txt").exists() and not (root / "tu" / "ENZYMES" / "ENZYMES").exists()
    assert (root / "tu-splits" / "ENZYMES_splits.json").exists()
    assert ds.num_examples == 600 and ds.meta["split_source"].startswith("official")


def test_official_split_names_are_found_and_generated_folds_are_never_silent(tmp_path, monkeypatch):
    from graphbench.data import tu
    from tests.data.test_tu import _tiny, write_tu

    graphs, sizes, labels = _tiny(40)
    write_tu(tmp_path / "tu" / "PROTEINS", "PROTEINS", graphs, sizes, labels)
    monkeypatch.setenv("GRAPHBENCH_OFFLINE", "1")
    with pytest.raises(MissingDataError, match="PROTEINS_full_splits.json") as info:
        load_dataset("proteins", tmp_path, accept_modified=True)
    assert "splits=generated" in str(info.value)
    gen = load_dataset("proteins", tmp_path, accept_modified=True, splits="generated")
    assert gen.meta["split_source"].startswith("generated (requested)")
    folds = [{"test": list(range(i, 40, 10)),
              "model_selection": [{"train": [j for j in range(40) if j % 10 not in (i, (i + 1) % 10)],
                                   "validation": list(range((i + 1) % 10, 40, 10))}]} for i in range(10)]
    (tmp_path / "tu-splits").mkdir()
    (tmp_path / "tu-splits" / "PROTEINS_full_splits.json").write_text(json.dumps(folds))
    ds = load_dataset("proteins", tmp_path, accept_modified=True)
    assert ds.meta["split_source"] == "official: Errica et al. 2020 (PROTEINS_full_splits.json)"
    assert ds.splits[3].test.tolist() == list(range(3, 40, 10))
    assert tu.split_file(tmp_path, next(i for i in tu.TU_SETS if i.name == "PROTEINS")).name == \
        "PROTEINS_full_splits.json"


def test_social_degree_option(tmp_path):
    from tests.data.test_tu import _tiny, write_tu

    graphs, sizes, labels = _tiny(30)
    write_tu(tmp_path / "tu" / "IMDB-MULTI", "IMDB-MULTI", graphs, sizes, [i % 3 for i in range(30)])
    opts = {"accept_modified": True, "splits": "generated"}
    onehot = load_dataset("imdb-multi", tmp_path, **opts)
    scalar = load_dataset("imdb-multi", tmp_path, degree="scalar", **opts)
    assert onehot.node_features.kind == "categorical"
    assert scalar.node_features.kind == "dense" and scalar.node_features.dim == 1
    assert scalar.graphs[0].ndata["feat"].dtype.is_floating_point
    assert (scalar.graphs[0].ndata["feat"][:, 0] == 2.0).all()
    with pytest.raises(ValueError, match="degree must be"):
        load_dataset("imdb-multi", tmp_path, degree="log", **opts)


@pytest.mark.data
def test_a_same_size_edit_of_a_raw_file_rebuilds_the_cache(shared_data, tmp_path):
    root = _copy(shared_data, tmp_path, "MUTAG")
    before = load_dataset("mutag", root)
    path = root / "tu" / "MUTAG" / "MUTAG_graph_labels.txt"
    lines = path.read_text().splitlines()
    i, j = lines.index("1"), lines.index("-1")
    lines[i], lines[j] = lines[j], lines[i]  # same size, same class counts, two labels swapped
    st = path.stat()
    path.write_text("\n".join(lines) + "\n")
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old mtime restored (ctime tells)
    after = load_dataset("mutag", root)
    assert after.labels[i] != before.labels[i] and after.labels[j] != before.labels[j]


def test_info_json_is_covered_by_the_done_marker(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHBENCH_CACHE", str(tmp_path / "cache"))
    load_dataset("ring-transfer-n10", tmp_path, num_graphs=100)
    entry = next((tmp_path / "cache" / "ring-transfer-n10").iterdir())
    info = json.loads((entry / "info.json").read_text())
    info["num_classes"] = 7  # valid JSON, wrong content
    (entry / "info.json").write_text(json.dumps(info))
    assert cache.load(entry) is None
    assert load_dataset("ring-transfer-n10", tmp_path, num_graphs=100).num_classes == 5


def test_cache_files_follow_the_umask(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHBENCH_CACHE", str(tmp_path / "cache"))
    old = os.umask(0o022)
    try:
        load_dataset("ring-transfer-n10", tmp_path, num_graphs=100)
    finally:
        os.umask(old)
    for f in (tmp_path / "cache").rglob("*"):
        if f.is_file():
            assert stat.S_IMODE(f.stat().st_mode) == 0o644, f


def test_raw_hashes_are_remembered_so_a_warm_start_reads_no_raw_file(tmp_path, monkeypatch):
    f = tmp_path / "raw.txt"
    f.write_bytes(np.arange(1000).tobytes())
    first = cache.fingerprint([f], tmp_path / "memo")
    calls = []
    monkeypatch.setattr(cache, "sha256_file", lambda p: calls.append(p) or "x")
    assert cache.fingerprint([f], tmp_path / "memo") == first and not calls
    f.write_bytes(np.arange(1, 1001).tobytes())  # same size, new content and mtime
    assert cache.fingerprint([f], tmp_path / "memo")[0][2] == "x" and calls


@pytest.mark.data
@pytest.mark.parametrize("name", ["cornell", "texas", "wisconsin"])
def test_heterophilous_cards_state_what_the_loader_produces(name, shared_data):
    from graphbench.data.heterophilous import HETERO_SETS

    info = next(i for i in HETERO_SETS if i.name == name)
    ds = load_dataset(name, shared_data)
    g = ds.graphs[0]
    assert info.counts == {"nodes": g.num_nodes(), "undirected edges": g.num_edges() // 2,
                           "features": ds.node_features.dim, "classes": ds.num_classes}
    assert str(info.counts["undirected edges"]) in ds.card.size


def test_heterophilous_cards_count_edges_without_self_loops():
    from graphbench.data.heterophilous import HETERO_SETS

    # loaded from the geom-gcn files: the raw line counts 31421 / 198493 / 26752 include self-loops and repeats
    counts = {i.name: i.counts["undirected edges"] for i in HETERO_SETS}
    assert (counts["chameleon"], counts["squirrel"], counts["actor"]) == (31371, 198353, 26659)


@pytest.mark.data
def test_heterophilous_edge_file_edits_are_refused(shared_data, tmp_path):
    shutil.copytree(shared_data / "geom-gcn", tmp_path / "geom-gcn")
    edges = tmp_path / "geom-gcn" / "new_data" / "texas" / "out1_graph_edges.txt"
    lines = edges.read_text().splitlines()
    edges.write_text("\n".join(lines[:-40]) + "\n")
    with pytest.raises(DataFileError, match=r"undirected edges: expected 279, found"):
        load_dataset("texas", tmp_path)
    edges.write_text("\n".join(lines[:5] + ["3\t999999"] + lines[5:]) + "\n")
    with pytest.raises(DataFileError, match=r"out1_graph_edges\.txt: line 6: edge 3 999999"):
        load_dataset("texas", tmp_path)
