"""GIN — Xu, Hu, Leskovec, Jegelka, "How Powerful are Graph Neural Networks?", ICLR 2019.

The equations, the presets and the reference code's locations: docs/models/baselines.md §GIN.

Layer (Eq. 4.1): ``h_v' = MLP((1 + ε) h_v + Σ_{u ∈ N(v)} h_u)``, a 2-layer MLP with batch norm, ε fixed at 0
(GIN-0, the paper's best variant) or learned (``learn_eps``). With edge features the layer is GINE (Hu et al.,
"Strategies for Pre-training GNNs", ICLR 2020): messages are ``ReLU(h_u + e_uv)``. The readout defaults to sum,
as in the paper, because sum is the injective multiset function.

Readout (Eq. 4.2): by default (``layer_readout="sum"``) every layer's node states — the input layer's (the
encoder output, or the raw features with ``encoder=false``) included — are pooled with ``readout``, mapped to the
classes by a linear layer of their own, passed through dropout and summed, as in Xu et al.'s and Errica et al.'s
code; ``dropout`` acts only there (``layer_dropout=false``), as in both papers. ``layer_readout="last"`` is the
generic backbone (last layer → readout → MLP head). Residual connections are off by default, as in the paper.

Why the last-layer sum readout + ReLU MLP head collapses (issue 9 point 6): a sum readout scales with the graph's
size (with residuals and batch norm, values of 1e3 on PROTEINS); the first head layer turns that into large
pre-activations, and one Adam step at lr 0.01 — gradients doubled by dropout 0.5 on the few surviving units — can
push most ReLU units to negative on every graph, after which they get no gradient again: the network predicts the
label prior. The linear per-layer readout of Eq. 4.2 has no ReLU after pooling, so no unit can die, and the
input layer's term keeps a direct path from the features to the output.

Errica et al.'s GIN (``gin/errica2020``; docs/models/baselines.md §GIN) needs three switches the paper's network
lacks: ``hidden_units`` (their grid ties width and depth: ``"64,64,64,64"`` is four GIN layers of width 64, one
categorical choice instead of two crossed ones), ``input_layers=2`` (their input layer is the 2-layer MLP
Linear → BN → ReLU → Linear → BN → ReLU; with ``encoder_act`` the encoder is its first half) and
``input_term="pool_of_linear"`` (their input layer's readout term pools *after* its linear map,
``READOUT({W_0 h_v^(0) + b_0})``: with the sum readout the bias counts once per node).

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

from graphbench.hparams import HParam, HyperparameterError
from graphbench.models.base import (
    ACTIVATIONS,
    COMMON_HPARAMS,
    COMMON_SEARCH_SPACE,
    EDGE_FEATURES_HPARAM,
    MessagePassingNet,
)
from graphbench.nn import MLP, make_norm
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
    "layer_readout": HParam(str, "sum", "graph tasks: sum every layer's linear readout (Xu et al. Eq. 4.2), or "
                            "read out the last layer into the head (node tasks always use the last layer)",
                            choices=("sum", "last", "concat")),
    "layer_dropout": HParam(bool, False, "apply `dropout` after every layer too (the paper: readout only)"),
    "residual": HParam(bool, False, "add each layer's input to its output (the paper has none; the all-layer "
                       "readout already gives every layer a direct path to the output)"),
    "hidden_units": HParam(str, "", "the GIN layers' widths, comma-separated (Errica et al.'s hidden_units: "
                           "'64,64,64,64' = 4 layers of width 64); when set it replaces hidden and layers, so a "
                           "grid can tie width and depth; the widths must be equal"),
    "input_layers": HParam(int, 1, "layers of the input MLP: 1 = the encoder; 2 = Errica et al.'s input layer "
                           "(encoder → norm → activation → Linear → norm → activation; needs encoder_act)",
                           low=1, high=2),
    "edge_features": EDGE_FEATURES_HPARAM,  # off in Xu's and Errica's presets: their GIN ignores bond labels
    "input_term": HParam(str, "linear_of_pool", "the input layer's term of the sum readout: W·READOUT(h) (Xu et "
                         "al.) or READOUT(W·h) (Errica et al.'s code; with sum the bias counts once per node)",
                         choices=("linear_of_pool", "pool_of_linear")),
}


def parse_hidden_units(text: str) -> list[int]:
    """The widths in a ``hidden_units`` value (``"64,64,64,64"`` → ``[64, 64, 64, 64]``); refuses empty,
    non-positive or unequal widths (the backbone's layers share one width)."""
    try:
        units = [int(u) for u in text.replace(" ", "").split(",")]
    except ValueError:
        raise HyperparameterError(f"hidden_units must be comma-separated integers, got {text!r}") from None
    if not units or min(units) < 1 or len(set(units)) > 1:
        raise HyperparameterError(f"hidden_units must list one or more equal positive widths, got {text!r}")
    return units


def check(hp: dict) -> None:
    """Cross-parameter constraints, checked before any run starts."""
    if hp["hidden_units"]:
        parse_hidden_units(hp["hidden_units"])
    if hp["input_layers"] > 1 and not (hp["encoder"] and hp["encoder_act"]):
        raise HyperparameterError("input_layers=2 extends the input encoder (Errica et al.'s input MLP); it needs "
                                  "encoder=true and encoder_act=true")


#: Below this many edges a batch's neighbour sum is ``index_select`` + ``index_add_`` rather than DGL's SpMM: the
#: same sums in the same order, and on the CPU cheaper than the SpMM's fixed cost for small batches (a 32-graph
#: PTC_MR batch, ~1,000 edges: 117 vs 172 µs forward and backward), dearer above it (ENZYMES, ~4,300 edges: 283 vs
#: 226 µs); docs/benchmarks.md §Baselines against PyG.
INDEX_ADD_MAX_EDGES = 2048


def neighbour_sum(graph: dgl.DGLGraph, feat: torch.Tensor) -> torch.Tensor:
    """``Σ_{u ∈ N(v)} h_u`` for every node ``v`` (DGL's ``copy_u_sum``), by the cheaper path for the graph's size."""
    if graph.num_edges() < INDEX_ADD_MAX_EDGES and feat.device.type == "cpu":
        src, dst = graph.edges()
        return torch.zeros_like(feat).index_add_(0, dst, feat.index_select(0, src))
    return dgl.ops.copy_u_sum(graph, feat)


class SumGINConv(GINConv):
    """DGL's ``GINConv`` with the sum aggregator (Eq. 4.1; same parameters, initialisation and state-dict names) whose
    neighbour sum is one ``dgl.ops.copy_u_sum`` call: the kernel ``update_all(copy_u, sum)`` runs, so the same
    numbers, without its per-call frame bookkeeping (``local_scope``, node-data writes), which costs as much as the
    kernel itself on small-graph batches (docs/models/baselines.md §Throughput). With ε fixed at 0 (GIN-0) the
    self term is ``h`` itself rather than ``(1 + 0) · h``: the same numbers (docs/benchmarks.md §Baselines against
    PyG)."""

    def forward(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge_weight: torch.Tensor | None = None) -> torch.Tensor:
        if edge_weight is not None or isinstance(feat, tuple):  # weighted or bipartite input: DGL's own path
            return super().forward(graph, feat, edge_weight)
        # GIN-ε, a fixed non-zero ε, or ε on an accelerator (reading it there would wait for the device)
        if self.eps.requires_grad or self.eps.device.type != "cpu" or bool(self.eps.any()):
            rst = (1 + self.eps) * feat + neighbour_sum(graph, feat)
        else:  # GIN-0 on the CPU: (1 + 0) · h is h bit for bit, and so is its gradient; one multiplication less
            rst = feat + neighbour_sum(graph, feat)
        if self.apply_func is not None:
            rst = self.apply_func(rst)
        return self.activation(rst) if self.activation is not None else rst


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


@MODELS.register("gin", hparams=HPARAMS, check=check, search_space=COMMON_SEARCH_SPACE, edge_features=True,
                 task_levels=("graph", "node"), paper="Xu et al., ICLR 2019")
class GIN(AggregatorModelMixin, MessagePassingNet):
    """Graph isomorphism network (see module docstring)."""

    uses_edge_features = True

    def __init__(self, in_dim, out_dim, *, learn_eps: bool = False, mlp_layers: int = 2, readout: str = "sum",
                 aggregator: str = "sum", agg_reg: float = 0.0, edge_dim=None, layer_readout: str = "sum",
                 layer_dropout: bool = False, hidden_units: str = "", input_layers: int = 1,
                 input_term: str = "linear_of_pool", **common) -> None:
        self.learn_eps, self.mlp_layers = learn_eps, mlp_layers
        self.aggregator, self.agg_reg = aggregator, agg_reg
        self.input_term = input_term
        self._edge = edge_dim is not None and edge_dim != 0 and getattr(edge_dim, "kind", "dense") != "none"
        if common.get("task_level", "graph") == "node":
            layer_readout = "last"  # Eq. 4.2 reads out graphs; node tasks predict from the last layer's states
        if hidden_units:  # Errica et al.'s hidden_units: one choice fixes width and depth together
            units = parse_hidden_units(hidden_units)
            common = {**common, "hidden": units[0], "layers": len(units)}
        super().__init__(in_dim, out_dim, readout=readout, edge_dim=edge_dim, layer_readout=layer_readout,
                         layer_dropout=layer_dropout, **common)
        if input_layers > 1:  # Errica et al.'s input layer: Linear → BN → ReLU → Linear → BN → ReLU
            if self.encoder_post is None:
                raise ValueError("input_layers=2 needs encoder=true and encoder_act=true")
            act = common.get("activation", "relu")
            extra = []
            for _ in range(input_layers - 1):
                extra += [nn.Linear(self.hidden, self.hidden), make_norm(common.get("norm", "batch"), self.hidden),
                          ACTIVATIONS[act]()]
            self.encoder_post = nn.Sequential(*self.encoder_post, *extra)
        self.readout_op = make_readout(readout, self.hidden, reg=agg_reg)
        if not isinstance(self.readout_op, str) and len(set(self.layer_dims)) > 1:
            raise ValueError(f"readout {readout!r} is a learned aggregator of width {self.hidden}, but the layers have "
                             f"widths {sorted(set(self.layer_dims))}; keep encoder=true and a head, or use "
                             "readout sum/mean/max")

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        mlp = MLP(in_dim, self.hidden, out_dim, self.mlp_layers, norm="batch")
        if self.aggregator != "sum":
            agg = make_aggregator(self.aggregator, in_dim, reg=self.agg_reg)
            return AggregatorGINConv(mlp, agg, learn_eps=self.learn_eps)
        if self._edge:
            return GINEConv(mlp, learn_eps=self.learn_eps)
        return SumGINConv(mlp, "sum", init_eps=0.0, learn_eps=self.learn_eps)

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        return conv(graph, h, e) if self._edge else conv(graph, h)

    def layer_term(self, k: int, batch, h: torch.Tensor) -> torch.Tensor:
        """Layer ``k``'s readout term; with ``input_term="pool_of_linear"`` the input layer's is
        ``dropout(READOUT({W_0 h_v^(0) + b_0}))``, as Errica et al.'s code computes it."""
        if k == 0 and self.input_term == "pool_of_linear":
            return self.dropout(self.pool(batch, self.layer_heads[0](h)))
        return super().layer_term(k, batch, h)
