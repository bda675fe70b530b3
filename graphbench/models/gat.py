"""GAT — Veličković et al., "Graph Attention Networks", ICLR 2018.

Layer (Eqs. 3-5): ``α_ij = softmax_j(LeakyReLU(aᵀ[W h_i ‖ W h_j]))`` over j ∈ N(i) ∪ {i}, output
``‖_{k=1..K} Σ_j α_ij^k W^k h_j`` (K heads concatenated). Each head has width ``hidden / heads`` so the layer
keeps ``hidden`` channels; ``attn_dropout`` drops attention coefficients as in the paper. With ``head="none"``
the last layer is the paper's output layer: ``out_heads`` heads of width ``out_dim``, averaged (Eq. 6; one head
on Cora/CiteSeer, eight on PubMed). Veličković et al.'s Cora network is the ``velickovic2018`` preset: encoder off,
8 heads × 8 features, ELU, dropout 0.6 on every layer's input and on the attention coefficients, no norm; where
it still differs from the released code (the attention-score biases the softmax cancels, the stopping rule):
docs/models/baselines.md §GAT. On sparse raw features (``sparse_input``) input dropout acts on the stored entries
and the first ``W h`` is a sparse-dense product (docs/models/baselines.md §Sparse input features).
"""

from __future__ import annotations

import dgl
import torch
from dgl.nn import GATConv
from torch import nn

from graphbench.hparams import HParam, HyperparameterError
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, SPARSE_INPUT_HPARAM, MessagePassingNet
from graphbench.registry import MODELS

HPARAMS = {
    **COMMON_HPARAMS,
    "heads": HParam(int, 4, "attention heads (hidden must be divisible by heads)", low=1),
    "attn_dropout": HParam(float, 0.0, "dropout on attention coefficients", low=0.0, high=0.99),
    "out_heads": HParam(int, 1, "heads of the output layer, averaged (only with head=none)", low=1),
    "sparse_input": SPARSE_INPUT_HPARAM,
}


def check(hp: dict) -> None:
    """Cross-parameter constraint, checked before any run starts."""
    if hp["hidden"] % hp["heads"]:
        raise HyperparameterError(f"GAT: hidden ({hp['hidden']}) must be divisible by heads ({hp['heads']}); "
                                  "change one of the two hyperparameters")


class OpsGATConv(GATConv):
    """DGL's ``GATConv`` (same parameters, initialisation and state-dict names) whose attention and aggregation are
    direct ``dgl.ops`` calls — ``u_add_v`` for ``aᵀ[W h_i ‖ W h_j]`` split into its source and destination halves,
    ``edge_softmax`` over each node's in-edges, ``u_mul_e_sum`` for ``Σ_j α_ij W h_j`` — instead of
    ``apply_edges`` / ``update_all`` on node and edge frames: the same kernels in the same order, so the same
    numbers, without the frames' per-call bookkeeping (``local_scope``, frame writes and pops, message dispatch),
    about a tenth of a small-graph batch's GAT layer (docs/benchmarks.md §Baselines against PyG). Inputs it does
    not cover (bipartite pairs, blocks, edge weights, a residual, ``get_attention``, the zero-in-degree check) take
    DGL's own ``forward``."""

    def forward(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge_weight: torch.Tensor | None = None,
                get_attention: bool = False) -> torch.Tensor:
        if (isinstance(feat, tuple) or edge_weight is not None or get_attention or graph.is_block
                or self.res_fc is not None or not self._allow_zero_in_degree):
            return super().forward(graph, feat, edge_weight, get_attention)
        prefix = feat.shape[:-1]
        feat_src = self.fc(self.feat_drop(feat)).view(*prefix, self._num_heads, self._out_feats)
        el = (feat_src * self.attn_l).sum(dim=-1).unsqueeze(-1)  # [n, heads, 1]: aᵀ_l W h_j
        er = (feat_src * self.attn_r).sum(dim=-1).unsqueeze(-1)  # aᵀ_r W h_i
        e = self.leaky_relu(dgl.ops.u_add_v(graph, el, er))  # Eq. 3, one score per edge j → i and head
        a = self.attn_drop(dgl.ops.edge_softmax(graph, e))  # Eq. 3's softmax over j ∈ N(i)
        rst = dgl.ops.u_mul_e_sum(graph, feat_src, a)  # Eq. 4 (before the nonlinearity)
        if self.has_explicit_bias:
            rst = rst + self.bias.view(*((1,) * len(prefix)), self._num_heads, self._out_feats)
        if self.activation:
            rst = self.activation(rst)
        return rst


@MODELS.register("gat", hparams=HPARAMS, check=check, search_space={**COMMON_SEARCH_SPACE,
                                                       "heads": {"type": "categorical", "choices": [1, 4, 8]}},
                 edge_features=False, task_levels=("graph", "node"), paper="Veličković et al., ICLR 2018")
class GAT(MessagePassingNet):
    """Graph attention network (see module docstring)."""

    self_loops = True

    def __init__(self, in_dim, out_dim, *, heads: int = 4, attn_dropout: float = 0.0, hidden: int = 64,
                 out_heads: int = 1, sparse_input: str = "auto", **common) -> None:
        check({"hidden": hidden, "heads": heads})
        self.heads, self.attn_dropout, self.out_heads = heads, attn_dropout, out_heads
        super().__init__(in_dim, out_dim, hidden=hidden, sparse_input=sparse_input, **common)

    def first_conv_reads_sparse(self) -> bool:
        """DGL's ``GATConv`` starts with its linear map ``W h`` (``fc``, no feature dropout of its own), which takes
        a sparse CSR input as a sparse-dense product; the attention then reads the dense ``W h``."""
        return True

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        if self.is_output_layer(layer):  # Eq. 6: average of out_heads heads of the output width
            conv = OpsGATConv(in_dim, out_dim, self.out_heads, attn_drop=self.attn_dropout,
                              allow_zero_in_degree=True)
            conv.average_heads = True
            return conv
        return OpsGATConv(in_dim, out_dim // self.heads, self.heads, attn_drop=self.attn_dropout,
                          allow_zero_in_degree=True)

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        out = conv(graph, h)  # [n, heads, width]
        if getattr(conv, "average_heads", False):
            return out.mean(1)  # the output layer averages its heads
        return out.flatten(1)  # hidden layers concatenate them: [n, heads, hidden/heads] -> [n, hidden]
