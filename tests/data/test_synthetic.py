"""Generators and file-based expressiveness sets: each one's defining property."""

from __future__ import annotations

import itertools
import pickle

import networkx as nx
import numpy as np
import pytest
import torch
from networkx.algorithms.isomorphism import GraphMatcher

from graphbench.data import load_dataset
from graphbench.data.synthetic.counting import count_substructures
from graphbench.data.synthetic.csl import SKIP_LENGTHS, csl_graph
from graphbench.data.synthetic.expressiveness import dgl_to_nx, wl_pairs


def wl(G: nx.Graph) -> str:
    return nx.weisfeiler_lehman_graph_hash(G, iterations=len(G))


@pytest.mark.data
def test_exp_pairs_are_wl_equivalent_non_isomorphic_with_opposite_labels(shared_data, no_network):
    ds = load_dataset("exp", shared_data)
    assert ds.num_examples == 1200 and ds.num_classes == 2
    y = ds.labels.numpy()
    assert (y[0::2] != y[1::2]).all()
    for i in range(0, 1200, 2):
        a, b = dgl_to_nx(ds.graphs[i]), dgl_to_nx(ds.graphs[i + 1])
        assert wl(a) == wl(b)
    for i in range(0, 40, 2):  # isomorphism tests are costlier: a sample of pairs
        assert not nx.vf2pp_is_isomorphic(dgl_to_nx(ds.graphs[i]), dgl_to_nx(ds.graphs[i + 1]))
    for s in ds.splits:  # pairs never straddle parts
        for part in (s.train, s.val, s.test):
            assert len(part) % 2 == 0 and (part[0::2] + 1 == part[1::2]).all()


def _local_invariant(G: nx.Graph) -> tuple:
    """Multiset of WL hashes of vertex neighbourhoods: differs → non-isomorphic."""
    return tuple(sorted(wl(G.subgraph(G[v])) for v in G))


@pytest.mark.data
def test_sr25_graphs_are_srg_25_12_5_6_and_pairwise_non_isomorphic(shared_data, no_network):
    ds = load_dataset("sr25", shared_data)
    assert ds.num_examples == 15 and ds.splits == []
    graphs = [dgl_to_nx(g) for g in ds.graphs]
    for G in graphs:
        a = nx.to_numpy_array(G, dtype=int)
        assert G.number_of_nodes() == 25 and (a.sum(1) == 12).all()
        a2 = a @ a
        adjacent, non = a.astype(bool), ~a.astype(bool) & ~np.eye(25, dtype=bool)
        assert (a2[adjacent] == 5).all() and (a2[non] == 6).all()
    assert len({wl(G) for G in graphs}) == 1  # one 1-WL colour class
    invariants = [_local_invariant(G) for G in graphs]
    for i, j in itertools.combinations(range(15), 2):
        assert invariants[i] != invariants[j] or not nx.vf2pp_is_isomorphic(graphs[i], graphs[j])


@pytest.mark.data
def test_graph8c_has_all_connected_8_node_graphs(shared_data):
    ds = load_dataset("graph8c", shared_data)
    assert ds.num_examples == 11117
    assert all(g.num_nodes() == 8 for g in ds.graphs[:200])
    assert nx.is_connected(dgl_to_nx(ds.graphs[0]))


@pytest.mark.parametrize(("name", "a", "b"), wl_pairs(), ids=[p[0] for p in wl_pairs()])
def test_wl_pairs_are_wl_equivalent_and_non_isomorphic(name, a, b):
    assert wl(a) == wl(b)
    assert not nx.is_isomorphic(a, b)


def test_wl_pairs_dataset():
    ds = load_dataset("wl-pairs")
    assert ds.num_examples == 2 * len(ds.meta["pairs"]) and ds.splits == []


@pytest.mark.data
def test_generated_csl_matches_reference_file_class_by_class(shared_data):
    folder = shared_data / "expressiveness" / "CSL"
    with open(folder / "graphs_Kary_Deterministic_Graphs.pkl", "rb") as f:
        adjs = pickle.load(f)
    y = torch.load(folder / "y_Kary_Deterministic_Graphs.pt", weights_only=False).numpy()
    assert len(adjs) == 150 and np.bincount(y).tolist() == [15] * 10
    ours = load_dataset("csl", seed=0)
    for cls, skip in enumerate(SKIP_LENGTHS):
        gen = dgl_to_nx(csl_graph(41, skip))
        for i in np.flatnonzero(y == cls):
            ref = nx.from_scipy_sparse_array(adjs[i])
            ref.remove_edges_from(nx.selfloop_edges(ref))  # the file sets the diagonal to 1
            assert nx.vf2pp_is_isomorphic(gen, ref)
        for g in np.flatnonzero(ours.labels.numpy() == cls)[:3]:
            assert nx.vf2pp_is_isomorphic(gen, dgl_to_nx(ours.graphs[g]))


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_tree_neighbours_match_label_is_value_of_matching_leaf(depth):
    ds = load_dataset(f"tree-neighbours-match-d{depth}", max_examples=300)
    leaves = 2 ** depth
    assert ds.num_classes == leaves
    for g, y in list(zip(ds.graphs, ds.labels.tolist()))[:100]:
        x = g.ndata["feat"]
        assert g.ndata["target"].nonzero().view(-1).tolist() == [0]
        leaf_keys, leaf_vals = x[-leaves:, 0], x[-leaves:, 1]
        assert sorted(leaf_vals.tolist()) == list(range(1, leaves + 1))
        match = (leaf_keys == x[0, 0]).nonzero().view(-1)
        assert len(match) == 1 and int(leaf_vals[match]) - 1 == y
        # the root is `depth` hops from every leaf
        dist = nx.single_source_shortest_path_length(dgl_to_nx(g), 0)
        assert all(dist[v] == depth for v in range(g.num_nodes() - leaves, g.num_nodes()))
    assert ds.meta["readout"] == "target"


def test_tree_neighbours_match_sizes_and_determinism():
    ds = load_dataset("tree-neighbours-match-d2")
    assert ds.num_examples == 24 * 4  # all 4! permutations × 4 keys
    again = load_dataset("tree-neighbours-match-d3", seed=1, use_cache=False)
    twice = load_dataset("tree-neighbours-match-d3", seed=1, use_cache=False)
    assert torch.equal(again.labels, twice.labels)


@pytest.mark.parametrize("n", [10, 20])
def test_ring_transfer_label_sits_at_source_and_target_is_node_zero(n):
    ds = load_dataset(f"ring-transfer-n{n}", num_graphs=50)
    for g, y in zip(ds.graphs, ds.labels.tolist()):
        x = g.ndata["feat"]
        assert x[n // 2, :5].argmax() == y and x[n // 2, :5].sum() == 1
        assert x[0, 5] == 1 and x[:, :5].sum() == 1  # only the source carries the class
        assert g.ndata["target"].nonzero().view(-1).tolist() == [0]
        assert nx.shortest_path_length(dgl_to_nx(g), 0, n // 2) == n // 2


PATTERNS = {"triangle": (nx.cycle_graph(3), False), "star": (nx.star_graph(3), False),
            "tailed_triangle": (nx.Graph([(0, 1), (1, 2), (2, 0), (0, 3)]), True),
            "chordal_cycle": (nx.Graph([(0, 1), (1, 2), (2, 3), (3, 0), (0, 2)]), True),
            "cycle4": (nx.cycle_graph(4), False)}


def brute_force(G: nx.Graph, name: str) -> int:
    P, induced = PATTERNS[name]
    aut = sum(1 for _ in GraphMatcher(P, P).isomorphisms_iter())
    gm = GraphMatcher(G, P)
    it = gm.subgraph_isomorphisms_iter() if induced else gm.subgraph_monomorphisms_iter()
    return sum(1 for _ in it) // aut


@pytest.mark.data
def test_chen_counting_targets_equal_brute_force_counts(shared_data, no_network):
    ds = load_dataset("counting-chen", shared_data)
    sp = ds.split("official")
    assert ds.num_examples == 5000 and (len(sp.train), len(sp.val), len(sp.test)) == (1500, 1000, 2500)
    for i in range(0, 5000, 125):
        G = dgl_to_nx(ds.graphs[i])
        for t, name in enumerate(ds.meta["targets"]):
            assert ds.labels[i, t] == brute_force(G, name), (i, name)


def test_random_counting_generator_counts_are_exact():
    ds = load_dataset("counting-random", num_graphs=12, min_nodes=8, max_nodes=14)
    for g, y in zip(ds.graphs, ds.labels):
        G = dgl_to_nx(g)
        for t, name in enumerate(ds.meta["targets"]):
            assert y[t] == brute_force(G, name), name
    k5 = nx.to_numpy_array(nx.complete_graph(5), dtype=int)
    c = count_substructures(k5)  # K5: 10 triangles, 20 3-stars, 15 4-cycles, no induced tailed/chordal
    assert (c["triangle"], c["star"], c["cycle4"], c["tailed_triangle"], c["chordal_cycle"]) == (10, 20, 15, 0, 0)
