"""TU loaders: published counts, Errica splits, IMDB de-duplication, degree features, tiny-file sets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from graphbench.data import load_dataset
from graphbench.data.tu import TU_SETS

# name: graphs, class counts, avg nodes, avg undirected edges (shared README / TU statistics)
PUBLISHED = {
    "mutag": (188, [63, 125], 17.93, 19.79),
    "ptc_mr": (344, [192, 152], 14.29, 14.69),
    "enzymes": (600, [100] * 6, 32.63, 62.14),
    "imdb-binary": (1000, [500, 500], 19.77, 96.53),
}


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_tu_counts_match_published_statistics(name, shared_data, no_network):
    ds = load_dataset(name, shared_data)
    graphs, classes, nodes, edges = PUBLISHED[name]
    assert ds.num_examples == graphs
    assert np.bincount(ds.labels.numpy()).tolist() == classes
    s = ds.summary()
    assert s["avg_nodes"] == pytest.approx(nodes, abs=0.01)
    assert s["avg_edges"] / 2 == pytest.approx(edges, abs=0.01)  # both directions stored
    assert len(ds.splits) == 10
    tests = np.concatenate([sp.test for sp in ds.splits])
    assert sorted(tests.tolist()) == list(range(graphs))  # test folds disjoint and covering
    for sp in ds.splits:
        sp.check(graphs)
        assert len(sp.train) + len(sp.val) + len(sp.test) == graphs


@pytest.mark.data
def test_tu_feature_dimensions(shared_data):
    assert load_dataset("mutag", shared_data).node_features.dim == 7
    assert load_dataset("mutag", shared_data).edge_features.dim == 4
    assert load_dataset("ptc_mr", shared_data).node_features.dim == 18
    assert load_dataset("enzymes", shared_data).node_features.dim == 18 + 3  # attributes + one-hot label
    imdb = load_dataset("imdb-binary", shared_data)
    assert imdb.node_features.kind == "categorical"
    g = imdb.graphs[0]
    assert (g.ndata["feat"][:, 0] == g.in_degrees()).all()  # degree feature, after de-duplication
    assert imdb.node_features.cardinalities[0] == max(int(g.in_degrees().max()) for g in imdb.graphs) + 1


@pytest.mark.data
@pytest.mark.parametrize(("name", "sizes"), [("enzymes", (486, 54, 60)), ("imdb-binary", (810, 90, 100))])
def test_errica_split_files_are_used(name, sizes, shared_data):
    ds = load_dataset(name, shared_data)
    sp = ds.split("fold0")
    assert (len(sp.train), len(sp.val), len(sp.test)) == sizes
    assert "Errica" in ds.meta["split_source"]


@pytest.mark.data
def test_imdb_has_no_repeated_edges(shared_data):
    ds = load_dataset("imdb-binary", shared_data)
    for g in ds.graphs[:50]:
        s, d = g.edges()
        pairs = set(zip(s.tolist(), d.tolist()))
        assert len(pairs) == g.num_edges()
        assert all((b, a) in pairs for a, b in pairs)


def write_tu(folder: Path, name: str, graphs: list[list[tuple[int, int]]], sizes: list[int], labels: list[int],
             node_labels: list[int] | None = None, doubled: bool = False) -> None:
    """A tiny TU data set in the original text format (1-based ids, both directions listed)."""
    folder.mkdir(parents=True)
    lines, indicator, offset = [], [], 0
    for gi, (edges, n) in enumerate(zip(graphs, sizes)):
        for a, b in edges:
            for u, v in ((a, b), (b, a)):
                lines += [f"{u + offset + 1}, {v + offset + 1}"] * (2 if doubled else 1)
        indicator += [str(gi + 1)] * n
        offset += n
    (folder / f"{name}_A.txt").write_text("\n".join(lines) + "\n")
    (folder / f"{name}_graph_indicator.txt").write_text("\n".join(indicator) + "\n")
    (folder / f"{name}_graph_labels.txt").write_text("\n".join(map(str, labels)) + "\n")
    if node_labels is not None:
        (folder / f"{name}_node_labels.txt").write_text("\n".join(map(str, node_labels)) + "\n")


def _tiny(num: int) -> tuple[list, list, list]:
    graphs, sizes, labels = [], [], []
    for i in range(num):
        n = 3 + i % 4
        graphs.append([(j, (j + 1) % n) for j in range(n)])
        sizes.append(n)
        labels.append(i % 2)
    return graphs, sizes, labels


@pytest.mark.parametrize("name", ["PROTEINS", "NCI1", "DD"])
def test_bio_sets_from_tiny_files_get_generated_stratified_folds(name, tmp_path, no_network):
    graphs, sizes, labels = _tiny(40)
    write_tu(tmp_path / "tu" / name, name, graphs, sizes, labels, node_labels=[1, 2, 3] * (sum(sizes) // 3) +
             [1] * (sum(sizes) % 3))
    tiny = {"accept_modified": True, "splits": "generated"}  # 40 made-up graphs: not the published set
    ds = load_dataset(name.lower(), tmp_path, **tiny)
    assert ds.num_examples == 40 and ds.num_classes == 2
    assert ds.node_features.dim == 3
    assert [g.num_nodes() for g in ds.graphs] == sizes  # TU order kept
    assert "generated" in ds.meta["split_source"]
    assert len(ds.splits) == 10
    again = load_dataset(name.lower(), tmp_path, use_cache=False, **tiny)
    assert all((a.test == b.test).all() for a, b in zip(ds.splits, again.splits))  # fixed seed


@pytest.mark.parametrize("name", ["IMDB-MULTI", "COLLAB", "REDDIT-BINARY"])
def test_social_sets_from_tiny_files_dedupe_and_use_degree(name, tmp_path):
    graphs, sizes, labels = _tiny(30)
    labels = [i % 3 + 1 for i in range(30)] if name != "REDDIT-BINARY" else [(-1) ** i for i in range(30)]
    write_tu(tmp_path / "tu" / name, name, graphs, sizes, labels, doubled=True)
    ds = load_dataset(name.lower(), tmp_path, accept_modified=True, splits="generated")
    assert ds.labels.min() == 0 and ds.labels.max() == ds.num_classes - 1
    for g, n in zip(ds.graphs, sizes):
        assert g.num_edges() == 2 * n  # cycle: n undirected edges, de-duplicated
        assert (g.ndata["feat"][:, 0] == 2).all()
    assert ds.node_features.kind == "categorical"


def test_every_tu_set_is_registered():
    from graphbench.data import dataset_card
    for info in TU_SETS:
        card = dataset_card(info.name.lower())
        assert card.metric == "accuracy" and card.citation and card.source and card.size


def test_node_attributes_false_reads_the_labels_alone_as_pyg_tudataset_does(tmp_path):
    """ENZYMES-format files with 18 continuous attributes: by default the features are the attributes then the
    one-hot label; node_attributes=false gives the one-hot label alone (the codes on PyG's TUDataset defaults)."""

    graphs, sizes, labels = _tiny(60)
    n = sum(sizes)
    node_labels = [1 + i % 3 for i in range(n)]
    write_tu(tmp_path / "tu" / "ENZYMES", "ENZYMES", graphs, sizes, [1 + i % 6 for i in range(60)],
             node_labels=node_labels)
    attrs = np.arange(n * 18, dtype=np.float32).reshape(n, 18) / 7.0
    (tmp_path / "tu" / "ENZYMES" / "ENZYMES_node_attributes.txt").write_text(
        "\n".join(", ".join(f"{v:.6f}" for v in row) for row in attrs) + "\n")
    tiny = {"accept_modified": True, "splits": "generated"}
    full = load_dataset("enzymes", tmp_path, **tiny)
    plain = load_dataset("enzymes", tmp_path, node_attributes=False, **tiny)
    assert full.node_features.dim == 21 and plain.node_features.dim == 3
    feat = torch.cat([g.ndata["feat"] for g in plain.graphs])
    assert feat.argmax(1).tolist() == [v - 1 for v in node_labels] and (feat.sum(1) == 1).all()
    assert torch.allclose(torch.cat([g.ndata["feat"] for g in full.graphs])[:, :18], torch.from_numpy(attrs))
    with pytest.raises(ValueError, match="node_attributes must be true or false"):
        load_dataset("enzymes", tmp_path, node_attributes="no", **tiny)


def test_degree_constant_gives_every_node_a_one(tmp_path):
    """A social set with degree=constant: one dense column of ones, whatever the degrees (FoSR's and LASER's
    input); the default stays the categorical degree."""
    graphs, sizes, labels = _tiny(30)
    graphs[1] = graphs[1] + [(0, 2)]  # a chord across the 4-cycle: degrees 3, 2, 3, 2 instead of all 2
    write_tu(tmp_path / "tu" / "IMDB-MULTI", "IMDB-MULTI", graphs, sizes, [i % 3 + 1 for i in range(30)])
    tiny = {"accept_modified": True, "splits": "generated"}
    ds = load_dataset("imdb-multi", tmp_path, degree="constant", **tiny)
    assert ds.node_features.kind == "dense" and ds.node_features.dim == 1
    assert all((g.ndata["feat"] == 1).all() for g in ds.graphs)
    assert load_dataset("imdb-multi", tmp_path, **tiny).graphs[1].ndata["feat"][:, 0].tolist() == [3, 2, 3, 2]
