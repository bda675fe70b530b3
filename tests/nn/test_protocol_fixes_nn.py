"""Issue 9, points 7-9: GNP's exponent can change sign, regularisers live on the parameters' device, GraphSAGE's
DGL LSTM is named apart from the regularised one."""

from __future__ import annotations

import dgl
import pytest
import torch

from graphbench.hparams import HyperparameterError
from graphbench.models import build_model, model_hparams
from graphbench.nn.aggregators import GNPAggregator, make_aggregator
from graphbench.nn.aggregators.base import AggregatorModelMixin
from graphbench.nn.aggregators.gnp import P_MIN, smooth_p


def _star_batch(sizes: list[int]) -> dgl.DGLGraph:
    """One star per size: leaves 1..n send to centre 0."""
    gs = [dgl.graph((torch.arange(1, n + 1), torch.zeros(n, dtype=torch.int64)), num_nodes=n + 1) for n in sizes]
    return dgl.batch(gs)


def test_gnp_exponent_has_a_gradient_everywhere_and_crosses_zero():
    raw = torch.linspace(-3, 3, 61, requires_grad=True)
    smooth_p(raw).sum().backward()
    assert (raw.grad > 0).all()  # the old clamp had zero gradient for |p| outside [0.1, 50]
    p = smooth_p(torch.tensor([0.05, -0.05, 0.0]))
    assert (p.abs() >= P_MIN).all()  # p = 0 is never used in the forward pass


def test_gnp_p_moves_from_sum_towards_min_on_a_min_task():
    """Target = min of a positive multiset. With q = 1, GNP is the power mean M_p, which decreases in p towards the
    min: p must go from 1 (mean) through 0 (geometric mean) to a large negative value. The old hard clamp stopped
    p at +0.1 with zero gradient."""
    torch.manual_seed(0)
    agg = GNPAggregator(1)
    with torch.no_grad():
        agg.q.fill_(1.0)
    opt = torch.optim.Adam([agg.p_raw], lr=0.2)
    start = float(agg.p[0, 0].detach())
    for _ in range(100):
        sizes = torch.randint(3, 9, (16,)).tolist()
        g = _star_batch(sizes)
        x = torch.rand(g.num_nodes(), 1) * 4 + 0.5
        centres = torch.cumsum(torch.tensor([0] + [n + 1 for n in sizes[:-1]]), 0)
        out = agg(g, x)[centres, 0]
        target = torch.stack([x[c + 1: c + 1 + n, 0].min() for c, n in zip(centres.tolist(), sizes)])
        loss = ((out - target) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert start == pytest.approx(1.0, abs=1e-4)
    p = float(agg.p[0, 0].detach())
    assert p < -2.0, f"p stayed at {p}"


class _Two(AggregatorModelMixin, torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = make_aggregator("gru", 4, reg=0.1)
        self.b = make_aggregator("lstm", 4, reg=0.1)


def test_regularization_loss_is_built_on_the_parameters_device():
    m = _Two().to("meta")
    # no penalty recorded: the zeros are on the model's device, and stacking them works
    assert m.a.regularization_loss().device.type == "meta"
    assert m.regularization_loss().device.type == "meta"
    m.a.add_penalty(torch.ones(3, device="meta"))  # one aggregator with a penalty, one without
    assert m.regularization_loss().device.type == "meta"


def test_sage_lstm_names_are_apart_and_agg_reg_is_never_ignored():
    ours = build_model("sage", 4, 2, aggregator="lstm", agg_reg=0.1)
    conv = ours.convs[0] if hasattr(ours, "convs") else next(m for m in ours.modules()
                                                               if type(m).__name__ == "AggregatorSAGEConv")
    assert any(type(m).__name__ == "LSTMAggregator" for m in ours.modules()), conv
    dgl_lstm = build_model("sage", 4, 2, aggregator="dgl-lstm")
    assert any(type(m).__name__ == "SAGEConv" and m._aggre_type == "lstm" for m in dgl_lstm.modules())
    with pytest.raises(HyperparameterError, match="agg_reg"):
        model_hparams("sage", {"aggregator": "dgl-lstm", "agg_reg": 0.1})
