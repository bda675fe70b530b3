"""GraphSAGE — Hamilton, Ying, Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017.

Layer (Algorithm 1, lines 4-5): ``h_v' = W [h_v ‖ AGG({h_u : u ∈ N(v)})]``, implemented as
``W_self h_v + W_neigh AGG`` (equivalent to the concatenation). ``aggregator`` is one of DGL's ``SAGEConv``
aggregators — ``mean``, ``pool`` (max-pooling after a linear layer + ReLU), ``gcn``, or ``dgl-lstm`` (DGL's LSTM
over the neighbours in edge order, the paper's LSTM aggregator, which has no regulariser) — or any registered
aggregator by name (``graphbench.nn.aggregators``: sum, max, pna, gnp, lcm, gru, ``lstm`` = our LSTM over a
random neighbour order with the permutation regulariser weighted by ``agg_reg``, …). ``agg_reg > 0`` with a DGL
aggregator is refused: it would be silently ignored. ``readout`` takes sum/mean/max or an aggregator name;
``agg_reg`` is the λ of the aggregators' regularisers. Full neighbourhoods are used (no sampling), as is standard
for graph classification benchmarks; the paper's per-layer ℓ2 normalisation is replaced by the backbone's norm layer.

Errica et al.'s GraphSAGE (``sage/errica2020``; docs/models/baselines.md §GraphSAGE): the layers read the raw
features with no norm or activation between them, every layer's states are concatenated and max-pooled, then
Linear → ReLU → Linear. With their max aggregation the code applies one Linear → ReLU, shared by all layers, after
each layer (``fc_max``): ``max_fc=true`` builds it (it acts only while ``aggregator`` is ``max``, so a grid over the
aggregator keeps it on).
"""

from __future__ import annotations

import dgl
import torch
from dgl.nn import SAGEConv
from torch import nn

from graphbench.hparams import HParam, HyperparameterError
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, SPARSE_INPUT_HPARAM, MessagePassingNet
from graphbench.nn.aggregators import Aggregator, AggregatorModelMixin, make_aggregator
from graphbench.nn.readout import make_readout
from graphbench.registry import MODELS

#: our name -> DGL's SAGEConv aggregator_type. "lstm" is the registered, regularised aggregator, not DGL's.
DGL_AGGREGATORS = {"mean": "mean", "pool": "pool", "gcn": "gcn", "dgl-lstm": "lstm"}


def check(hp: dict) -> None:
    if hp["aggregator"] in DGL_AGGREGATORS and hp["agg_reg"] > 0 and hp["readout"] in ("sum", "mean", "max"):
        raise HyperparameterError(f"agg_reg={hp['agg_reg']} has no effect with DGL's {hp['aggregator']!r} "
                                  "aggregator (no regulariser); use a registered aggregator such as 'lstm', 'gru' "
                                  "or 'lcm', or set agg_reg: 0")

HPARAMS = {
    **COMMON_HPARAMS,
    "readout": HParam(str, "mean", "graph readout: sum, mean, max or any registered aggregator"),
    "aggregator": HParam(str, "mean", f"neighbour aggregator: DGL's {'/'.join(DGL_AGGREGATORS)} or a registered "
                                      "aggregator"),
    "agg_reg": HParam(float, 0.0, "λ of the aggregators' regularisers (LCM, GRU, LSTM)", low=0.0),
    "max_fc": HParam(bool, False, "with aggregator=max: one Linear(hidden, hidden) → ReLU, shared by every layer, "
                     "after each layer (Errica et al.'s fc_max); no effect with another aggregator"),
    "sparse_input": SPARSE_INPUT_HPARAM,
}


class AggregatorSAGEConv(nn.Module):
    """``h_v' = W_self h_v + W_neigh AGG({h_u}) + b`` with a registered aggregator. Shapes: ``[n, d] → [n, d_out]``."""

    def __init__(self, dim: int, out_dim: int, aggregator: Aggregator) -> None:
        super().__init__()
        self.aggregator = aggregator
        self.fc_self = nn.Linear(dim, out_dim)
        self.fc_neigh = nn.Linear(dim, out_dim, bias=False)

    def forward(self, graph: dgl.DGLGraph, h: torch.Tensor) -> torch.Tensor:
        return self.fc_self(h) + self.fc_neigh(self.aggregator(graph, h))


@MODELS.register("sage", hparams=HPARAMS, check=check, search_space=COMMON_SEARCH_SPACE, edge_features=False,
                 task_levels=("graph", "node"), paper="Hamilton et al., NeurIPS 2017", aliases=("graphsage",))
class GraphSAGE(AggregatorModelMixin, MessagePassingNet):
    """GraphSAGE (see module docstring)."""

    def __init__(self, in_dim, out_dim, *, aggregator: str = "mean", agg_reg: float = 0.0, readout: str = "mean",
                 max_fc: bool = False, sparse_input: str = "auto", **common) -> None:
        self.aggregator, self.agg_reg = aggregator, agg_reg
        super().__init__(in_dim, out_dim, readout=readout, sparse_input=sparse_input, **common)
        self.readout_op = make_readout(readout, self.hidden, reg=agg_reg)
        self.fc_max = None
        if max_fc and aggregator == "max":
            if any(d != self.hidden for d in self.layer_dims[1:]):
                raise ValueError("max_fc maps every layer's output with one hidden → hidden layer; it needs a head "
                                 "(head=mlp or linear), not head=none")
            self.fc_max = nn.Linear(self.hidden, self.hidden)

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        out = conv(graph, h)
        return out if self.fc_max is None else torch.relu(self.fc_max(out))

    def first_conv_reads_sparse(self) -> bool:
        """DGL's ``SAGEConv`` applies its linear maps to the raw input before aggregating with the ``pool``
        aggregator, and with ``mean`` / ``gcn`` when it narrows the width; then a sparse CSR input becomes
        sparse-dense products."""
        narrows = self.layer_dims[0] > self.layer_dims[1]
        return self.aggregator == "pool" or (self.aggregator in ("mean", "gcn") and narrows)

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        if self.aggregator in DGL_AGGREGATORS:
            return SAGEConv(in_dim, out_dim, DGL_AGGREGATORS[self.aggregator])
        agg = make_aggregator(self.aggregator, in_dim, reg=self.agg_reg)
        return AggregatorSAGEConv(in_dim, out_dim, agg)
