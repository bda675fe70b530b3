"""The faster computation paths of the baselines compute the same numbers as the DGL calls they replace (issue 22):
the sum / mean readout (an index_add over the batch's node → graph index) and GIN's neighbour sum
(``dgl.ops.copy_u_sum`` instead of ``update_all``), forward and backward, on batches of several graphs with
unsorted edge lists, an empty graph and graphs listed out of size order."""

from __future__ import annotations

import dgl
import pytest
import torch
from dgl.nn import GATConv, GINConv

from graphbench.models import build_model
from graphbench.models.gin import SumGINConv
from graphbench.nn import MLP
from graphbench.transforms.batch import Batch, Collator, segment_pool


def _graphs(seed: int = 0) -> list[dgl.DGLGraph]:
    """Random graphs with shuffled (unsorted) edge lists; the third has no nodes at all."""
    gen = torch.Generator().manual_seed(seed)
    out = []
    for n, m in ((7, 15), (3, 4), (0, 0), (11, 30), (1, 0)):
        src = torch.randint(0, max(n, 1), (m,), generator=gen)
        dst = torch.randint(0, max(n, 1), (m,), generator=gen)
        out.append(dgl.graph((src, dst), num_nodes=n))
    return out


@pytest.mark.parametrize("op", ["sum", "mean"])
def test_segment_pool_equals_dgl_readout_bitwise_with_gradients(op):
    batch = Collator().batch(_graphs())
    h = torch.randn(batch.num_nodes, 5, generator=torch.Generator().manual_seed(1)) * 1e3  # large: rounding shows
    h1, h2 = h.clone().requires_grad_(), h.clone().requires_grad_()
    ours = segment_pool(batch, h1, op)
    with batch.graph.local_scope():
        batch.graph.ndata["x"] = h2
        theirs = dgl.readout_nodes(batch.graph, "x", op=op)
    assert ours.shape == (5, 5)
    assert torch.equal(ours, theirs)
    assert torch.equal(ours[2], torch.zeros(5))  # the empty graph pools to zeros (mean: 0 / max(0, 1))
    weight = torch.randn(5, 5)
    (ours * weight).sum().backward()
    (theirs * weight).sum().backward()
    assert torch.equal(h1.grad, h2.grad)


def test_node_graph_ids_follow_the_batch_order():
    batch = Collator().batch(_graphs())
    assert batch.node_graph_ids().tolist() == [0] * 7 + [1] * 3 + [3] * 11 + [4]
    assert batch.node_graph_ids() is batch.node_graph_ids()  # computed once per batch


def test_segment_pool_refuses_other_reductions():
    batch = Collator().batch(_graphs())
    with pytest.raises(ValueError, match="sum or mean"):
        segment_pool(batch, torch.ones(batch.num_nodes, 2), "max")


@pytest.mark.parametrize("learn_eps,eps", [(False, 0.37), (True, 0.37), (False, 0.0), (True, 0.0)])
def test_sum_gin_conv_equals_dgl_gin_conv(learn_eps, eps):
    """Bitwise DGL's GINConv, forward and backward; a non-zero ε shows a wrong self-term weight, ε = 0 (GIN-0,
    where the layer skips the multiplication by 1 + ε unless ε is learned) that skipping it changes nothing."""
    torch.manual_seed(0)
    mlp = MLP(6, 8, 4, 2, norm="batch")
    ours = SumGINConv(mlp, "sum", init_eps=0.0, learn_eps=learn_eps)
    theirs = GINConv(MLP(6, 8, 4, 2, norm="batch"), "sum", init_eps=0.0, learn_eps=learn_eps)
    assert list(ours.state_dict()) == list(theirs.state_dict())  # same names: checkpoints load either way
    theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():
        ours.eps.fill_(eps)
        theirs.eps.fill_(eps)
    graph = Collator().batch(_graphs(3)).graph
    x = torch.randn(graph.num_nodes(), 6)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out1, out2 = ours(graph, x1), theirs(graph, x2)
    assert torch.equal(out1, out2)
    out1.pow(2).sum().backward()
    out2.pow(2).sum().backward()
    assert torch.equal(x1.grad, x2.grad)
    for (name, p1), p2 in zip(ours.named_parameters(), theirs.parameters()):
        assert torch.equal(p1.grad, p2.grad), name


@pytest.mark.parametrize("readout", ["sum", "mean"])
def test_gin_forward_unchanged_by_the_fast_paths(readout):
    """The whole GIN (all-layer sum readout) gives the numbers of the DGL readout and DGL GINConv it replaced."""
    torch.manual_seed(0)
    model = build_model("gin", 6, 3, hidden=8, layers=3, readout=readout).eval()
    graphs = _graphs(5)
    for g in graphs:
        g.ndata["feat"] = torch.randn(g.num_nodes(), 6)
    batch = Collator().batch(graphs)
    with torch.no_grad():
        ours = model(batch)
        h = model.encode(batch)
        states = [h]
        for conv, norm in zip(model.convs, model.norms):
            agg = GINConv.forward(conv, batch.graph, h)  # DGL's own update_all path
            h = model.activation(norm(agg))
            states.append(h)
        ref = 0
        for lin, s in zip(model.layer_heads, states):
            with batch.graph.local_scope():
                batch.graph.ndata["s"] = s
                ref = ref + lin(dgl.readout_nodes(batch.graph, "s", op=readout))
    assert torch.equal(ours, ref)
    assert isinstance(Batch.from_graph(batch.graph).node_graph_ids(), torch.Tensor)


def test_snapshot_is_an_independent_copy_of_the_state():
    """The trainer's best-state copy (issue 22): later training must not reach it, and loading it restores every
    parameter and buffer (batch-norm running statistics and counters included)."""
    from graphbench.train.trainer import snapshot

    torch.manual_seed(0)
    model = build_model("gin", 6, 3, hidden=8, layers=2)
    graphs = _graphs(2)
    for g in graphs:
        g.ndata["feat"] = torch.randn(g.num_nodes(), 6)
    batch = Collator().batch(graphs)
    model(batch)  # one training-mode pass: batch-norm statistics move
    saved = snapshot(model)
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    assert saved.keys() == reference.keys() and hasattr(saved, "_metadata")
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model(batch).sum().backward()
    opt.step()  # parameters and running statistics change in place
    assert any(not torch.equal(v, reference[k]) for k, v in model.state_dict().items())
    assert all(torch.equal(v, reference[k]) for k, v in saved.items())
    model.load_state_dict(saved)
    assert all(torch.equal(v, reference[k]) for k, v in model.state_dict().items())


def _toy_dataset(num_graphs: int = 24, dim: int = 6, classes: int = 3):
    """Random graphs (unsorted edges, sizes 2-9) with dense features and labels; one fixed split."""
    import numpy as np

    from graphbench.data.base import GraphDataset, Split

    gen = torch.Generator().manual_seed(7)
    graphs = []
    for _ in range(num_graphs):
        n = int(torch.randint(2, 10, (1,), generator=gen))
        g = dgl.graph((torch.randint(0, n, (3 * n,), generator=gen), torch.randint(0, n, (3 * n,), generator=gen)),
                      num_nodes=n)
        g.ndata["feat"] = torch.randn(n, dim, generator=gen)
        graphs.append(g)
    labels = torch.randint(0, classes, (num_graphs,), generator=gen)
    idx = np.arange(num_graphs)
    return GraphDataset("toy", graphs, labels, "graph", "multiclass", "accuracy",
                        [Split("fixed", idx[:16], idx[16:20], idx[20:])], num_classes=classes)


@pytest.mark.parametrize("aggregator,agg_reg,active", [("sum", 0.0, False), ("lcm", 0.0, False),
                                                       ("lcm", 0.3, True)])
def test_trainer_leaves_out_a_regulariser_that_is_always_zero(aggregator, agg_reg, active):
    """GIN without a regularised aggregator (λ = 0 or none) has its zero regularisation term left out of every step
    (``regularizes()``); training gives bitwise the parameters of the loop that adds it, as the trainer did."""
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer

    ds = _toy_dataset()
    cfg = TrainConfig.from_dict({"batch_size": 4, "lr": 0.01, "epochs": 2})
    models, trainers = [], []
    for _ in range(2):
        torch.manual_seed(0)
        models.append(build_model("gin", 6, 3, hidden=8, layers=2, aggregator=aggregator, agg_reg=agg_reg))
        trainers.append(Trainer(models[-1], ds, ds.splits[0], cfg))
    assert models[0].regularizes() is active
    assert (trainers[0]._regularizer is not None) is active
    trainers[1]._regularizer = models[1].regularization_loss  # the term added every step, as before
    for trainer, model in zip(trainers, models):
        trainer._train_loader = trainer._loader(ds.splits[0].train, shuffle=True)
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
        torch.manual_seed(1)
        for epoch in (1, 2):
            trainer._train_epoch(opt, epoch)
    for (name, p0), p1 in zip(models[0].state_dict().items(), models[1].state_dict().values()):
        assert torch.equal(p0, p1), name


@pytest.mark.parametrize("heads,attn_drop,train", [(4, 0.0, False), (3, 0.5, True), (1, 0.0, True)])
def test_ops_gat_conv_equals_dgl_gat_conv(heads, attn_drop, train):
    """GAT's layer through ``dgl.ops`` gives DGL's ``GATConv`` numbers bitwise, outputs and gradients (inputs and
    every parameter), on a batch of several graphs with unsorted edges and self-loops, with attention dropout
    drawing the same mask (same seed before each call)."""
    from graphbench.models.gat import OpsGATConv

    torch.manual_seed(0)
    ours = OpsGATConv(6, 5, heads, attn_drop=attn_drop, allow_zero_in_degree=True)
    theirs = GATConv(6, 5, heads, attn_drop=attn_drop, allow_zero_in_degree=True)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():  # a non-zero bias, so a missing or misplaced bias shows
        ours.bias.normal_()
        theirs.bias.copy_(ours.bias)
    ours.train(train), theirs.train(train)
    graph = dgl.add_self_loop(Collator().batch(_graphs(4)).graph)
    assert not torch.equal(graph.edges()[1], graph.edges()[1].sort().values)  # unsorted destinations
    x = torch.randn(graph.num_nodes(), 6) * 3
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    torch.manual_seed(1)
    out1 = ours(graph, x1)
    torch.manual_seed(1)
    out2 = theirs(graph, x2)
    assert out1.shape == (graph.num_nodes(), heads, 5)
    assert torch.equal(out1, out2)
    weight = torch.randn(out1.shape)
    (out1 * weight).sum().backward()
    (out2 * weight).sum().backward()
    assert torch.equal(x1.grad, x2.grad)
    for (name, p1), p2 in zip(ours.named_parameters(), theirs.parameters()):
        assert torch.equal(p1.grad, p2.grad), name


def test_gat_model_unchanged_by_the_ops_layer():
    """The whole GAT (hidden layers concatenating heads, an output layer averaging them) equals the model run with
    DGL's ``GATConv.forward``, in training mode with attention dropout."""
    torch.manual_seed(0)
    model = build_model("gat", 6, 3, hidden=8, layers=3, heads=2, attn_dropout=0.3, head="none", out_heads=2)
    graphs = _graphs(6)
    for g in graphs:
        g.ndata["feat"] = torch.randn(g.num_nodes(), 6)
    batch = Collator().batch(graphs)
    torch.manual_seed(2)
    ours = model(batch)
    for conv in model.convs:
        conv.forward = GATConv.forward.__get__(conv)
    torch.manual_seed(2)
    theirs = model(Collator().batch(graphs))
    assert torch.equal(ours, theirs)


def test_trainer_examples_fetch_a_batch_at_once():
    """The trainer's dataset hands the loader a batch's examples in one ``__getitems__`` call: the same graphs,
    extras and labels as one ``__getitem__`` per position, in the loader's order; the loader's batches are the
    per-example ones."""
    import numpy as np

    from graphbench.train.trainer import _Examples

    ds = _toy_dataset()
    extras = [{"x": torch.tensor([i])} for i in range(len(ds.graphs))]
    index = np.array([5, 0, 17, 3, 3, 9], dtype=np.int64)
    examples = _Examples(ds.graphs, extras, ds.labels, index)
    positions = [4, 0, 2, 5]
    batch = examples.__getitems__(positions)
    assert batch == [examples[i] for i in positions]
    assert [g is ds.graphs[index[i]] for (g, _, _), i in zip(batch, positions)] == [True] * 4
    assert [int(e["x"]) for _, e, _ in batch] == [3, 5, 17, 9]
    assert [int(y) for _, _, y in batch] == ds.labels[[3, 5, 17, 9]].tolist()
    plain = _Examples(ds.graphs, None, ds.labels, index)
    assert [e for _, e, _ in plain.__getitems__(positions)] == [None] * 4
    loader = torch.utils.data.DataLoader(plain, batch_size=4, collate_fn=lambda samples: samples)
    assert [s for b in loader for s in b] == [plain[i] for i in range(len(index))]


@pytest.mark.parametrize("max_edges", [0, 10 ** 9])
def test_neighbour_sum_paths_equal_dgl_copy_u_sum(monkeypatch, max_edges):
    """Both paths of GIN's neighbour sum (DGL's SpMM, and index_add_ for small batches) give DGL's copy_u_sum bit
    for bit, forward and backward, on a batch whose edge list is unsorted and has repeated edges."""
    import dgl

    from graphbench.models import gin

    monkeypatch.setattr(gin, "INDEX_ADD_MAX_EDGES", max_edges)
    gen = torch.Generator().manual_seed(0)
    parts = [dgl.graph((torch.randint(0, n, (3 * n,), generator=gen), torch.randint(0, n, (3 * n,), generator=gen)),
                       num_nodes=n) for n in (5, 9, 7)]
    graph = dgl.batch(parts)
    x = torch.randn(graph.num_nodes(), 6, generator=gen)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours, theirs = gin.neighbour_sum(graph, x1), dgl.ops.copy_u_sum(graph, x2)
    assert torch.equal(ours, theirs)
    w = torch.randn(ours.shape, generator=gen)
    (ours * w).sum().backward()
    (theirs * w).sum().backward()
    assert torch.equal(x1.grad, x2.grad)
