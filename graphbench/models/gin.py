"""GIN — Xu, Hu, Leskovec, Jegelka, "How Powerful are Graph Neural Networks?", ICLR 2019.

Layer (Eq. 4.1): ``h_v' = MLP((1 + ε) h_v + Σ_{u ∈ N(v)} h_u)``, a 2-layer MLP with batch norm, ε fixed at 0
(GIN-0, the paper's best variant) or learned (``learn_eps``). With edge features the layer is GINE (Hu et al.,
"Strategies for Pre-training GNNs", ICLR 2020): messages are ``ReLU(h_u + e_uv)``. The readout defaults to sum,
as in the paper, because sum is the injective multiset function.

``aggregator`` replaces the sum of Eq. 4.1 by any registered aggregator (``graphbench.nn.aggregators``:
``h_v' = MLP((1 + ε) h_v + AGG({m_uv}))``); the default ``"sum"`` is DGL's ``GINConv`` / ``GINEConv``, exactly the
paper's layer. ``readout`` likewise takes ``sum``/``mean``/``max`` or an aggregator name. ``agg_reg`` is the λ of
the aggregators' regularisers (LCM associativity, GRU/LSTM permutation), which ``regularization_loss()`` returns.
"""

from __future__ import annotations

import dgl
import torch
from dgl.nn import GINConv, GINEConv
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.nn import MLP
from graphbench.nn.aggregators import Aggregator, AggregatorModelMixin, make_aggregator
from graphbench.nn.readout import make_readout
from graphbench.registry import MODELS

HPARAMS = {
    **COMMON_HPARAMS,
    "readout": HParam(str, "sum", "graph readout: sum, mean, max or any registered aggregator"),
    "learn_eps": HParam(bool, False, "learn ε (GIN-ε) instead of fixing it at 0 (GIN-0)"),
    "mlp_layers": HParam(int, 2, "layers of each GIN MLP", low=1),
    "aggregator": HParam(str, "sum", "neighbour aggregator replacing the sum of Eq. 4.1 (a registered aggregator)"),
    "agg_reg": HParam(float, 0.0, "λ of the aggregators' regularisers (LCM, GRU, LSTM)", low=0.0),
}


class AggregatorGINConv(nn.Module):
    """GIN(E) layer with a swappable aggregator: ``h_v' = MLP((1 + ε) h_v + AGG({m_uv : u ∈ N(v)}))`` with
    ``m_uv = h_u``, or ``ReLU(h_u + e_uv)`` when edge features are given. Shapes: ``[n, d] → [n, d_out]``."""

    def __init__(self, mlp: nn.Module, aggregator: Aggregator, *, learn_eps: bool = False) -> None:
        super().__init__()
        self.mlp, self.aggregator = mlp, aggregator
        if learn_eps:
            self.eps = nn.Parameter(torch.zeros(1))
        else:
            self.register_buffer("eps", torch.zeros(1))

    def reset_parameters(self) -> None:
        nn.init.zeros_(self.eps)

    def forward(self, graph: dgl.DGLGraph, h: torch.Tensor, e: torch.Tensor | None = None) -> torch.Tensor:
        if e is None:
            agg = self.aggregator(graph, h)
        else:
            agg = self.aggregator(graph, torch.relu(h[graph.edges()[0]] + e), edge=True)
        return self.mlp((1 + self.eps) * h + agg)


@MODELS.register("gin", hparams=HPARAMS, search_space=COMMON_SEARCH_SPACE, edge_features=True,
                 task_levels=("graph", "node"), paper="Xu et al., ICLR 2019")
class GIN(AggregatorModelMixin, MessagePassingNet):
    """Graph isomorphism network (see module docstring)."""

    uses_edge_features = True

    def __init__(self, in_dim, out_dim, *, learn_eps: bool = False, mlp_layers: int = 2, readout: str = "sum",
                 aggregator: str = "sum", agg_reg: float = 0.0, edge_dim=None, **common) -> None:
        self.learn_eps, self.mlp_layers = learn_eps, mlp_layers
        self.aggregator, self.agg_reg = aggregator, agg_reg
        self._edge = edge_dim is not None and edge_dim != 0 and getattr(edge_dim, "kind", "dense") != "none"
        super().__init__(in_dim, out_dim, readout=readout, edge_dim=edge_dim, **common)
        self.readout_op = make_readout(readout, self.hidden, reg=agg_reg)

    def make_conv(self, layer: int) -> nn.Module:
        mlp = MLP(self.hidden, self.hidden, self.hidden, self.mlp_layers, norm="batch")
        if self.aggregator != "sum":
            agg = make_aggregator(self.aggregator, self.hidden, reg=self.agg_reg)
            return AggregatorGINConv(mlp, agg, learn_eps=self.learn_eps)
        if self._edge:
            return GINEConv(mlp, learn_eps=self.learn_eps)
        return GINConv(mlp, "sum", init_eps=0.0, learn_eps=self.learn_eps)

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        return conv(graph, h, e) if self._edge else conv(graph, h)
