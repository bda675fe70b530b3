"""GCN — Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017.

Layer (Eq. 2 of the paper): ``H' = D̂^{-1/2} Â D̂^{-1/2} H W`` with ``Â = A + I`` (self-loops added by the
backbone) and ``D̂`` its degree matrix; DGL's ``GraphConv(norm="both")``. Edge features are not used. ``bias=false``
drops the layers' bias vectors, as Kipf & Welling's released code builds them (the ``kipf2017`` preset; see
docs/models/baselines.md §GCN).
"""

from __future__ import annotations

from dgl.nn import GraphConv
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.registry import MODELS

HPARAMS = {
    **COMMON_HPARAMS,
    "bias": HParam(bool, True, "a bias vector in every convolution (Kipf & Welling's code has none)"),
}


@MODELS.register("gcn", hparams=HPARAMS, search_space=COMMON_SEARCH_SPACE, edge_features=False,
                 task_levels=("graph", "node"), paper="Kipf & Welling, ICLR 2017")
class GCN(MessagePassingNet):
    """Graph convolutional network (see module docstring)."""

    self_loops = True

    def __init__(self, in_dim, out_dim, *, bias: bool = True, **common) -> None:
        self.bias = bias
        super().__init__(in_dim, out_dim, **common)

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        return GraphConv(in_dim, out_dim, norm="both", bias=self.bias, allow_zero_in_degree=True)
