"""RWSE (sparse = dense), LapPE (eigenvectors, sign flips only while training), shortest paths (∞ clamped)."""

from __future__ import annotations

import dgl
import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.transforms import pe as pe_mod
from graphbench.transforms.pe import laplacian_pe, random_walk_se, shortest_path_distances


def _random_graph(n: int, p: float, seed: int, directed: bool = False) -> dgl.DGLGraph:
    g = nx.gnp_random_graph(n, p, seed=seed, directed=directed)
    edges = np.array(list(g.edges()), dtype=np.int64).reshape(-1, 2)
    src, dst = edges[:, 0], edges[:, 1]
    if not directed:
        src, dst = np.concatenate([src, dst]), np.concatenate([dst, src])
    return dgl.graph((torch.from_numpy(src), torch.from_numpy(dst)), num_nodes=n)


def _brute_rwse(g: dgl.DGLGraph, steps: int) -> torch.Tensor:
    n = g.num_nodes()
    a = torch.zeros(n, n, dtype=torch.float64)
    s, d = g.edges()
    a[s, d] = 1.0
    deg = a.sum(1)
    p = torch.where(deg[:, None] > 0, a / deg.clamp(min=1)[:, None], torch.zeros_like(a))  # row u: step from u
    return torch.stack([torch.linalg.matrix_power(p, k).diagonal() for k in range(1, steps + 1)], 1).float()


@pytest.mark.parametrize("directed", [False, True])
def test_rwse_sparse_blocks_equal_dense_and_brute_force(monkeypatch, directed):
    g = _random_graph(60, 0.08, seed=1, directed=directed)  # has isolated / sink nodes at this density
    dense = random_walk_se(g, 7)
    monkeypatch.setattr(pe_mod, "DENSE_MAX_NODES", 0)
    monkeypatch.setattr(pe_mod, "BLOCK_BYTES", 8 * 60 * 7)  # blocks of 7 columns, the last one partial
    sparse = random_walk_se(g, 7)
    assert torch.allclose(dense, sparse, atol=1e-6)
    assert torch.allclose(dense, _brute_rwse(g, 7), atol=1e-6)


def test_rwse_of_a_cycle_is_known():
    n = 6
    g = dgl.graph((torch.tensor([*range(n), *(((i + 1) % n) for i in range(n))]),
                   torch.tensor([*(((i + 1) % n) for i in range(n)), *range(n)])))
    out = random_walk_se(g, 4)
    assert torch.allclose(out[0], torch.tensor([0.0, 0.5, 0.0, 0.375]))  # C(2,1)/4, C(4,2)/16


def test_rwse_large_sparse_graph_never_builds_n_by_n(monkeypatch):
    """Above the dense threshold only blocks of columns exist: a 30k-node graph with a tiny block budget works
    (an n × n float64 would be 7 GB)."""
    n = 30_000
    ring = dgl.graph((torch.arange(n), (torch.arange(n) + 1) % n))
    ring = dgl.to_bidirected(ring)
    monkeypatch.setattr(pe_mod, "BLOCK_BYTES", 8 * n * 4096)
    out = random_walk_se(ring, 4)
    assert out.shape == (n, 4)
    assert torch.allclose(out[123], torch.tensor([0.0, 0.5, 0.0, 0.375]))


def test_lappe_vectors_are_laplacian_eigenvectors_padded_for_small_graphs():
    g = _random_graph(20, 0.3, seed=3)
    vecs, vals = laplacian_pe(g, 5)
    n = g.num_nodes()
    a = torch.zeros(n, n, dtype=torch.float64)
    s, d = g.edges()
    a[s, d] = 1
    dinv = a.sum(1).clamp(min=1) ** -0.5
    lap = torch.eye(n, dtype=torch.float64) - dinv[:, None] * a * dinv[None, :]
    v = vecs.double()
    assert torch.allclose(lap @ v, v * vals.double()[None, :], atol=1e-4)
    assert torch.allclose(v.T @ v, torch.eye(5, dtype=torch.float64), atol=1e-4)
    assert vals[0] > 1e-6  # the trivial eigenvector (eigenvalue 0) is dropped
    tiny = dgl.graph((torch.tensor([0, 1]), torch.tensor([1, 0])))
    tv, tvals = laplacian_pe(tiny, 4)
    assert tv.shape == (2, 4) and torch.all(tv[:, 1:] == 0) and torch.all(tvals[1:] == 0)


def test_lappe_signs_are_flipped_while_training_and_never_in_evaluation():
    from graphbench.data import load_dataset
    from graphbench.models import build_model
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer
    from graphbench.transforms import resolve_chain
    from graphbench.transforms.apply import prepare

    ds = prepare(load_dataset("csl"), resolve_chain([{"name": "lappe", "k": 4}]), use_cache=False)
    model = build_model("gin", ds.node_features, 10, hidden=8, layers=1, pe_dim=4)
    seen: list[tuple[bool, torch.Tensor, torch.Tensor]] = []
    forward = model.forward

    def spy(batch, *args):
        seen.append((model.training, batch.pe.clone(), batch.graph.ndata["lappe"].clone()))
        return forward(batch, *args)

    model.forward = spy
    Trainer(model, ds, ds.splits[0], TrainConfig(epochs=2, batch_size=8)).fit()
    train = [(p, ref) for t, p, ref in seen if t]
    evals = [(p, ref) for t, p, ref in seen if not t]
    assert train and evals
    assert all(torch.equal(p, ref) for p, ref in evals)
    assert all(torch.allclose(p.abs(), ref.abs()) for p, ref in train)
    flipped = sum(int(((p * ref) < 0).any()) for p, ref in train)
    assert flipped == len(train)  # 8 graphs × 4 columns: some sign flips in every batch


def test_shortest_paths_match_networkx_and_clamp_infinity_before_the_cast():
    g1, g2 = nx.path_graph(4), nx.cycle_graph(3)
    g = nx.disjoint_union(g1, g2)
    dg = dgl.from_networkx(g.to_directed())
    pairs, dist = shortest_path_distances(dg, unreachable=99)
    assert dist.dtype == torch.long and pairs.shape == (2, 49)
    expected = dict(nx.all_pairs_shortest_path_length(g))
    for (u, v), d in zip(pairs.T.tolist(), dist.tolist()):
        assert d == expected[u].get(v, 99)
    assert int((dist == 99).sum()) == 2 * 4 * 3  # cross-component pairs, not a garbage int from inf
    pairs, dist = shortest_path_distances(dg, cutoff=1)
    assert set(dist.tolist()) == {0, 1} and len(dist) == 7 + 2 * g.number_of_edges()


def test_all_pairs_on_a_large_graph_asks_for_a_cutoff():
    n = 3000
    g = dgl.graph((torch.arange(n - 1), torch.arange(1, n)), num_nodes=n)
    with pytest.raises(ValueError, match="cutoff"):
        shortest_path_distances(g)
