"""GIN and GraphSAGE take aggregators by name (layers and readout); regularisers reach model.regularization_loss."""

from __future__ import annotations

import dgl
import pytest
import torch
from dgl.nn import GINConv

from graphbench.data import load_dataset
from graphbench.models import build_model
from graphbench.nn.aggregators import Aggregator
from graphbench.nn.readout import READOUTS

ALL = ["sum", "mean", "max", "min", "std", "pna", "gnp", "lcm", "lcm-mlp", "gru", "lstm"]


@pytest.fixture(scope="module")
def batch():
    ds = load_dataset("set-second-min", num_train=16, num_val=2, num_test=2, seed=0)
    idx = ds.splits[0].train
    return dgl.batch([ds.graphs[i] for i in idx]), ds.labels[idx]


@pytest.mark.parametrize("name", ALL)
def test_gin_trains_with_each_aggregator_as_layer_and_readout(name, batch):
    torch.manual_seed(0)
    g, y = batch
    model = build_model("gin", 2, 1, aggregator=name, readout=name, agg_reg=0.1, hidden=8, layers=2)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = torch.nn.functional.l1_loss(model(g, g.ndata["feat"]), y) + model.regularization_loss()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses)))
    layer_aggs = 0 if name == "sum" else 2  # "sum" is DGL's GINConv
    readout_aggs = 0 if name in READOUTS else 1  # sum/mean/max readouts are DGL's segment reductions
    assert sum(isinstance(m, Aggregator) for m in model.modules()) == layer_aggs + readout_aggs


def test_gin_default_is_the_papers_sum_layer():
    model = build_model("gin", 2, 1, hidden=8, layers=2)
    assert all(isinstance(c, GINConv) for c in model.convs) and model.readout_op == "sum"


@pytest.mark.parametrize("name", ["mean", "pool", "lcm", "gnp"])
def test_sage_keeps_dgl_aggregators_and_adds_registered_ones(name, batch):
    g, _ = batch
    model = build_model("sage", 2, 1, aggregator=name, hidden=8, layers=2)
    assert model(g, g.ndata["feat"]).shape == (g.batch_size, 1)


def test_model_regularization_loss_sums_every_aggregators_penalty(batch):
    g, _ = batch
    model = build_model("gin", 2, 1, aggregator="lcm", readout="gru", agg_reg=0.3, hidden=8, layers=2).train()
    model(g, g.ndata["feat"])
    aggs = [m for m in model.modules() if isinstance(m, Aggregator)]
    parts = [a.regularization_loss() for a in aggs]
    assert all(p.item() > 0 for p in parts)
    torch.testing.assert_close(model.regularization_loss(), torch.stack(parts).sum())
    model.eval()
    model(g, g.ndata["feat"])
    assert model.regularization_loss().item() == 0.0


def test_unknown_aggregator_fails_at_build_with_close_matches():
    with pytest.raises(KeyError, match="Did you mean 'lcm'"):
        build_model("gin", 2, 1, aggregator="lcn", hidden=8)
