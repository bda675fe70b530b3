"""The BREC loader on tiny written files in BREC's raw formats (the real files are not in the shared data)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from graphbench.data import load_dataset
from graphbench.data.brec import CATEGORY_FILES, FOLDER, RELABEL_BLOCK
from graphbench.data.files import MissingDataError
from graphbench.data.synthetic.expressiveness import dgl_to_nx, wl_pairs


def g6(G: nx.Graph) -> str:
    return nx.to_graph6_bytes(G, header=False).strip().decode()


def tiny_pairs() -> list[tuple[nx.Graph, nx.Graph]]:
    """Seven 1-WL-equivalent non-isomorphic pairs, one per category file."""
    pairs = [(a, b) for _, a, b in wl_pairs()]
    pairs.append((nx.circulant_graph(13, [1, 5]), nx.circulant_graph(13, [1, 2])))
    return pairs[:7]


def write_brec(folder, pairs) -> None:
    """One pair per category file, in the layouts BREC's files use: flat str arrays, [k, 2] bytes arrays."""
    folder.mkdir(parents=True, exist_ok=True)
    for (file, _, _), (a, b) in zip(CATEGORY_FILES, pairs, strict=True):
        if file in ("regular.npy", "cfi.npy", "dr.npy"):
            arr = np.array([[g6(a).encode(), g6(b).encode()]])  # bytes, shape [1, 2]
        else:
            arr = np.array([g6(a), g6(b)])  # str, flat
        np.save(folder / file, arr)


def test_category_files_load_as_pairs_with_categories(tmp_path, no_network):
    pairs = tiny_pairs()
    write_brec(tmp_path / FOLDER, pairs)
    ds = load_dataset("brec", tmp_path)
    assert len(ds.graphs) == 14 and ds.splits == []
    assert ds.meta["pairs"] == [[2 * i, 2 * i + 1] for i in range(7)]
    assert ds.meta["pair_categories"] == [c for _, c, _ in CATEGORY_FILES]
    assert ds.meta["category_counts"] == {c: 1 for _, c, _ in CATEGORY_FILES}
    for i, (a, b) in enumerate(pairs):
        assert nx.is_isomorphic(dgl_to_nx(ds.graphs[2 * i]), a)
        assert nx.is_isomorphic(dgl_to_nx(ds.graphs[2 * i + 1]), b)
    assert ds.card.needs_files and "GraphPKU/BREC" in ds.card.source


def test_release_file_takes_the_original_pair_of_each_block(tmp_path, no_network):
    pairs = tiny_pairs()
    total = sum(n for _, _, n in CATEGORY_FILES)
    # block of pair i: originals first, then (here: dummy) relabellings; then the reliability part
    entries = []
    for i in range(total):
        a, b = pairs[i % 7]
        entries += [g6(a).encode(), g6(b).encode()] + [g6(nx.path_graph(3)).encode()] * (RELABEL_BLOCK - 2)
    entries += [g6(nx.path_graph(3)).encode()] * (total * RELABEL_BLOCK)
    (tmp_path / FOLDER).mkdir(parents=True)
    np.save(tmp_path / FOLDER / "brec_v3.npy", np.array(entries))
    ds = load_dataset("brec", tmp_path)
    assert len(ds.graphs) == 2 * total
    assert ds.meta["category_counts"] == {c: n for _, c, n in CATEGORY_FILES}
    assert nx.is_isomorphic(dgl_to_nx(ds.graphs[2 * 61]), pairs[61 % 7][0])  # pair 61: regular category
    assert ds.meta["pair_categories"][61] == "regular" and ds.meta["pair_categories"][399] == "distance-regular"


def test_missing_files_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("GRAPHBENCH_OFFLINE", "1")
    with pytest.raises(MissingDataError) as err:
        load_dataset("brec", tmp_path)
    message = str(err.value)
    assert all(f in message for f, _, _ in CATEGORY_FILES) and "brec_v3.npy" in message
    assert "GraphPKU/BREC" in message


def test_corrupt_entries_are_refused_with_the_file(tmp_path):
    write_brec(tmp_path / FOLDER, tiny_pairs())
    np.save(tmp_path / FOLDER / "cfi.npy", np.array(["not-graph6!", "~~~"]))
    with pytest.raises(ValueError, match=r"cfi\.npy: entry 0 is not a valid graph6"):
        load_dataset("brec", tmp_path)
    np.save(tmp_path / FOLDER / "cfi.npy", np.array([g6(nx.path_graph(3))] * 3))
    with pytest.raises(ValueError, match="expected an even number"):
        load_dataset("brec", tmp_path)
