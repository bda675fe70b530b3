"""GCN — Kipf & Welling, "Semi-Supervised Classification with Graph Convolutional Networks", ICLR 2017.

Layer (Eq. 2 of the paper): ``H' = D̂^{-1/2} Â D̂^{-1/2} H W`` with ``Â = A + I`` (self-loops added by the
backbone) and ``D̂`` its degree matrix; DGL's ``GraphConv(norm="both")``. Edge features are not used. ``bias=false``
drops the layers' bias vectors, as Kipf & Welling's released code builds them (the ``kipf2017`` preset; see
docs/models/baselines.md §GCN). On sparse raw features (``sparse_input``, docs/models/baselines.md §Sparse input
features) the first layer computes ``X W`` as a sparse-dense product after dropout on the stored entries, as
Kipf & Welling's code does.
"""

from __future__ import annotations

import dgl
import torch
from dgl.nn import GraphConv
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, SPARSE_INPUT_HPARAM, MessagePassingNet
from graphbench.registry import MODELS

HPARAMS = {
    **COMMON_HPARAMS,
    "bias": HParam(bool, True, "a bias vector in every convolution (Kipf & Welling's code has none)"),
    "sparse_input": SPARSE_INPUT_HPARAM,
}


@MODELS.register("gcn", hparams=HPARAMS, search_space=COMMON_SEARCH_SPACE, edge_features=False,
                 task_levels=("graph", "node"), paper="Kipf & Welling, ICLR 2017")
class GCN(MessagePassingNet):
    """Graph convolutional network (see module docstring)."""

    self_loops = True

    def __init__(self, in_dim, out_dim, *, bias: bool = True, sparse_input: str = "auto", **common) -> None:
        self.bias = bias
        super().__init__(in_dim, out_dim, sparse_input=sparse_input, **common)
        # Eq. 2's propagation D̂^{-1/2} Â D̂^{-1/2} without a weight: the first layer on sparse features applies it to
        # X W, computed as a sparse-dense product (no parameters; the state dict is unchanged)
        self.propagation = GraphConv(1, 1, norm="both", weight=False, bias=False, allow_zero_in_degree=True)

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        return GraphConv(in_dim, out_dim, norm="both", bias=self.bias, allow_zero_in_degree=True)

    def first_conv_reads_sparse(self) -> bool:
        return True

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        """``conv(graph, h)``; a sparse ``h`` (the sparse input path) is projected first, ``X W`` as a sparse-dense
        product, then propagated: the same ``D̂^{-1/2} Â D̂^{-1/2} X W`` (+ bias) as DGL's dense order
        ``D̂^{-1/2} Â (D̂^{-1/2} X) W``, up to float rounding."""
        if h.layout != torch.sparse_csr:
            return conv(graph, h)
        out = self.propagation(graph, torch.sparse.mm(h, conv.weight))
        return out + conv.bias if conv.bias is not None else out
