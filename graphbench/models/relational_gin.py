"""R-GIN — the relational GIN of the rewiring papers (FoSR: Karhadkar et al., ICLR 2023, ``RGINConv``; reused by
GTR and BORF): GIN (Xu et al., ICLR 2019, Eq. 4.1) with one weight set per edge type.

Layer: ``h_i' = W_0 h_i + b_0 + Σ_r MLP_r((1 + ε_r) h_i + Σ_{j ∈ N_i^r} h_j)`` — a biased self-connection ``W_0``
plus one GIN layer per relation over that relation's edges, summed, as FoSR's ``RGINConv``
(``kedar2/FoSR@1a7360c2c77c:models/graph_model.py``; ``graphbench.nn.relational.RelationalConv``). Each MLP is
``Linear(in, out) → BatchNorm(out) → ReLU → Linear(out, out)``: its inner width is the layer's output width, as in
the reference. ε fixed at 0 or learned. ``docs/models/rewiring.md`` §1. Edge features are not used (as in FoSR).
Readout defaults to the backbone's mean pooling (FoSR's TU protocol pools by mean).

Registered: ``rgin`` (edge types from the run's rewiring transforms; ``relations`` types, 2 by default) and
``fosr-gin``, ``gtr-gin``, ``sdrf-gin``, ``borf-gin`` (R-GIN on that rewiring; see ``graphbench.models.rewired``).
"""

from __future__ import annotations

from dgl.nn import GINConv
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE
from graphbench.models.rewired import RELATIONS_HPARAM, RelationalNet, register_fosr_tu_preset, register_rewired_family
from graphbench.nn import MLP
from graphbench.nn.relational import RelationalConv
from graphbench.registry import MODELS

PAPER = "Karhadkar et al., ICLR 2023 (R-GIN, after Xu et al., ICLR 2019)"
HPARAMS = {
    **COMMON_HPARAMS,
    "relations": RELATIONS_HPARAM,
    "learn_eps": HParam(bool, False, "learn ε per relation (GIN-ε) instead of fixing it at 0"),
    "mlp_layers": HParam(int, 2, "layers of each relation's GIN MLP", low=1),
}


def gin_conv(in_dim: int, hidden: int, out_dim: int, mlp_layers: int, learn_eps: bool) -> nn.Module:
    """One GIN layer (Eq. 4.1) with a ``mlp_layers``-layer MLP with batch norm."""
    return GINConv(MLP(in_dim, hidden, out_dim, mlp_layers, norm="batch"), "sum", init_eps=0.0, learn_eps=learn_eps)


@MODELS.register("rgin", hparams=HPARAMS, search_space=COMMON_SEARCH_SPACE, edge_features=False,
                 task_levels=("graph", "node"), paper=PAPER, aliases=("r-gin",))
class RGIN(RelationalNet):
    """Relational GIN (see module docstring)."""

    def __init__(self, in_dim, out_dim, *, learn_eps: bool = False, mlp_layers: int = 2, **common) -> None:
        self.learn_eps, self.mlp_layers = learn_eps, mlp_layers
        super().__init__(in_dim, out_dim, **common)

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        # FoSR's RGINConv: the MLP's inner width is the layer's output width, and W_0 has a bias
        return RelationalConv(lambda r: gin_conv(in_dim, out_dim, out_dim, self.mlp_layers, self.learn_eps),
                              self.num_relations, in_dim=in_dim, out_dim=out_dim, self_loop=True, bias=True)


register_fosr_tu_preset("rgin")
register_rewired_family(RGIN, "gin", HPARAMS, backbone_paper="R-GIN")
