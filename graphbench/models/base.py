"""The shared message-passing network every model in the registry builds on.

``MessagePassingNet`` is encoder → ``layers`` × (convolution → norm → ReLU → dropout, plus a residual
connection) → readout (graph tasks) → MLP head. A model file subclasses it and supplies only its convolution
(:meth:`make_conv`, optionally :meth:`apply_conv`), so encoders, residuals, readout and heads are written once.

Constructor signature shared by all models::

    Model(in_dim, out_dim, *, hidden, layers, dropout, norm, residual, readout, task_level, edge_dim, pe_dim,
          **model_specific)

``in_dim`` / ``edge_dim`` are :class:`~graphbench.data.FeatureSpec` objects or ints (an int means dense features
of that width; ``edge_dim=None`` means no edge features).

**The forward path** takes one :class:`~graphbench.transforms.batch.Batch` (the trainer builds it; calling
``model(graph, feat, efeat, pe)`` still works and wraps the graph)::

    forward(batch) = head(pool(batch, propagate(batch, encode(batch))))       # pool: graph-level tasks only

A family that needs more than a convolution overrides one step and keeps the rest: ``propagate`` for its own layer
loop (DRew's per-layer hop sets, a product graph of pair-nodes, path encoders), using :meth:`layer_step` for the
shared norm / ReLU / dropout / residual; ``encode`` or ``pool`` likewise. Extra inputs are declared on the class:
``extras = {"paths": NodeIndex()}`` (how ``batch["paths"]`` is batched) and ``input_transforms(hparams)`` (the
registered transforms that produce them, cached per dataset); see :mod:`graphbench.transforms`.
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
from graphbench.transforms.base import Extra
from graphbench.transforms.batch import Batch, as_batch

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
    #: Per-graph tensors the model reads from the batch (``batch["key"]``) and how they are batched (node / edge
    #: ids offset, or concatenated); usually produced by :meth:`input_transforms`. See graphbench.transforms.
    extras: dict[str, Extra] = {}

    @classmethod
    def input_transforms(cls, hparams: dict) -> list[dict]:
        """Transforms this model needs, given its hyperparameters (e.g. ``[{"name": "paths", "k": 4}]``); the
        runner puts them before the run's own chain, and they are cached like any chain."""
        return []

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

    # -- forward path: encode → propagate → pool → head; a family overrides the step it changes -------------------
    def encode(self, batch: Batch) -> torch.Tensor:
        """Input node states ``[num_nodes, hidden]`` from raw features and positional encodings."""
        return self.encoder(batch.feat, batch.num_nodes, batch.pe)

    def message_graph(self, batch: Batch) -> tuple[dgl.DGLGraph, torch.Tensor | None]:
        """The graph the convolutions run on and its raw edge features (with self-loops when the convolution
        wants them; computed once per batch)."""
        if not self.self_loops:
            return batch.graph, batch.efeat
        # the convolutions that want self-loops take no edge features
        return batch.memo("self_loops", lambda: dgl.add_self_loop(dgl.remove_self_loop(batch.graph))), None

    def layer_step(self, i: int, h: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """After layer ``i``'s convolution: norm → ReLU → dropout, plus the residual connection."""
        out = self.dropout(torch.relu(self.norms[i](out)))
        return h + out if self.residual else out

    def propagate(self, batch: Batch, h: torch.Tensor) -> torch.Tensor:
        """The layer loop. Override it for a family with its own loop (per-layer hop sets, a product graph);
        :meth:`layer_step` keeps the norm / activation / residual plumbing shared."""
        graph, efeat = self.message_graph(batch)
        for i, conv in enumerate(self.convs):
            e = self.edge_encoders[i](efeat, graph.num_edges()) if self.edge_encoders is not None else None
            h = self.layer_step(i, h, self.apply_conv(conv, graph, h, e))
        return h

    def pool(self, batch: Batch, h: torch.Tensor) -> torch.Tensor:
        """Graph readout ``[num_nodes, d] → [num_graphs, d]``."""
        return readout(batch.graph, h, self.readout_op)

    def node_states(self, batch: Batch | dgl.DGLGraph, feat: torch.Tensor | None = None,
                    efeat: torch.Tensor | None = None, pe: torch.Tensor | None = None) -> torch.Tensor:
        """Node representations after the last layer, ``[num_nodes, hidden]``. Takes a :class:`Batch` or, as
        before, ``(graph, feat, efeat, pe)``."""
        batch = as_batch(batch, feat, efeat, pe)
        return self.propagate(batch, self.encode(batch))

    def forward(self, batch: Batch | dgl.DGLGraph, feat: torch.Tensor | None = None,
                efeat: torch.Tensor | None = None, pe: torch.Tensor | None = None) -> torch.Tensor:
        """Predictions: ``[num_graphs, out_dim]`` for graph tasks, ``[num_nodes, out_dim]`` for node tasks."""
        batch = as_batch(batch, feat, efeat, pe)
        h = self.node_states(batch)
        if self.task_level == "graph":
            h = self.pool(batch, h)
        return self.head(h)
