"""The lifted-graph memory guard: exact counts, and a clear error with estimate, budget and remedies."""

from __future__ import annotations

import pytest
import torch

from graphbench.subgraph.guard import LiftedGraphTooLarge, check_lifted_size, estimate_lifted_size
from graphbench.subgraph.product import ATOMIC_AGGREGATIONS, build_product_graph


def test_counts_match_the_built_product_graphs():
    graphs = []
    for n in (4, 7, 5):
        src = torch.arange(n - 1)
        graphs.append((n, torch.cat([src, src + 1]), torch.cat([src + 1, src])))
    est = estimate_lifted_size([(n, len(s)) for n, s, _ in graphs], aggregations=ATOMIC_AGGREGATIONS,
                               hidden=8, layers=2, batch_size=2)
    built = [build_product_graph(n, s, d) for n, s, d in graphs]
    assert est.dataset_pair_nodes == sum(p.num_pairs for p in built)
    assert est.dataset_typed_edges == sum(sum(p.num_typed_edges().values()) for p in built)
    largest = [built[1], built[2]]                                       # the two graphs with most pairs
    assert est.batch_pair_nodes == 49 + 25 and est.batch_max_nodes == 7
    assert est.batch_typed_edges == {a: sum(p.num_typed_edges()[a] for p in largest) for a in ATOMIC_AGGREGATIONS}
    assert est.bytes == est.index_bytes + est.activation_bytes + est.message_bytes > 0


def test_guard_trips_with_estimate_budget_and_remedies(monkeypatch):
    zinc_like = [(38, 80)] * 1000
    est = estimate_lifted_size(zinc_like, aggregations=("uL", "vL", "vv", "vG"), hidden=96, layers=6,
                               batch_size=128)
    with pytest.raises(LiftedGraphTooLarge) as err:
        check_lifted_size(est, budget_gb=0.5)
    msg = str(err.value)
    for part in ("does not fit the memory budget", "GiB > budget 0.50 GiB", "184,832 pair-nodes",
                 "lower batch_size (now 128", "hops=k", "drop the global aggregations ['vG']",
                 "GRAPHBENCH_SUBGRAPH_BUDGET_GB"):
        assert part in msg, part
    assert check_lifted_size(est, budget_gb=1000) is est
    monkeypatch.setenv("GRAPHBENCH_SUBGRAPH_BUDGET_GB", "0.1")
    with pytest.raises(MemoryError):
        check_lifted_size(est)
    small = estimate_lifted_size(zinc_like, hidden=96, layers=6, batch_size=2)
    assert check_lifted_size(small) is small
    monkeypatch.setenv("GRAPHBENCH_SUBGRAPH_BUDGET_GB", "lots")
    with pytest.raises(ValueError, match="not a number"):
        check_lifted_size(small)


@pytest.mark.parametrize("hops", [1, 2, 3])
def test_ego_counts_equal_the_built_ego_product_graph(hops):
    import networkx as nx
    import torch

    from graphbench.subgraph.guard import ego_counts
    from graphbench.subgraph.product import ATOMIC_AGGREGATIONS, build_product_graph

    for g in (nx.path_graph(7), nx.cycle_graph(9), nx.petersen_graph(), nx.barbell_graph(4, 2)):
        d = nx.DiGraph(g)
        src, dst = (torch.tensor(x) for x in zip(*d.edges(), strict=True))
        n = g.number_of_nodes()
        pg = build_product_graph(n, src, dst, hops=hops)
        counts = ego_counts(n, src, dst, hops)
        assert counts["pairs"] == pg.pairs.shape[0]
        assert {a: counts[a] for a in ATOMIC_AGGREGATIONS} == pg.num_typed_edges()


def test_guard_counts_ego_subgraphs_when_hops_is_set():
    import dgl
    import torch

    from graphbench.models.sswl import GNNSSWLPlus
    from graphbench.subgraph.guard import LiftedGraphTooLarge

    class _Data:  # a dataset of long paths: full subgraphs are n², 1-hop ego subgraphs ~3n
        graphs = [dgl.to_bidirected(dgl.graph((torch.arange(199), torch.arange(1, 200)))) for _ in range(32)]

    hp = {"hidden": 64, "layers": 4, "batch_size": 32, "lifted_budget_gb": 0.5}
    with pytest.raises(LiftedGraphTooLarge, match="lifted_budget_gb"):
        GNNSSWLPlus.check_inputs(_Data(), {**hp, "hops": 0})
    GNNSSWLPlus.check_inputs(_Data(), {**hp, "hops": 1})  # fits: ~600 pairs per graph, not 40 000


def test_kl_gnn_and_spen_guards_stop_with_the_estimate_and_the_remedy():
    import dgl
    import torch

    from graphbench.models import model_hparams
    from graphbench.registry import MODELS
    from graphbench.subgraph.guard import LiftedGraphTooLarge

    class _Data:
        graphs = [dgl.to_bidirected(dgl.graph((torch.arange(59), torch.arange(1, 60)))) for _ in range(8)]

    for name, remedy in (("kl-gnn", "lower rate"), ("spen", "lower hops")):
        cls = MODELS.get(name).obj
        hp = model_hparams(name, {"lifted_budget_gb": 1e-4})
        with pytest.raises(LiftedGraphTooLarge, match=f"does not fit the memory budget.*To fit: {remedy}"):
            cls.check_inputs(_Data(), hp)
        cls.check_inputs(_Data(), {**hp, "lifted_budget_gb": 100.0})
