"""The sparse input path (issue 22.2): input dropout on the non-zero entries of a sparse feature matrix and the
first layer's linear map as a sparse-dense product give the dense path's outputs for the same dropout mask, and the
path is taken exactly where ``sparse_input`` (auto: density under 10 %) says."""

from __future__ import annotations

import dgl
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import graphbench.models.base as base
from graphbench.hparams import HyperparameterError
from graphbench.models import build_model
from graphbench.presets import get_preset
from graphbench.train.runner import resolve_hparams
from graphbench.transforms.batch import Batch

N, D = 60, 50


def _features(density: float, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(N, D, generator=gen)
    return x * (torch.rand(N, D, generator=gen) < density)


def _graph(feat: torch.Tensor) -> dgl.DGLGraph:
    """A random graph with a shuffled (unsorted) edge list, made symmetric; a node without edges included."""
    gen = torch.Generator().manual_seed(1)
    src, dst = torch.randint(0, N - 1, (200,), generator=gen), torch.randint(0, N - 1, (200,), generator=gen)
    g = dgl.graph((torch.cat([src, dst]), torch.cat([dst, src])), num_nodes=N)
    perm = torch.randperm(g.num_edges(), generator=gen)
    g = dgl.graph((g.edges()[0][perm], g.edges()[1][perm]), num_nodes=N)
    g.ndata["feat"] = feat
    return g


def test_sparse_dropout_is_dense_dropout_on_the_stored_entries_for_the_same_mask():
    x = _features(0.05)
    torch.manual_seed(3)
    dense = F.dropout(x, 0.5, training=True)
    torch.manual_seed(3)
    mask = torch.empty_like(x).bernoulli_(0.5)
    assert torch.equal(dense, x * (mask / 0.5))  # torch's dense dropout: x · (bernoulli(1 - p) / (1 - p))
    csr = x.to_sparse_csr()
    rows, cols = x.nonzero().unbind(1)  # CSR stores the entries row by row, as nonzero() lists them
    ours = base.sparse_dropout(csr, 0.5, True, keep=mask[rows, cols])
    assert torch.equal(ours.to_dense(), dense)
    assert base.sparse_dropout(csr, 0.5, False) is csr  # evaluation: no dropout


def test_sparse_dropout_keeps_each_entry_with_probability_one_minus_p():
    x = torch.ones(400, 500).to_sparse_csr()
    torch.manual_seed(0)
    out = base.sparse_dropout(x, 0.6, True).values()
    assert torch.equal(out.unique(), torch.tensor([0.0, 1 / 0.4]))
    assert abs((out > 0).float().mean().item() - 0.4) < 0.005  # 200k draws: the standard error is 0.0011
    assert abs(out.mean().item() - 1.0) < 0.015  # unbiased, as dense dropout


class _FixedDropout(nn.Module):
    """Dense dropout with a given mask (torch's formula), so both paths can drop the same entries."""

    def __init__(self, mask: torch.Tensor, p: float) -> None:
        super().__init__()
        self.mask, self.p = mask, p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.mask / (1 - self.p)) if self.training else x


def _pair(model: str, sparse: str, **hp) -> nn.Module:
    torch.manual_seed(0)
    common = dict(encoder=False, head="none", norm="none", residual=False, layers=2, input_dropout=0.5,
                  dropout=0.0, task_level="node")
    if model == "gat":
        common.update(hidden=16, heads=4)
    else:
        common.update(hidden=8)
    return build_model(model, D, 3, sparse_input=sparse, **{**common, **hp})


@pytest.mark.parametrize("model,hp", [("gcn", {}), ("gcn", {"bias": False}), ("gat", {}),
                                      ("sage", {"aggregator": "mean"}), ("sage", {"aggregator": "pool"}),
                                      ("sage", {"aggregator": "gcn"})])
def test_sparse_path_gives_the_dense_outputs_and_gradients_for_the_same_mask(model, hp, monkeypatch):
    feat = _features(0.05)
    graph = _graph(feat)
    dense, sparse = _pair(model, "false", **hp), _pair(model, "true", **hp)
    sparse.load_state_dict(dense.state_dict())
    # evaluation: no dropout, the same outputs (float rounding: X W is summed in another order)
    dense.eval()
    sparse.eval()
    with torch.no_grad():
        assert torch.allclose(sparse(Batch.from_graph(graph)), dense(Batch.from_graph(graph)), rtol=1e-5, atol=1e-6)
    # training with one constructed mask: dense dropout on the matrix, sparse dropout on its stored entries
    mask = torch.empty(N, D).bernoulli_(0.5, generator=torch.Generator().manual_seed(7))
    rows, cols = feat.nonzero().unbind(1)
    dense.input_dropout = _FixedDropout(mask, 0.5)
    real = base.sparse_dropout
    monkeypatch.setattr(base, "sparse_dropout", lambda x, p, training: real(x, p, training, keep=mask[rows, cols]))
    dense.train()
    sparse.train()
    batch = Batch.from_graph(graph)
    assert sparse.sparse_features(batch) is not None and dense.sparse_features(batch) is None
    out_s, out_d = sparse(batch), dense(Batch.from_graph(graph))
    assert torch.allclose(out_s, out_d, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(out_d, dense.eval()(Batch.from_graph(graph)), atol=1e-3)  # the mask did act
    weight = torch.randn_like(out_s)
    (out_s * weight).sum().backward()
    (out_d * weight).sum().backward()
    for (name, p_s), p_d in zip(sparse.named_parameters(), dense.parameters()):
        assert torch.allclose(p_s.grad, p_d.grad, rtol=1e-4, atol=1e-6), name


def test_auto_takes_the_sparse_path_below_ten_percent_density():
    model = _pair("gcn", "auto")
    assert model.sparse_features(Batch.from_graph(_graph(_features(0.05)))) is not None
    assert model.sparse_features(Batch.from_graph(_graph(_features(0.5)))) is None
    assert _pair("gcn", "true").sparse_features(Batch.from_graph(_graph(_features(0.5)))) is not None
    assert _pair("gcn", "false").sparse_features(Batch.from_graph(_graph(_features(0.05)))) is None


def test_sparse_input_true_is_refused_where_the_path_cannot_apply():
    with pytest.raises(ValueError, match="sparse_input=true"):
        _pair("gcn", "true", encoder=True)
    with pytest.raises(ValueError, match="sparse_input=true"):
        _pair("sage", "true", aggregator="max")
    with pytest.raises(HyperparameterError):
        build_model("gin", D, 3, sparse_input="true")  # GIN's first step is a sum, not a linear map: no such option
    with pytest.raises(HyperparameterError):
        build_model("gcn", D, 3, sparse_input="yes")


@pytest.mark.parametrize("model,preset", [("gcn", "kipf2017"), ("gat", "velickovic2018"),
                                          ("gat", "velickovic2018-pubmed")])
def test_planetoid_presets_take_the_sparse_path(model, preset):
    model_hp, _ = resolve_hparams(model, dict(get_preset(model, preset).hparams))
    net = build_model(model, D, 7, task_level="node", **model_hp)
    assert net.sparse_input == "auto" and net.sparse_features(Batch.from_graph(_graph(_features(0.02)))) is not None
