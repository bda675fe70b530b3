"""GIN — Xu, Hu, Leskovec, Jegelka, "How Powerful are Graph Neural Networks?", ICLR 2019.

Layer (Eq. 4.1): ``h_v' = MLP((1 + ε) h_v + Σ_{u ∈ N(v)} h_u)``, a 2-layer MLP with batch norm, ε fixed at 0
(GIN-0, the paper's best variant) or learned (``learn_eps``). With edge features the layer is GINE (Hu et al.,
"Strategies for Pre-training GNNs", ICLR 2020): messages are ``ReLU(h_u + e_uv)``. The readout defaults to sum,
as in the paper, because sum is the injective multiset function.
"""

from __future__ import annotations

import dgl
import torch
from dgl.nn import GINConv, GINEConv
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.nn import MLP
from graphbench.registry import MODELS

HPARAMS = {
    **COMMON_HPARAMS,
    "readout": HParam(str, "sum", "graph readout", choices=COMMON_HPARAMS["readout"].choices),
    "learn_eps": HParam(bool, False, "learn ε (GIN-ε) instead of fixing it at 0 (GIN-0)"),
    "mlp_layers": HParam(int, 2, "layers of each GIN MLP", low=1),
}


@MODELS.register("gin", hparams=HPARAMS, search_space=COMMON_SEARCH_SPACE, edge_features=True,
                 task_levels=("graph", "node"), paper="Xu et al., ICLR 2019")
class GIN(MessagePassingNet):
    """Graph isomorphism network (see module docstring)."""

    uses_edge_features = True

    def __init__(self, in_dim, out_dim, *, learn_eps: bool = False, mlp_layers: int = 2, readout: str = "sum",
                 edge_dim=None, **common) -> None:
        self.learn_eps, self.mlp_layers = learn_eps, mlp_layers
        self._edge = edge_dim is not None and edge_dim != 0 and getattr(edge_dim, "kind", "dense") != "none"
        super().__init__(in_dim, out_dim, readout=readout, edge_dim=edge_dim, **common)

    def make_conv(self, layer: int) -> nn.Module:
        mlp = MLP(self.hidden, self.hidden, self.hidden, self.mlp_layers, norm="batch")
        if self._edge:
            return GINEConv(mlp, learn_eps=self.learn_eps)
        return GINConv(mlp, "sum", init_eps=0.0, learn_eps=self.learn_eps)

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        return conv(graph, h, e) if self._edge else conv(graph, h)
