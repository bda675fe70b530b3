"""ω-GNN — Eliasof, Ruthotto & Treister, "Improving Graph Neural Networks with Learnable Propagation Operators",
ICML 2023 (ωGCN and ωGAT).

Layer (the paper's Eq. for the ω-propagation, as in the released ``run_function``): with node states
``X ∈ R^{N×C}``, a propagation operator ``Â`` and a learnable ``ω ∈ R^C`` per layer,

    ``X̃ = X − diag(ω)(X − ÂX)``   i.e. per channel c: ``x̃_c = (1 − ω_c) x_c + ω_c Â x_c``,
    ``X' = σ(X̃ K)``                (channel mixing, then the backbone's norm / ReLU / dropout).

``ω = 1`` is plain propagation (GCN / GAT smoothing), ``ω = 0`` none, ``0 < ω < 1`` a lazier step, ``ω < 0`` a
sharpening (high-pass) step ``x + |ω|(x − Âx)`` and ``ω > 1`` an over-relaxed one. ω is initialised at 1 and
**not** constrained, which is what lets the network avoid over-smoothing at depth (the paper's argument on the
Dirichlet energy relies on it).

* **ωGCN:** ``Â = D̃^{-1/2}(A + I)D̃^{-1/2}`` (the backbone adds the self-loops; DGL ``GraphConv(norm="both")``
  without weight). The released TU script uses the raw adjacency sum instead (its ``updateGraph`` is skipped for
  TU data); here the normalised operator is used for every task — noted as a deviation.
* **ωGAT:** ``Â_ij = softmax_{j ∈ N(i) ∪ {i}} LeakyReLU_{0.2}(a_1ᵀ x_i + a_2ᵀ x_j)`` per head, computed on the
  states themselves (the channels split into ``heads`` groups), not on a projection as in GAT.
* ``omega``: ``"channel"`` — ω per layer and per channel (``R^{L×C}``, the paper's default), ``"layer"`` — one ω
  per layer, ``"shared"`` — one ω for the whole network.
* ``mixing``: ``"linear"`` — the 1×1 convolution ``K`` of the node-classification code, initialised as the
  identity plus U(0, 1e-4) noise (so a fresh layer is pure propagation); ``"mlp"`` — the GIN-style MLP
  (Linear → BN → ReLU → Linear) of the graph-classification code; ``"auto"`` — linear for node tasks, MLP for
  graph tasks.

Defaults follow the paper's network ``X^{l+1} = ReLU(K^l X̃^l)``: no residual connection and no normalisation
between layers (the backbone's ``residual`` / ``norm`` may still be switched on). Differences from the released
code kept by the shared backbone: the opening layer is the backbone's linear encoder (the paper's is ReLU(K_open
dropout(X))) and the head is the backbone's 2-layer MLP (the paper's a single linear map); dropout is applied after
each layer, not only before the opening and closing layers.
"""

from __future__ import annotations

import dgl
import dgl.function as fn
import torch
import torch.nn.functional as F
from dgl.nn import GraphConv
from torch import nn

from graphbench.hparams import HParam, HyperparameterError
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.nn import MLP
from graphbench.nn.mlp import NORMS
from graphbench.registry import MODELS

OMEGA_MODES = ("channel", "layer", "shared")
MIXINGS = ("auto", "linear", "mlp")

HPARAMS = {
    **COMMON_HPARAMS,
    "residual": HParam(bool, False, "add each layer's input to its output (off in the paper)"),
    "norm": HParam(str, "none", "normalisation after each layer (none in the paper's node-level network)",
                   choices=NORMS),
    "omega": HParam(str, "channel", "ω per layer and channel, one per layer, or one shared", choices=OMEGA_MODES),
    "mixing": HParam(str, "auto", "channel mixing: linear (node tasks), mlp (graph tasks) or auto", choices=MIXINGS),
}
GAT_HPARAMS = {**HPARAMS, "heads": HParam(int, 4, "attention heads (hidden must be divisible by heads)", low=1)}
SEARCH_SPACE = {**COMMON_SEARCH_SPACE, "omega": {"type": "categorical", "choices": ["channel", "layer"]}}


def check_gat(hp: dict) -> None:
    """Cross-parameter constraint, checked before any run starts."""
    if hp["hidden"] % hp["heads"]:
        raise HyperparameterError(f"ωGAT: hidden ({hp['hidden']}) must be divisible by heads ({hp['heads']}); "
                                  "change one of the two hyperparameters")


class IdentityInitLinear(nn.Linear):
    """The paper's 1×1 channel-mixing convolution ``K``: identity + U(0, 1e-4) at initialisation, zero bias."""

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.weight.copy_(torch.eye(self.out_features, self.in_features))
            self.weight.add_(torch.rand_like(self.weight) * 1e-4)
            if self.bias is not None:
                self.bias.zero_()


class SymNormPropagation(nn.Module):
    """``Â X`` with ``Â = D̃^{-1/2} Ã D̃^{-1/2}`` on a graph that already holds its self-loops."""

    def __init__(self) -> None:
        super().__init__()
        self.op = GraphConv(1, 1, norm="both", weight=False, bias=False, allow_zero_in_degree=True)

    def forward(self, graph: dgl.DGLGraph, x: torch.Tensor) -> torch.Tensor:
        return self.op(graph, x)


class AttentionPropagation(nn.Module):
    """``Â X`` with ``Â_ij = softmax_j LeakyReLU(a_1ᵀ x_i + a_2ᵀ x_j)`` per head over the channels of that head."""

    def __init__(self, channels: int, heads: int, negative_slope: float = 0.2) -> None:
        super().__init__()
        if channels % heads:
            raise ValueError(f"channels ({channels}) must be divisible by heads ({heads})")
        self.heads, self.slope = heads, negative_slope
        self.a_self = nn.Parameter(torch.empty(heads, channels // heads))  # a_1, the receiving node i
        self.a_nbr = nn.Parameter(torch.empty(heads, channels // heads))  # a_2, the neighbour j
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.a_self)
        nn.init.xavier_uniform_(self.a_nbr)

    def attention(self, graph: dgl.DGLGraph, x: torch.Tensor) -> torch.Tensor:
        """Coefficients ``[num_edges, heads]``: edge u → v carries Â_vu (v receives)."""
        xh = x.view(x.shape[0], self.heads, -1)
        with graph.local_scope():
            graph.srcdata["el"] = (xh * self.a_nbr).sum(-1)
            graph.dstdata["er"] = (xh * self.a_self).sum(-1)
            graph.apply_edges(fn.u_add_v("el", "er", "e"))
            e = F.leaky_relu(graph.edata["e"], self.slope)
        return dgl.ops.edge_softmax(graph, e)

    def forward(self, graph: dgl.DGLGraph, x: torch.Tensor) -> torch.Tensor:
        xh = x.view(x.shape[0], self.heads, -1)
        with graph.local_scope():
            graph.ndata["x"] = xh
            graph.edata["a"] = self.attention(graph, x).unsqueeze(-1)
            graph.update_all(fn.u_mul_e("x", "a", "m"), fn.sum("m", "s"))
            return graph.ndata["s"].reshape(x.shape)


class OmegaConv(nn.Module):
    """One ω-layer: ``mix(X − ω ⊙ (X − ÂX))`` (see the module docstring). Shapes ``[n, C] → [n, C]``."""

    def __init__(self, propagation: nn.Module, mixing: nn.Module, channels: int, omega: str = "channel") -> None:
        super().__init__()
        if omega not in OMEGA_MODES:
            raise ValueError(f"omega must be one of {OMEGA_MODES}, got {omega!r}")
        self.propagation, self.mixing = propagation, mixing
        self.omega = nn.Parameter(torch.ones(channels if omega == "channel" else 1))

    def reset_parameters(self) -> None:
        nn.init.ones_(self.omega)

    def propagate(self, graph: dgl.DGLGraph, x: torch.Tensor) -> torch.Tensor:
        """``X̃ = X − diag(ω)(X − ÂX)``, before channel mixing."""
        return x - self.omega * (x - self.propagation(graph, x))

    def forward(self, graph: dgl.DGLGraph, x: torch.Tensor) -> torch.Tensor:
        return self.mixing(self.propagate(graph, x))


class _OmegaNet(MessagePassingNet):
    """Shared part of ωGCN and ωGAT: the ω parameterisation and the channel mixing."""

    self_loops = True

    def __init__(self, in_dim, out_dim, *, omega: str = "channel", mixing: str = "auto", task_level: str = "graph",
                 **common) -> None:
        if mixing == "auto":
            mixing = "linear" if task_level == "node" else "mlp"
        self.omega_mode, self.mixing_kind = omega, mixing
        super().__init__(in_dim, out_dim, task_level=task_level, **common)
        if omega == "shared":  # one ω for all layers: tie every layer's parameter to the first one's
            for conv in self.convs[1:]:
                conv.omega = self.convs[0].omega

    def make_mixing(self) -> nn.Module:
        if self.mixing_kind == "mlp":
            return MLP(self.hidden, self.hidden, self.hidden, num_layers=2, norm="batch")
        return IdentityInitLinear(self.hidden, self.hidden)

    def make_propagation(self) -> nn.Module:
        raise NotImplementedError

    def make_conv(self, layer: int) -> nn.Module:
        return OmegaConv(self.make_propagation(), self.make_mixing(), self.hidden, self.omega_mode)

    def omegas(self) -> torch.Tensor:
        """ω of every layer, ``[layers, C]`` (or ``[layers, 1]``), for inspection and plots."""
        return torch.stack([c.omega.detach() for c in self.convs])


@MODELS.register("omega-gcn", aliases=("wgcn", "omega_gcn"), hparams=HPARAMS, search_space=SEARCH_SPACE,
                 edge_features=False, task_levels=("graph", "node"), paper="Eliasof et al., ICML 2023")
class OmegaGCN(_OmegaNet):
    """ωGCN: learnable mixing of each channel with its GCN-propagated value (see module docstring)."""

    def make_propagation(self) -> nn.Module:
        return SymNormPropagation()


@MODELS.register("omega-gat", aliases=("wgat", "omega_gat"), hparams=GAT_HPARAMS, check=check_gat,
                 search_space={**SEARCH_SPACE, "heads": {"type": "categorical", "choices": [1, 4, 8]}},
                 edge_features=False, task_levels=("graph", "node"), paper="Eliasof et al., ICML 2023")
class OmegaGAT(_OmegaNet):
    """ωGAT: learnable mixing of each channel with its attention-propagated value (see module docstring)."""

    def __init__(self, in_dim, out_dim, *, heads: int = 4, hidden: int = 64, **common) -> None:
        check_gat({"hidden": hidden, "heads": heads})
        self.heads = heads
        super().__init__(in_dim, out_dim, hidden=hidden, **common)

    def make_propagation(self) -> nn.Module:
        return AttentionPropagation(self.hidden, self.heads)
