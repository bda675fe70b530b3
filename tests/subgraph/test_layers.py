"""The subgraph-GNN framework: equivariance of pair states, invariance of the output, expressiveness beyond 1-WL."""

from __future__ import annotations

import dgl
import networkx as nx
import pytest
import torch

from graphbench.models.gin import GIN
from graphbench.subgraph.layers import CONFIGS, SubgraphGNN
from graphbench.subgraph.product import batch_product_graphs, build_product_graph


def undirected(edges):
    src = [a for a, b in edges] + [b for a, b in edges]
    dst = [b for a, b in edges] + [a for a, b in edges]
    return torch.tensor(src, dtype=torch.int64), torch.tensor(dst, dtype=torch.int64)


def lift(n, edges, **kw):
    return batch_product_graphs([build_product_graph(n, *undirected(edges), **kw)])


@pytest.mark.parametrize("config", sorted(CONFIGS))
@pytest.mark.parametrize("hops", [None, 2])
def test_node_permutation_permutes_pair_states_and_keeps_output(config, hops):
    torch.manual_seed(0)
    g = nx.gnp_random_graph(8, 0.35, seed=5)
    edges = list(g.edges())
    n = 8
    perm = torch.randperm(n)                                  # old node i becomes node perm[i]
    x = torch.randn(n, 3, dtype=torch.float64)
    xp = torch.empty_like(x)
    xp[perm] = x
    edges_p = [(int(perm[a]), int(perm[b])) for a, b in edges]
    model = SubgraphGNN(3, 2, hidden=8, layers=2, config=config, edge_dim=2).double()
    ea = torch.randn(len(edges), 2, dtype=torch.float64)
    efeat = torch.cat([ea, ea])                               # both directions of an undirected edge
    b, bp = lift(n, edges, hops=hops), lift(n, edges_p, hops=hops)
    h, hp = model.pair_states(x, b, efeat), model.pair_states(xp, bp, efeat)
    pid_p = {(int(u), int(v)): i for i, (u, v) in enumerate(zip(bp.root, bp.node))}
    assert len(pid_p) == b.num_pairs
    idx = torch.tensor([pid_p[(int(perm[u]), int(perm[v]))] for u, v in zip(b.root, b.node)])
    assert torch.allclose(h, hp[idx], atol=1e-10)
    assert h.std() > 1e-3                                     # not a degenerate constant
    assert torch.allclose(model(x, b, efeat), model(xp, bp, efeat), atol=1e-10)


def two_triangles_and_hexagon():
    tri = [(0, 1), (1, 2), (2, 0), (3, 4), (4, 5), (5, 3)]
    hexagon = [(i, (i + 1) % 6) for i in range(6)]
    return tri, hexagon


@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_subgraph_gnn_separates_1wl_equivalent_pair(config):
    # node marking: the initial label histograms agree, only message passing can tell the graphs apart. Both graphs
    # go through one batch in training mode (batch norm centred on the batch, as in training).
    tri, hexagon = two_triangles_and_hexagon()
    x = torch.ones(12, 1, dtype=torch.float64)
    batch = batch_product_graphs([build_product_graph(6, *undirected(e), policy="marking") for e in (tri, hexagon)])
    for seed in range(3):
        torch.manual_seed(seed)
        model = SubgraphGNN(1, 4, hidden=16, layers=3, config=config, num_labels=2).double().train()
        out = model(x, batch)
        assert (out[0] - out[1]).abs().max() > 1e-3, (config, seed)


def test_plain_gin_cannot_separate_the_pair():
    tri, hexagon = two_triangles_and_hexagon()
    x = torch.ones(12, 1, dtype=torch.float64)
    # the shared FeatureEncoder casts dense features to float32, so GIN runs in float32 here; the two rows are
    # still equal to rounding because every node of both 2-regular graphs has the same state in every layer
    both = dgl.batch([dgl.graph(undirected(e), num_nodes=6) for e in (tri, hexagon)])
    for seed in range(3):
        torch.manual_seed(seed)
        gin = GIN(1, 4, hidden=16, layers=3, readout="sum").train()
        out = gin(both, x.float())
        assert torch.allclose(out[0], out[1], atol=1e-6)
    # ... while marked SWL with two layers (the first where triangle and hexagon subgraphs differ) tells them apart
    torch.manual_seed(0)
    model = SubgraphGNN(1, 4, hidden=16, layers=2, config="swl", num_labels=2).double().train()
    out = model(x, batch_product_graphs([build_product_graph(6, *undirected(e), policy="marking")
                                         for e in (tri, hexagon)]))
    assert (out[0] - out[1]).abs().max() > 1e-3


def test_batched_forward_equals_separate_forwards():
    tri, hexagon = two_triangles_and_hexagon()
    torch.manual_seed(1)
    model = SubgraphGNN(1, 3, hidden=8, layers=2, config="gnn_sswl_plus").double().eval()
    x = torch.ones(6, 1, dtype=torch.float64)
    pa, pb = (build_product_graph(6, *undirected(e)) for e in (tri, hexagon))
    both = model(torch.ones(12, 1, dtype=torch.float64), batch_product_graphs([pa, pb]))
    assert torch.allclose(both[0], model(x, batch_product_graphs([pa]))[0], atol=1e-12)
    assert torch.allclose(both[1], model(x, batch_product_graphs([pb]))[0], atol=1e-12)


def test_missing_typed_edges_and_bad_config_are_clear():
    with pytest.raises(ValueError, match="unknown subgraph GNN configuration"):
        SubgraphGNN(1, 1, config="sswl++")
    model = SubgraphGNN(1, 1, hidden=4, layers=1, config="gnn_sswl")
    b = batch_product_graphs([build_product_graph(3, *undirected([(0, 1)]), aggregations=("uL",))])
    with pytest.raises(KeyError, match="vL"):
        model(torch.ones(3, 1), b)
    with pytest.raises(ValueError, match="label embedding"):
        SubgraphGNN(1, 1, hidden=4, layers=1, config="swl", num_labels=3)(
            torch.ones(3, 1), batch_product_graphs([build_product_graph(3, *undirected([(0, 1)]), max_dist=5)]))


def rook_and_shrikhande():
    """srg(16, 6, 2, 2) twins: the 4×4 rook's graph and the Shrikhande graph (Cayley graphs on Z4 × Z4)."""
    def cayley(gens):
        nodes = [(a, b) for a in range(4) for b in range(4)]
        idx = {p: i for i, p in enumerate(nodes)}
        edges = {tuple(sorted((idx[(a, b)], idx[((a + da) % 4, (b + db) % 4)])))
                 for a, b in nodes for da, db in gens}
        return sorted(edges)
    rook = cayley([(0, 1), (0, 2), (0, 3), (1, 0), (2, 0), (3, 0)])
    shrikhande = cayley([(0, 1), (0, 3), (1, 0), (3, 0), (1, 1), (3, 3)])
    return rook, shrikhande


@pytest.mark.parametrize("config", ["gnn_sswl_plus", "sun_like"])
def test_strongly_regular_twins_stay_unseparated(config):
    """All SWL classes are bounded by 2-FWL (paper Thm. 7.1), which cannot tell srg twins apart (cf. SR25)."""
    rook, shrikhande = rook_and_shrikhande()
    assert len(rook) == len(shrikhande) == 48
    assert not nx.is_isomorphic(nx.Graph(rook), nx.Graph(shrikhande))
    x = torch.ones(32, 1, dtype=torch.float64)
    batch = batch_product_graphs([build_product_graph(16, *undirected(e)) for e in (rook, shrikhande)])
    torch.manual_seed(0)
    model = SubgraphGNN(1, 4, hidden=16, layers=3, config=config).double().train()
    out = model(x, batch)
    assert torch.allclose(out[0], out[1], atol=1e-9)
    assert model.pair_states(x, batch).std() > 1e-3
