"""Split protocols and the generated CSL dataset."""

from __future__ import annotations

import networkx as nx
import numpy as np

from graphbench.data import load_dataset
from graphbench.data.splits import holdout, stratified_kfold
from graphbench.data.synthetic.csl import SKIP_LENGTHS


def test_stratified_kfold_is_disjoint_covering_stratified_and_deterministic():
    labels = np.repeat(np.arange(4), 25)
    a = stratified_kfold(labels, k=5, seed=3, val_fraction=0.2)
    b = stratified_kfold(labels, k=5, seed=3, val_fraction=0.2)
    c = stratified_kfold(labels, k=5, seed=4, val_fraction=0.2)
    tests = np.concatenate([s.test for s in a])
    assert sorted(tests) == list(range(100))  # test folds partition the data
    for s in a:
        s.check(100)
        assert np.bincount(labels[s.test], minlength=4).tolist() == [5, 5, 5, 5]  # stratified
        assert set(np.bincount(labels[s.val], minlength=4)) == {4}
    assert all(np.array_equal(x.test, y.test) and np.array_equal(x.val, y.val) for x, y in zip(a, b))
    assert any(not np.array_equal(x.test, y.test) for x, y in zip(a, c))


def test_holdout_sizes_and_disjoint():
    s = holdout(200, val_fraction=0.1, test_fraction=0.2, seed=0)
    s.check(200)
    assert (len(s.train), len(s.val), len(s.test)) == (140, 20, 40)


def test_csl_counts_splits_and_skip_lengths():
    ds = load_dataset("csl")
    assert len(ds.graphs) == 150 and ds.num_classes == 10
    assert np.bincount(ds.labels.numpy()).tolist() == [15] * 10
    assert [(len(s.train), len(s.val), len(s.test)) for s in ds.splits] == [(90, 30, 30)] * 5
    assert sorted(np.concatenate([s.test for s in ds.splits])) == list(range(150))
    for g, y in zip(ds.graphs, ds.labels.tolist()):
        assert g.num_nodes() == 41 and g.num_edges() == 164
        assert set(g.in_degrees().tolist()) == {4}  # 4-regular
        nxg = nx.Graph(g.to_networkx())
        # the cycle through node 0 under the relabelling: skip edges realise the class' skip length
        assert nx.is_isomorphic(nxg, nx.circulant_graph(41, [1, SKIP_LENGTHS[y]]))


def test_csl_graphs_are_1wl_identical_across_classes():
    ds = load_dataset("csl")
    hashes = {nx.weisfeiler_lehman_graph_hash(nx.Graph(g.to_networkx()), iterations=4) for g in ds.graphs[::15]}
    assert len(hashes) == 1


def test_csl_is_deterministic_per_seed():
    a, b, c = load_dataset("csl", seed=1), load_dataset("csl", seed=1), load_dataset("csl", seed=2)
    assert all(np.array_equal(x.edges()[0].numpy(), y.edges()[0].numpy()) for x, y in zip(a.graphs, b.graphs))
    assert not all(np.array_equal(x.edges()[0].numpy(), y.edges()[0].numpy()) for x, y in zip(a.graphs, c.graphs))
