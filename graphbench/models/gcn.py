"""GCN — Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017.

Layer (Eq. 2 of the paper): ``H' = D̂^{-1/2} Â D̂^{-1/2} H W`` with ``Â = A + I`` (self-loops added by the
backbone) and ``D̂`` its degree matrix; DGL's ``GraphConv(norm="both")``. Edge features are not used.
"""

from __future__ import annotations

from dgl.nn import GraphConv
from torch import nn

from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.registry import MODELS


@MODELS.register("gcn", hparams=COMMON_HPARAMS, search_space=COMMON_SEARCH_SPACE, edge_features=False,
                 task_levels=("graph", "node"), paper="Kipf & Welling, ICLR 2017")
class GCN(MessagePassingNet):
    """Graph convolutional network (see module docstring)."""

    self_loops = True

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        return GraphConv(in_dim, out_dim, norm="both", allow_zero_in_degree=True)
