"""GAT — Veličković et al., "Graph Attention Networks", ICLR 2018.

Layer (Eqs. 3-5): ``α_ij = softmax_j(LeakyReLU(aᵀ[W h_i ‖ W h_j]))`` over j ∈ N(i) ∪ {i}, output
``‖_{k=1..K} Σ_j α_ij^k W^k h_j`` (K heads concatenated). Each head has width ``hidden / heads`` so the layer
keeps ``hidden`` channels; ``attn_dropout`` drops attention coefficients as in the paper.
"""

from __future__ import annotations

import dgl
import torch
from dgl.nn import GATConv
from torch import nn

from graphbench.hparams import HParam, HyperparameterError
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.registry import MODELS

HPARAMS = {
    **COMMON_HPARAMS,
    "heads": HParam(int, 4, "attention heads (hidden must be divisible by heads)", low=1),
    "attn_dropout": HParam(float, 0.0, "dropout on attention coefficients", low=0.0, high=0.99),
}


def check(hp: dict) -> None:
    """Cross-parameter constraint, checked before any run starts."""
    if hp["hidden"] % hp["heads"]:
        raise HyperparameterError(f"GAT: hidden ({hp['hidden']}) must be divisible by heads ({hp['heads']}); "
                                  "change one of the two hyperparameters")


@MODELS.register("gat", hparams=HPARAMS, check=check, search_space={**COMMON_SEARCH_SPACE,
                                                       "heads": {"type": "categorical", "choices": [1, 4, 8]}},
                 edge_features=False, task_levels=("graph", "node"), paper="Veličković et al., ICLR 2018")
class GAT(MessagePassingNet):
    """Graph attention network (see module docstring)."""

    self_loops = True

    def __init__(self, in_dim, out_dim, *, heads: int = 4, attn_dropout: float = 0.0, hidden: int = 64,
                 **common) -> None:
        check({"hidden": hidden, "heads": heads})
        self.heads, self.attn_dropout = heads, attn_dropout
        super().__init__(in_dim, out_dim, hidden=hidden, **common)

    def make_conv(self, layer: int) -> nn.Module:
        return GATConv(self.hidden, self.hidden // self.heads, self.heads, attn_drop=self.attn_dropout,
                       allow_zero_in_degree=True)

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        return conv(graph, h).flatten(1)  # concatenate the heads: [n, heads, hidden/heads] -> [n, hidden]
