"""GraphSAGE — Hamilton, Ying, Leskovec, "Inductive Representation Learning on Large Graphs", NeurIPS 2017.

Layer (Algorithm 1, lines 4-5): ``h_v' = W [h_v ‖ AGG({h_u : u ∈ N(v)})]``, implemented as DGL's ``SAGEConv``
(``W_self h_v + W_neigh AGG``, equivalent to the concatenation). ``aggregator`` is mean, pool (max-pooling after a
linear layer + ReLU), lstm (over a random neighbour order) or gcn. Full neighbourhoods are used (no sampling),
as is standard for graph classification benchmarks; the paper's per-layer ℓ2 normalisation is replaced by the
backbone's norm layer.
"""

from __future__ import annotations

from dgl.nn import SAGEConv
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.registry import MODELS

HPARAMS = {
    **COMMON_HPARAMS,
    "aggregator": HParam(str, "mean", "neighbour aggregator", choices=("mean", "pool", "lstm", "gcn")),
}


@MODELS.register("sage", hparams=HPARAMS, search_space=COMMON_SEARCH_SPACE, edge_features=False,
                 task_levels=("graph", "node"), paper="Hamilton et al., NeurIPS 2017", aliases=("graphsage",))
class GraphSAGE(MessagePassingNet):
    """GraphSAGE (see module docstring)."""

    def __init__(self, in_dim, out_dim, *, aggregator: str = "mean", **common) -> None:
        self.aggregator = aggregator
        super().__init__(in_dim, out_dim, **common)

    def make_conv(self, layer: int) -> nn.Module:
        return SAGEConv(self.hidden, self.hidden, self.aggregator)
