"""The shared message-passing network every model in the registry builds on.

``MessagePassingNet`` is encoder → ``layers`` × (convolution → norm → ReLU → dropout, plus a residual
connection) → readout (graph tasks) → MLP head. A model file subclasses it and supplies only its convolution
(:meth:`make_conv`, optionally :meth:`apply_conv`), so encoders, residuals, readout and heads are written once.

Constructor signature shared by all models::

    Model(in_dim, out_dim, *, hidden, layers, dropout, norm, residual, readout, task_level, edge_dim, pe_dim,
          **model_specific)

``in_dim`` / ``edge_dim`` are :class:`~graphbench.data.FeatureSpec` objects or ints (an int means dense features
of that width; ``edge_dim=None`` means no edge features).
"""

from __future__ import annotations

import dgl
import torch
from torch import nn

from graphbench.data.base import FeatureSpec
from graphbench.hparams import HParam
from graphbench.nn import MLP, FeatureEncoder, make_norm, readout
from graphbench.nn.mlp import NORMS
from graphbench.nn.readout import READOUTS

#: Hyperparameters every model accepts, with their defaults.
COMMON_HPARAMS: dict[str, HParam] = {
    "hidden": HParam(int, 64, "hidden width", low=1),
    "layers": HParam(int, 4, "message-passing layers", low=1),
    "dropout": HParam(float, 0.0, "dropout after each layer and in the head", low=0.0, high=0.99),
    "norm": HParam(str, "batch", "normalisation after each layer", choices=NORMS),
    "residual": HParam(bool, True, "add each layer's input to its output"),
    "readout": HParam(str, "mean", "graph readout (graph-level tasks)", choices=READOUTS),
}

#: A default search space for the sweep runner, overridable per model and per sweep file.
COMMON_SEARCH_SPACE: dict[str, dict] = {
    "hidden": {"type": "categorical", "choices": [32, 64, 128]},
    "layers": {"type": "int", "low": 2, "high": 6},
    "dropout": {"type": "float", "low": 0.0, "high": 0.5},
    "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
}


def as_spec(dim: int | FeatureSpec | None) -> FeatureSpec:
    if isinstance(dim, FeatureSpec):
        return dim
    if dim is None or dim == 0:
        return FeatureSpec("none")
    return FeatureSpec("dense", dim=int(dim))


class MessagePassingNet(nn.Module):
    """Base class: see the module docstring. Subclasses implement :meth:`make_conv`."""

    #: Whether the convolution expects self-loops in the graph (GCN's Â = A + I, GAT's attention over i itself).
    self_loops: bool = False
    #: Whether the convolution consumes edge features (then an edge encoder to ``hidden`` is built).
    uses_edge_features: bool = False

    def __init__(self, in_dim: int | FeatureSpec | None, out_dim: int, *, hidden: int = 64, layers: int = 4,
                 dropout: float = 0.0, norm: str = "batch", residual: bool = True, readout: str = "mean",
                 task_level: str = "graph", edge_dim: int | FeatureSpec | None = None, pe_dim: int = 0) -> None:
        super().__init__()
        if task_level not in ("graph", "node"):
            raise ValueError(f"task_level must be 'graph' or 'node', got {task_level!r}")
        self.hidden, self.num_layers, self.task_level, self.readout_op = hidden, layers, task_level, readout
        self.residual = residual
        self.encoder = FeatureEncoder(as_spec(in_dim), hidden, pe_dim=pe_dim)
        edge_spec = as_spec(edge_dim)
        self.edge_encoders = None
        if self.uses_edge_features and edge_spec.kind != "none":
            self.edge_encoders = nn.ModuleList(FeatureEncoder(edge_spec, hidden) for _ in range(layers))
        self.convs = nn.ModuleList(self.make_conv(i) for i in range(layers))
        self.norms = nn.ModuleList(make_norm(norm, hidden) for _ in range(layers))
        self.dropout = nn.Dropout(dropout)
        self.head = MLP(hidden, hidden, out_dim, num_layers=2, dropout=dropout)

    def make_conv(self, layer: int) -> nn.Module:
        """The convolution of layer ``layer``: maps ``[n, hidden]`` node states to ``[n, hidden]``."""
        raise NotImplementedError

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        """One convolution call; override when the layer needs edge features or reshaping."""
        return conv(graph, h)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def node_states(self, graph: dgl.DGLGraph, feat: torch.Tensor | None = None,
                    efeat: torch.Tensor | None = None, pe: torch.Tensor | None = None) -> torch.Tensor:
        """Node representations after the last layer, ``[num_nodes, hidden]``."""
        h = self.encoder(feat, graph.num_nodes(), pe)
        if self.self_loops:
            graph = dgl.add_self_loop(dgl.remove_self_loop(graph))
            efeat = None  # the convolutions that want self-loops take no edge features
        for i, (conv, norm) in enumerate(zip(self.convs, self.norms)):
            e = self.edge_encoders[i](efeat, graph.num_edges()) if self.edge_encoders is not None else None
            out = self.dropout(torch.relu(norm(self.apply_conv(conv, graph, h, e))))
            h = h + out if self.residual else out
        return h

    def forward(self, graph: dgl.DGLGraph, feat: torch.Tensor | None = None, efeat: torch.Tensor | None = None,
                pe: torch.Tensor | None = None) -> torch.Tensor:
        """Predictions: ``[batch_size, out_dim]`` for graph tasks, ``[num_nodes, out_dim]`` for node tasks."""
        h = self.node_states(graph, feat, efeat, pe)
        if self.task_level == "graph":
            h = readout(graph, h, self.readout_op)
        return self.head(h)
