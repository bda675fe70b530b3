"""PR-MPNN (Qian et al., ICLR 2024): candidate edges, exact k-subset rewiring per graph, gradients reaching the
upstream scorer for every sampler, determinism under a seed, training through the CLI."""

from __future__ import annotations

import dgl
import pandas as pd
import pytest
import torch

from graphbench.cli import main
from graphbench.models import build_model
from graphbench.transforms.batch import Batch, with_inputs
from graphbench.transforms.candidates import edge_candidates_of


def cycle(n: int) -> dgl.DGLGraph:
    src = torch.arange(n)
    return dgl.to_bidirected(dgl.graph((src, (src + 1) % n), num_nodes=n))


def test_candidates_are_the_non_edges_and_the_pool_keeps_the_farthest():
    g = cycle(8)
    allc = edge_candidates_of(g)
    assert allc.shape[1] == 8 * 7 // 2 - 8 and bool((allc[0] < allc[1]).all())
    edges = set(zip(*(t.tolist() for t in g.edges())))
    assert not any((u, v) in edges for u, v in zip(*allc.tolist()))
    far = edge_candidates_of(g, pool=4)  # the 4 antipodal pairs of an 8-cycle, distance 4
    assert sorted(zip(far[0].tolist(), far[1].tolist())) == [(0, 4), (1, 5), (2, 6), (3, 7)]


def _batch(sizes=(6, 9), d=4, seed=0):
    torch.manual_seed(seed)
    g = dgl.batch([cycle(n) for n in sizes])
    return Batch.from_graph(g, torch.randn(g.num_nodes(), d))


@pytest.mark.parametrize("sampler,extra", [("simple", {}), ("gumbel", {}), ("imle", {"imle_beta": 1000.0})])
def test_upstream_scorer_receives_nonzero_gradients(sampler, extra):
    """(I-MLE's gradient is a difference of two top-k sets: it is exactly zero unless β·∂L/∂z moves the top-k, so
    its test uses a large β; SIMPLE's marginals and the relaxed top-k give dense gradients.)"""
    torch.manual_seed(0)
    net = build_model("pr-mpnn", 4, 3, hidden=16, layers=2, add_k=3, del_k=2, priors=2, samples=2, sampler=sampler,
                      **extra)
    net.train()
    out = net(_batch())
    loss = torch.nn.functional.cross_entropy(out, torch.tensor([0, 2]))
    loss.backward()
    for name, mod in (("upstream", net.upstream), ("score_add", net.score_add), ("score_del", net.score_del)):
        grads = [p.grad for p in mod.parameters() if p.grad is not None]
        assert grads and sum(float(g.abs().sum()) for g in grads) > 0, (sampler, name)


def test_each_sample_adds_and_deletes_exactly_k_edges_per_graph():
    torch.manual_seed(0)
    net = build_model("pr-mpnn", 4, 3, hidden=8, layers=1, add_k=3, del_k=2, priors=2, samples=3).train()
    batch = _batch()
    union, w, s = net.rewire(batch, net.encode(batch))
    assert s == 2 * 3 and union.num_nodes() == s * batch.num_nodes
    w = w.detach().reshape(s, -1)
    e0 = batch.graph.num_edges()
    own = with_inputs(batch, net.extras, net.input_transforms({"candidates": 0}))
    cand, group = own["cand_index"], own.graph_ids("cand_index")
    added = w[:, e0:e0 + cand.shape[1]]
    assert torch.equal(w[:, e0:e0 + cand.shape[1]], w[:, e0 + cand.shape[1]:])  # both directions, same weight
    deleted = 1 - w[:, :e0]  # each undirected edge counted in both directions
    egroup = torch.repeat_interleave(torch.arange(2), batch.graph.batch_num_edges())
    for gid in range(2):
        assert torch.equal(added[:, group == gid].sum(1), torch.full((s,), 3.0))
        assert torch.equal(deleted[:, egroup == gid].sum(1), torch.full((s,), 4.0))
    assert set(w.unique().tolist()) <= {0.0, 1.0}


def test_graph_with_fewer_candidates_than_k_adds_all_of_them():
    torch.manual_seed(0)
    net = build_model("pr-mpnn", 4, 3, hidden=8, layers=1, add_k=5, priors=1).eval()
    batch = _batch(sizes=(4,))  # a 4-cycle has 2 non-edges
    union, w, s = net.rewire(batch, net.encode(batch))
    assert float(w[batch.graph.num_edges():].sum()) == 4.0  # 2 pairs × 2 directions


def test_deterministic_under_a_seed_and_top_k_in_evaluation():
    def forward(seed, train):
        batch = _batch()
        torch.manual_seed(123)
        net = build_model("pr-mpnn", 4, 3, hidden=8, layers=2, add_k=3, priors=2).train(train)
        torch.manual_seed(seed)
        return net(batch)

    assert torch.equal(forward(0, True), forward(0, True))
    assert not torch.equal(forward(0, True), forward(1, True))  # training draws depend on the seed
    assert torch.equal(forward(0, False), forward(1, False))  # evaluation: deterministic top-k per prior


def test_pr_mpnn_trains_through_the_cli(tmp_path):
    out = tmp_path / "r.csv"
    assert main(["run", "--model", "pr-mpnn", "--dataset", "csl", "--folds", "0", "--epochs", "2", "--hidden", "16",
                 "--layers", "2", "--set", "add_k=4", "--set", "sampler=imle", "--threads", "1", "--quiet",
                 "--results", str(out)]) == 0
    df = pd.read_csv(out)
    assert df["status"].tolist() == ["ok"] and df["test_metric"].notna().all()


PEPTIDES = ["N[C@@H](Cc1ccccc1)C(=O)N1CCC[C@H]1C(=O)O", "NCC(=O)NCC(=O)NCC(=O)O"]  # issue 19's two peptides


def _unsorted_graph(seed: int = 0) -> dgl.DGLGraph:
    """The two peptides in their bond order (ring-closure bonds last: the edge keys are not sorted) and the first
    one again with its directed edges in a random order: a batch of three graphs (OGB atom / bond features)."""
    pytest.importorskip("rdkit")
    from graphbench.data.molecules import smiles_to_graphs

    graphs, kept, _ = smiles_to_graphs(PEPTIDES, workers=1)
    assert kept == [0, 1]
    gen = torch.Generator().manual_seed(seed)
    src, dst = graphs[0].edges()
    perm = torch.randperm(len(src), generator=gen)
    shuffled = dgl.graph((src[perm], dst[perm]), num_nodes=graphs[0].num_nodes())
    shuffled.ndata["feat"] = graphs[0].ndata["feat"]
    shuffled.edata["feat"] = graphs[0].edata["feat"][perm]
    g = dgl.batch([graphs[0], graphs[1], shuffled])
    keys = (g.edges()[0] * g.num_nodes() + g.edges()[1]).tolist()
    assert keys != sorted(keys)  # the inputs the old sorted-keys lookup got wrong
    return g


def _unsorted_batch(seed: int = 0) -> Batch:
    """:func:`_unsorted_graph` with random dense node features."""
    g = _unsorted_graph(seed)
    return Batch.from_graph(g, torch.randn(g.num_nodes(), 4, generator=torch.Generator().manual_seed(seed)))


@pytest.mark.parametrize("train", [True, False])
def test_deletions_remove_both_directions_on_unsorted_edge_lists(train):
    """Every sampled deletion removes the edge in both directions, exactly ``del_k`` undirected edges per graph and
    sample, whatever the order of the edge list (issue 19: molecules list ring-closure bonds last)."""
    del_k = 3
    batch = _unsorted_batch()
    torch.manual_seed(0)
    net = build_model("pr-mpnn", 4, 2, hidden=16, layers=1, add_k=0, del_k=del_k, priors=2, samples=4).train(train)
    _, w, s = net.rewire(batch, net.encode(batch))
    assert s == (2 * 4 if train else 2)
    g = batch.graph
    w = w.detach().reshape(s, -1)[:, :g.num_edges()]
    src, dst = g.edges()
    gid = torch.repeat_interleave(torch.arange(g.batch_size), g.batch_num_edges())
    for k in range(s):
        removed = {(u, v) for u, v, x in zip(src.tolist(), dst.tolist(), w[k].tolist()) if x == 0.0}
        assert all((v, u) in removed for u, v in removed), k  # both directions
        for i in range(g.batch_size):
            assert int((w[k, gid == i] == 0).sum()) == 2 * del_k, (k, i)
    assert set(w.unique().tolist()) <= {0.0, 1.0}


def test_deletion_item_lookup_matches_a_dictionary_on_a_permuted_multigraph():
    """``undirected_item`` against a plain dictionary of node pairs, on a random multigraph with self-loops, parallel
    edges and one-direction pairs, in a random edge order."""
    from graphbench.models.prmpnn import undirected_item

    gen = torch.Generator().manual_seed(3)
    n = 12
    src, dst = torch.randint(0, n, (60,), generator=gen), torch.randint(0, n, (60,), generator=gen)
    fwd = (src < dst).nonzero().squeeze(1)
    item, found = undirected_item(src, dst, fwd, n)
    first = {}
    for j, e in enumerate(fwd.tolist()):
        first.setdefault((src[e].item(), dst[e].item()), j)
    for j, (u, v) in enumerate(zip(src.tolist(), dst.tolist())):
        pair = (min(u, v), max(u, v))
        assert bool(found[j]) == (u != v and pair in first), j
        if found[j]:
            e = fwd[item[j]]
            assert (src[e].item(), dst[e].item()) == pair


def _reference_run(vals: list[float], max_epochs: int = 1000, min_epochs: int = 250, stop_patience: int = 200,
                   lr: float = 1e-3) -> tuple[int, list[float]]:
    """The reference's loop (PR-MPNN@aa23fa47efff run.py / trainer.py) on a scripted validation AP sequence:
    0-indexed epochs, a counter reset on a strict improvement, stop once it exceeds ``stop_patience`` after epoch
    ``min_epochs``; ReduceLROnPlateau(max, 0.5, 50, absolute threshold, floor 1e-5) stepped on the validation
    metric. Returns (epochs run, lr of every epoch before its step)."""
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="max", factor=0.5, patience=50,
                                                       threshold_mode="abs", cooldown=0, min_lr=1e-5)
    best, patience, lrs = None, 0, []
    for epoch in range(max_epochs):
        val = vals[epoch]
        lrs.append(opt.param_groups[0]["lr"])
        sched.step(val)
        if best is None or val > best:
            best, patience, stop = val, 0, False
        else:
            patience += 1
            stop = patience > stop_patience
        if epoch > min_epochs and stop:
            return epoch + 1, lrs
    return max_epochs, lrs


@pytest.mark.parametrize("best_at", [10, 100, 400])
def test_qian2024_schedule_stops_and_decays_as_the_reference(monkeypatch, best_at):
    """The preset's trainer options reproduce the reference's early stopping (patience 200 counted the reference's
    way, never before epoch 250) and plateau halving on the validation AP, on scripted validation curves."""
    from graphbench.data import load_dataset
    from graphbench.presets import get_preset
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer

    preset = get_preset("pr-mpnn", "qian2024")
    cfg = TrainConfig(**{k: v for k, v in preset.hparams.items() if k in TrainConfig.__dataclass_fields__})
    vals = [0.1 + 0.001 * min(e, best_at) for e in range(1, 1001)]  # improves until `best_at`, flat afterwards
    ds = load_dataset("csl")
    model = build_model("gcn", ds.node_features, 10, hidden=4, layers=1)
    trainer = Trainer(model, ds, ds.splits[0], cfg)
    script = iter(vals)
    monkeypatch.setattr(trainer, "_train_epoch", lambda opt, epoch: 1.0)
    monkeypatch.setattr(trainer, "evaluate_with_loss", lambda index: (next(script), 1.0))
    res = trainer.fit()
    ref_epochs, ref_lrs = _reference_run(vals)
    assert res.epochs == ref_epochs and res.best_epoch == best_at
    assert [h["lr"] for h in res.history] == pytest.approx(ref_lrs[:ref_epochs])


def test_weighted_gine_matches_a_loop_over_directed_edges():
    """WeightedGINE on a directed multigraph in random edge order: MLP((1 + ε) h_v + Σ_{u→v} w · act(h_u + e))."""
    from graphbench.models.prmpnn import WeightedGINE

    gen = torch.Generator().manual_seed(1)
    src, dst = torch.randint(0, 7, (20,), generator=gen), torch.randint(0, 7, (20,), generator=gen)
    g = dgl.graph((src, dst), num_nodes=7)
    h, e, w = torch.randn(7, 5, generator=gen), torch.randn(20, 5, generator=gen), torch.rand(20, generator=gen)
    conv = WeightedGINE(5, 6, 3, "gelu")
    with torch.no_grad():
        conv.eps.fill_(0.3)
        agg = torch.zeros(7, 5)
        for j in range(20):
            agg[dst[j]] += w[j] * torch.nn.functional.gelu(h[src[j]] + e[j])
        assert torch.allclose(conv(g, h, e, w), conv.mlp(1.3 * h + agg), atol=1e-6)
        plain = torch.zeros(7, 5).index_add_(0, dst, h[src])
        assert torch.allclose(conv(g, h), conv.mlp(1.3 * h + plain), atol=1e-6)


def test_bond_features_reach_both_networks_and_added_edges_get_the_zero_row_embedding():
    """With edge features (the peptides' bond features) both networks are GINE; in every sampled graph the input
    edges carry their own bond embedding and the added edges the embedding of the all-zero feature row."""
    from graphbench.data.molecules import atom_spec, bond_spec

    g = _unsorted_graph()
    batch = Batch.from_graph(g)
    torch.manual_seed(0)
    net = build_model("pr-mpnn", atom_spec(), 2, edge_dim=bond_spec(), hidden=8, layers=1, add_k=3, del_k=2,
                      priors=2, samples=2).train()
    assert net.bond_encoder is not None and net.up_bond_encoder is not None
    union, w, s = net.rewire(batch, net.encode(batch))
    e = net.union_bond_embeddings(batch, union, s).reshape(s, -1, 8)
    m = g.num_edges()
    own = net.bond_encoder(batch.efeat, m)
    zero = net.bond_encoder(torch.zeros(1, batch.efeat.shape[1], dtype=torch.long), 1)
    for k in range(s):
        assert torch.equal(e[k, :m], own) and torch.equal(e[k, m:], zero.expand(e.shape[1] - m, -1))
    out = net(batch)
    out.sum().backward()
    for mod in (net.bond_encoder, net.up_bond_encoder):
        assert sum(float(p.grad.abs().sum()) for p in mod.parameters() if p.grad is not None) > 0


def test_qian2024_network_has_the_reference_layout_at_peptides_func_dimensions():
    """The preset's network holds exactly the parameters of the reference's modules that its forward pass uses
    (counted from chendiqian/PR-MPNN@aa23fa47efff at Peptides-func's dimensions, docs/models/prmpnn.md §6: 2,054,324
    in all, the original-graph branch included: its 4 GINE layers 133,124 and intra-graph MLP 50,304, the final MLP's
    256-wide input; 41,032 + 18,760 in the two input encoders), and the encoding parts follow the run's chain."""
    from graphbench.data.molecules import atom_spec, bond_spec
    from graphbench.models import count_parameters
    from graphbench.presets import get_preset
    from graphbench.train.config import TRAIN_HPARAMS
    from graphbench.transforms.apply import chain_outputs
    from graphbench.transforms.base import Node
    from graphbench.transforms.config import run_steps

    hp = {k: v for k, v in get_preset("pr-mpnn", "qian2024").hparams.items() if k not in TRAIN_HPARAMS}
    net = build_model("pr-mpnn", atom_spec(), 10, edge_dim=bond_spec(), pe_dim=4 + 20, **hp)
    assert (count_parameters(net.up_encoder), count_parameters(net.encoder)) == (41_032, 18_760)
    assert count_parameters(net.original_convs) + count_parameters(net.original_norms) == 133_124
    assert count_parameters(net.original_intra) == count_parameters(net.intra) == 50_304
    assert net.head.linears[0].in_features == 256 and count_parameters(net.head) == 34_442
    assert count_parameters(net) == 2_054_324 == get_preset("pr-mpnn", "qian2024").params
    preset = get_preset("pr-mpnn", "qian2024").hparams
    steps = run_steps("pr-mpnn", hp, preset)
    pe = [(k, s.kwargs()) for s in steps for k, o in s.info.outputs.items() if isinstance(o, Node) and o.role == "pe"]
    assert [(k, kw.get("k", kw.get("steps"))) for k, kw in pe] == [("lappe", 4), ("rwse", 20)]  # pe_parts' order
    keys = list(chain_outputs(steps))
    assert keys.index("lappe") < keys.index("rwse")


def test_concat_pe_encoder_and_xavier_tables():
    """ConcatPEEncoder = [Emb(x) ‖ MLP(p_1) ‖ MLP(BN(p_2))] on the right columns; xavier_embeddings re-initialises
    every embedding table (also after reset_parameters), bounded by the Xavier-uniform limit."""
    from graphbench.data.base import FeatureSpec
    from graphbench.models.prmpnn import ConcatPEEncoder, parse_pe_parts

    assert parse_pe_parts("4, 20:batch") == [(4, False), (20, True)]
    with pytest.raises(ValueError):
        parse_pe_parts("4:layer")
    spec = FeatureSpec("categorical", cardinalities=(7, 3))
    enc = ConcatPEEncoder(spec, 40, parse_pe_parts("2,3:batch"), 8).eval()
    feat, pe = torch.tensor([[1, 2], [6, 0], [3, 1]]), torch.randn(3, 5)
    out = enc(feat, 3, pe)
    assert out.shape == (3, 40)
    assert torch.equal(out[:, :24], enc.features(feat, 3))
    assert torch.allclose(out[:, 24:32], enc.mlps[0](pe[:, :2]))
    assert torch.allclose(out[:, 32:], enc.mlps[1](enc.norms[1](pe[:, 2:])))
    with pytest.raises(ValueError):
        enc(feat, 3, pe[:, :4])
    torch.manual_seed(0)
    net = build_model("pr-mpnn", FeatureSpec("categorical", cardinalities=(300,)), 2, hidden=64, xavier_embeddings=True)
    net.reset_parameters()
    tables = [m.weight for m in net.modules() if isinstance(m, torch.nn.Embedding)]
    assert len(tables) == 2 and all(float(t.detach().abs().max()) <= (6 / (300 + 64)) ** 0.5 for t in tables)


def test_prior_kl_penalty_equals_the_pairwise_sum_and_reaches_the_loss():
    """The O(N·E) form equals the reference's pairwise definition (all item pairs i < j, KL both ways, mean over
    rows and pairs, negated); with kl_weight the trainer's regularisation hook returns it after a training forward
    pass, with gradients to the upstream scorer, and nothing in evaluation."""
    from graphbench.models.prmpnn import prior_kl_penalty

    z = torch.randn(3, 7, 4, generator=torch.Generator().manual_seed(2))
    logq = torch.log_softmax(z, -1)
    i, j = torch.triu_indices(7, 7, offset=1)
    a, b = logq[:, i], logq[:, j]
    pairwise = (b.exp() * (b - a)).sum(-1).mean() + (a.exp() * (a - b)).sum(-1).mean()
    assert torch.allclose(prior_kl_penalty(z), -pairwise, atol=1e-6)
    assert float(prior_kl_penalty(z[..., :1])) == 0.0

    torch.manual_seed(0)
    net = build_model("pr-mpnn", 4, 3, hidden=8, layers=1, add_k=3, del_k=2, priors=3, samples=2, kl_weight=0.5)
    net.train()(_batch())
    reg = net.regularization_loss()
    assert float(reg) < 0 and reg.requires_grad
    reg.backward()
    assert float(net.score_add.linears[0].weight.grad.abs().sum()) > 0
    net.eval()(_batch())
    assert float(net.regularization_loss()) == 0.0


def test_marginal_add_weights_are_the_exact_marginals_in_training_and_on_the_top_k_in_evaluation():
    """add_weight='marginal' (the reference at aa23fa47efff): every candidate carries μ while training (μ sums to k
    per graph and prior), and μ on the top-k items in evaluation (k nonzero weights, each below 1)."""
    torch.manual_seed(0)
    net = build_model("pr-mpnn", 4, 3, hidden=8, layers=1, add_k=3, priors=2, samples=2, add_weight="marginal")
    batch = _batch()
    own = with_inputs(batch, net.extras, net.input_transforms({"candidates": 0}))
    group = own.graph_ids("cand_index")
    e0, c = batch.graph.num_edges(), own["cand_index"].shape[1]
    for train in (True, False):
        net.train(train)
        _, w, s = net.rewire(batch, net.encode(batch))
        added = w.detach().reshape(s, -1)[:, e0:e0 + c]
        for gid in range(2):
            part = added[:, group == gid]
            if train:
                assert torch.allclose(part.sum(1), torch.full((s,), 3.0), atol=1e-5)
                assert bool((part > 0).all()) and bool((part < 1).all())
            else:
                assert ((part > 0).sum(1) == 3).all() and bool((part < 1).all()) and bool((part.sum(1) < 3).all())


@pytest.mark.parametrize("add_weight", ["sample", "marginal"])
def test_evaluation_without_the_zero_weight_edges_gives_the_same_outputs(add_weight):
    """Evaluation under no_grad drops the union graph's zero-weight edges (unsampled candidates, deleted edges) before
    the downstream layers: far fewer messages, and exactly the outputs of the full union graph (the old computation,
    which a forward pass with gradients enabled still runs), with and without bond features."""
    from graphbench.data.molecules import atom_spec, bond_spec

    cases = ((Batch.from_graph(_unsorted_graph()), {"edge_dim": bond_spec()}), (_batch(sizes=(7, 10, 12)), {}))
    for batch, kw in cases:
        torch.manual_seed(0)
        in_dim = atom_spec() if kw else 4
        net = build_model("pr-mpnn", in_dim, 3, hidden=8, layers=2, add_k=3, del_k=2, priors=2,
                          add_weight=add_weight, **kw).eval()
        union, w, s = net.rewire(batch, net.encode(batch))
        e = net.union_bond_embeddings(batch, union, s)
        sub, e_sub, w_sub = net.drop_unweighted(union, e, w.detach())
        assert 0 < sub.num_edges() < union.num_edges() and bool((w_sub != 0).all())
        assert sub.num_edges() == int((w != 0).sum())
        full = net(batch)  # gradients enabled: every edge of the union graph
        with torch.no_grad():
            sparse = net(batch)
        assert torch.equal(full.detach(), sparse)


def _candidates_by_dense_bfs(graph: dgl.DGLGraph, pool: int) -> torch.Tensor:
    """The candidate pool as the transform computed it before (graphbench's own BFS over the bidirected graph)."""
    import numpy as np

    from graphbench.transforms.pe import shortest_path_distances

    n = graph.num_nodes()
    src, dst = (t.numpy() for t in graph.edges())
    adj = np.zeros((n, n), dtype=bool)
    adj[src, dst] = adj[dst, src] = True
    u, v = np.triu_indices(n, k=1)
    keep = ~adj[u, v]
    u, v = u[keep], v[keep]
    sym = dgl.to_bidirected(dgl.graph((torch.from_numpy(src), torch.from_numpy(dst)), num_nodes=n))
    _, dist = shortest_path_distances(sym, unreachable=-1)
    d = dist.numpy().reshape(n, n)[u, v].astype(np.int64)
    d = np.where(d < 0, d.max(initial=0) + 1, d)
    order = np.sort(np.lexsort((v, u, -d))[:pool])
    return torch.from_numpy(np.stack([u[order], v[order]])).long()


@pytest.mark.parametrize("seed", range(4))
def test_candidate_pool_from_scipy_distances_equals_the_bfs_one(seed):
    """The farthest-pairs pool from scipy's breadth-first search (the reference's distances) is the pool of the
    former dense BFS, on graphs with unsorted, one-directional and parallel edges, self-loops and several
    components (unreachable pairs first), and on a peptide."""
    gen = torch.Generator().manual_seed(seed)
    n = 30 + seed
    src = torch.randint(0, n - 6, (40,), generator=gen)
    dst = torch.randint(0, n - 6, (40,), generator=gen)
    src = torch.cat([src, torch.tensor([n - 5, n - 4, n - 3, 2])])  # a second component, a self-loop
    dst = torch.cat([dst, torch.tensor([n - 4, n - 3, n - 2, 2])])
    g = dgl.graph((src, dst), num_nodes=n)  # node n - 1 isolated
    for pool in (5, 17, 60):
        assert torch.equal(edge_candidates_of(g, pool), _candidates_by_dense_bfs(g, pool))
    pep = _unsorted_graph(seed)
    for pool in (50, 350):
        assert torch.equal(edge_candidates_of(pep, pool), _candidates_by_dense_bfs(pep, pool))


def _two_regular(split: bool) -> dgl.DGLGraph:
    """8 nodes, 16 directed edges: one 8-cycle, or two 4-cycles."""
    if not split:
        return cycle(8)
    return dgl.batch([cycle(4), cycle(4)])


@pytest.mark.parametrize("original_graph", [True, False])
def test_original_graph_branch_reads_the_input_graph_with_the_rewired_graphs_held_fixed(monkeypatch, original_graph):
    """With the rewired graphs held fixed (``rewire`` returns the sampled graphs of an 8-cycle), the prediction
    still depends on the input graph through the original-graph branch (the reference's GNN_Duo at aa23fa47efff):
    an 8-cycle and two 4-cycles (same node features, same number of edges) give different outputs; without the
    branch they give the same one. The branch's own weights reach the output and receive gradients."""
    feat = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    a, b = (Batch.from_graph(dgl.graph(_two_regular(split).edges(), num_nodes=8), feat) for split in (False, True))
    torch.manual_seed(0)
    net = build_model("pr-mpnn", 4, 3, hidden=8, layers=2, add_k=3, del_k=2, priors=2, head_layers=3,
                      original_graph=original_graph, intergraph_layers=2).eval()
    with torch.no_grad():
        fixed = net.rewire(a, net.encode(a))
    monkeypatch.setattr(net, "rewire", lambda batch, h: fixed)
    with torch.no_grad():
        out_a, out_b = net(a), net(b)
    if not original_graph:
        assert not hasattr(net, "original_convs") and torch.equal(out_a, out_b)
        return
    assert not torch.allclose(out_a, out_b, atol=1e-4)
    net(a).sum().backward()
    assert all(p.grad is not None and float(p.grad.abs().sum()) > 0 for p in net.original_convs.parameters())
    with torch.no_grad():
        net.original_convs[-1].mlp[-1].bias.add_(1.0)
        assert not torch.allclose(net(a), out_a, atol=1e-4)


def test_original_graph_batch_of_unsorted_graphs_equals_each_graph_alone():
    """Evaluation with the original-graph branch and bond features: a batch of the two peptides and the first one
    again with its edges permuted gives, row by row, the prediction of each graph run alone (and the permuted copy
    the first one's), after a few training steps have moved the BatchNorm statistics."""
    from graphbench.data.molecules import atom_spec, bond_spec

    g = _unsorted_graph()
    batch = Batch.from_graph(g)
    torch.manual_seed(0)
    net = build_model("pr-mpnn", atom_spec(), 3, edge_dim=bond_spec(), hidden=16, layers=2, up_layers=2, add_k=4,
                      del_k=2, priors=2, head_layers=3, original_graph=True, intergraph_layers=1, dropout=0.1)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(3):
        opt.zero_grad()
        net.train()(batch).pow(2).mean().backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        together = net(batch)
        alone = torch.cat([net(Batch.from_graph(one)) for one in dgl.unbatch(g)])
    assert together.shape == (3, 3)
    assert torch.allclose(together, alone, atol=1e-5)
    assert torch.allclose(together[0], together[2], atol=1e-5)


def test_original_graph_needs_a_graph_task_head_and_the_tu_preset_leaves_it_out():
    """original_graph splits head_layers into intra- and inter-graph MLPs, so it needs a graph task with head_layers
    >= intergraph_layers; the TU preset (backup branch, include_original_graph false: its construct step hands
    GNN_Duo no original graph) builds no branch."""
    from graphbench.models import count_parameters
    from graphbench.preset_counts import build_preset_model
    from graphbench.presets import get_preset

    bad = ({"head_layers": 0}, {"head_layers": 1, "intergraph_layers": 2}, {"head_layers": 3, "task_level": "node"})
    for kw in bad:
        with pytest.raises(ValueError, match="original_graph"):
            build_model("pr-mpnn", 4, 3, hidden=8, layers=2, original_graph=True, **kw)
    tu = get_preset("pr-mpnn", "qian2024-tu")
    net = build_preset_model(tu, "proteins")
    assert tu.hparams["original_graph"] is False and not hasattr(net, "original_convs")
    assert count_parameters(net) == 34_292
