"""The shared message-passing network every model in the registry builds on.

``MessagePassingNet`` is encoder → ``layers`` × (convolution → norm → activation → dropout, plus a residual
connection) → readout (graph tasks) → MLP head. A model file subclasses it and supplies only its convolution
(:meth:`make_conv`, optionally :meth:`apply_conv`), so encoders, residuals, readout and heads are written once.

Every part a paper may lack can be switched off, so a paper preset (``graphbench.presets``) builds the paper's
network itself rather than an approximation: ``encoder=False`` (the first layer reads the raw features, one-hot
for categorical columns), ``head="none"`` (the last layer outputs the classes and has no norm, activation or
dropout after it, as in Kipf & Welling's and Veličković et al.'s two-layer networks) or ``"linear"``,
``norm="none"``, ``residual=False`` (residuals are added only where a layer keeps its width), ``input_dropout``
(dropout on the raw input, Kipf & Welling / GAT), ``encoder_act`` (norm and activation after the encoder, Errica
et al.'s GIN input layer), ``layer_dropout=False`` (``dropout`` only in the head / readout,
as Xu et al. and Errica et al.), ``activation`` and ``decay_scope="first_layer"`` (weight decay on the first
layer only, Kipf & Welling §5.2; the trainer asks the model for its optimiser parameter groups through
:meth:`MessagePassingNet.param_groups`).

``layer_readout="sum"`` is the readout of Xu et al., Eq. 4.2: every layer's node states, the input layer's
included, are pooled, mapped to the outputs by a linear map of their own, passed through dropout and summed
(``Σ_k dropout(W_k · READOUT({h_v^(k)}))``, as in Xu et al.'s and Errica et al.'s code); it replaces the head.
``layer_readout="concat"`` pools layers 1..L, concatenates them and feeds the head (Errica et al.'s GraphSAGE,
jumping-knowledge style).

Constructor signature shared by all models::

    Model(in_dim, out_dim, *, hidden, layers, dropout, norm, residual, readout, task_level, edge_dim, pe_dim,
          **model_specific)

``in_dim`` / ``edge_dim`` are :class:`~graphbench.data.FeatureSpec` objects or ints (an int means dense features
of that width; ``edge_dim=None`` means no edge features).

**The forward path** takes one :class:`~graphbench.transforms.batch.Batch` (the trainer builds it; calling
``model(graph, feat, efeat, pe)`` still works and wraps the graph)::

    forward(batch) = head(pool(batch, propagate(batch, encode(batch))))       # pool: graph-level tasks only

A family that needs more than a convolution overrides one step and keeps the rest: ``layer_states`` (every layer's
states; ``propagate`` returns the last of them) for its own layer loop (DRew's per-layer hop sets, a product graph
of pair-nodes, path encoders), using :meth:`layer_step` for the shared norm / activation / dropout / residual;
``encode`` or ``pool`` likewise. The all-layer readouts (``layer_readout="sum"`` / ``"concat"``) read
``layer_states``, so a family that overrides only ``propagate`` supports ``layer_readout="last"`` alone. Extra
inputs are declared on the class:
``extras = {"paths": NodeIndex()}`` (how ``batch["paths"]`` is batched) and ``input_transforms(hparams)`` (the
registered transforms that produce them, cached per dataset); see :mod:`graphbench.transforms`.
"""

from __future__ import annotations

import inspect
import warnings

import dgl
import torch
from torch import nn

from graphbench.data.base import FeatureSpec
from graphbench.hparams import HParam
from graphbench.nn import MLP, FeatureEncoder, make_norm, readout
from graphbench.nn.mlp import NORMS
from graphbench.nn.readout import READOUTS
from graphbench.transforms.base import Extra
from graphbench.transforms.batch import Batch, as_batch, segment_pool

HEADS = ("mlp", "linear", "none")
ACTIVATIONS = {"relu": nn.ReLU, "elu": nn.ELU, "gelu": nn.GELU, "none": nn.Identity}
DECAY_SCOPES = ("all", "first_layer")
LAYER_READOUTS = ("last", "sum", "concat")

#: A model that can read edge features declares this to let a preset switch them off (build_model then passes no
#: edge_dim): papers whose code reads node features only (Xu's and Errica's GIN, SPEN's TU runs) on datasets that
#: carry edge labels (MUTAG, PTC_MR).
EDGE_FEATURES_HPARAM = HParam(bool, True, "use the dataset's edge features where it has them; false: the model "
                              "reads node features only, as papers whose code ignores the edge labels")

#: The sparse input path (docs/models/baselines.md §Sparse input features): a model whose first convolution reads
#: the raw features (``encoder=false``) and can take them as a sparse matrix declares this hyperparameter. ``auto``
#: takes the path when under ``SPARSE_DENSITY`` of the batch's feature entries are non-zero.
SPARSE_INPUT_HPARAM = HParam(str, "auto", "with encoder=false: input dropout and the first layer's linear map on a "
                             "sparse copy of the raw features (dropout draws only the non-zero entries, the same "
                             "distribution as dense dropout); auto: when under 10% of the entries are non-zero "
                             "(bag-of-words features)", choices=("auto", "true", "false"))
SPARSE_DENSITY = 0.1


def sparse_dropout(x: torch.Tensor, p: float, training: bool, keep: torch.Tensor | None = None) -> torch.Tensor:
    """Dropout on the stored entries of a sparse CSR matrix: each is zeroed with probability ``p`` and the others
    scaled by ``1 / (1 - p)``, as torch's dense dropout does (``x · (bernoulli(1 - p) / (1 - p))``); the entries that
    are zero stay zero either way, so the result has the distribution of dense dropout on the same matrix (Kipf &
    Welling's ``sparse_dropout``). ``keep``: the 0/1 mask over ``x.values()`` to use instead of a fresh draw."""
    if not training or p == 0.0:
        return x
    values = x.values()
    if keep is None:
        keep = torch.empty_like(values).bernoulli_(1.0 - p)
    noise = keep.to(values.dtype).div(1.0 - p) if p < 1.0 else torch.zeros_like(values)
    return torch.sparse_csr_tensor(x.crow_indices(), x.col_indices(), values * noise, x.shape, check_invariants=False)


#: Hyperparameters every model accepts, with their defaults.
COMMON_HPARAMS: dict[str, HParam] = {
    "hidden": HParam(int, 64, "hidden width", low=1),
    "layers": HParam(int, 4, "message-passing layers", low=1),
    "dropout": HParam(float, 0.0, "dropout after each layer and in the head", low=0.0, high=0.99),
    "norm": HParam(str, "batch", "normalisation after each layer", choices=NORMS),
    "residual": HParam(bool, True, "add each layer's input to its output"),
    "readout": HParam(str, "mean", "graph readout (graph-level tasks)", choices=READOUTS),
    "encoder": HParam(bool, True, "input encoder to `hidden` (off: the first layer reads the raw features)"),
    "encoder_act": HParam(bool, False, "`norm` and activation after the input encoder (Errica et al.'s GIN input "
                          "layer: Linear → BatchNorm → ReLU)"),
    "head": HParam(str, "mlp", "prediction head: 2-layer mlp, linear, or none (the last layer outputs the classes)",
                   choices=HEADS),
    "input_dropout": HParam(float, 0.0, "dropout on the input layer's node states: the raw features with "
                                        "encoder=false (Kipf & Welling, GAT), the encoder's output otherwise",
                            low=0.0, high=0.99),
    "layer_dropout": HParam(bool, True, "apply `dropout` after every layer (off: only in the head / readout)"),
    "activation": HParam(str, "relu", "activation after each layer", choices=tuple(ACTIVATIONS)),
    "decay_scope": HParam(str, "all", "parameters that weight decay applies to: all, or first_layer (Kipf & "
                          "Welling)", choices=DECAY_SCOPES),
    "layer_readout": HParam(str, "last", "graph tasks: read out the last layer into the head; sum every layer's "
                            "linear readout (Xu et al. Eq. 4.2); or concat every layer's readout into the head "
                            "(Errica et al.'s GraphSAGE)", choices=LAYER_READOUTS),
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


def raw_input_dim(spec: FeatureSpec) -> int:
    """Width of the raw features a first layer reads without an encoder (one-hot columns for categorical)."""
    if spec.kind == "dense":
        return spec.dim
    if spec.kind == "categorical":
        return sum(spec.cardinalities)
    raise ValueError("encoder=false needs node features, but this dataset has none; keep the input encoder "
                     "(encoder=true), which gives every node the same learned vector")


def raw_input(spec: FeatureSpec, feat: torch.Tensor, num: int) -> torch.Tensor:
    """``[num, raw_input_dim(spec)]`` floats: dense features as they are, categorical columns one-hot."""
    if spec.kind == "dense":
        return feat.reshape(num, -1).float()
    cols = feat.reshape(num, -1).long()
    return torch.cat([nn.functional.one_hot(cols[:, j], c).float() for j, c in enumerate(spec.cardinalities)], 1)


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
                 task_level: str = "graph", edge_dim: int | FeatureSpec | None = None, pe_dim: int = 0,
                 encoder: bool = True, head: str = "mlp", input_dropout: float = 0.0, layer_dropout: bool = True,
                 activation: str = "relu", decay_scope: str = "all", layer_readout: str = "last",
                 encoder_act: bool = False, sparse_input: str = "false") -> None:
        super().__init__()
        if sparse_input not in ("auto", "true", "false"):
            raise ValueError(f"sparse_input must be 'auto', 'true' or 'false', got {sparse_input!r}")
        if task_level not in ("graph", "node"):
            raise ValueError(f"task_level must be 'graph' or 'node', got {task_level!r}")
        if layer_readout != "last" and task_level != "graph":
            raise ValueError(f"layer_readout={layer_readout!r} is a graph readout; use 'last' for node tasks")
        if not encoder and pe_dim > 0:
            raise ValueError("a positional encoding is added by the input encoder; keep encoder=true with pe")
        self.hidden, self.num_layers, self.task_level, self.readout_op = hidden, layers, task_level, readout
        self.residual, self.decay_scope, self.layer_readout = residual, decay_scope, layer_readout
        self.in_spec = as_spec(in_dim)
        self.encoder = FeatureEncoder(self.in_spec, hidden, pe_dim=pe_dim) if encoder else None
        # Layer widths: the convolutions map dims[i] -> dims[i + 1]; without a head the last one outputs the classes.
        self.outputs_from_last_layer = head == "none" and layer_readout == "last"
        if head == "none" and layer_readout == "concat":
            raise ValueError("layer_readout='concat' feeds the head; use head='mlp' or 'linear'")
        head_in = hidden * layers if layer_readout == "concat" else hidden
        dims = [hidden if encoder else raw_input_dim(self.in_spec)] + [hidden] * layers
        if self.outputs_from_last_layer:
            dims[-1] = out_dim
        self.layer_dims = dims
        edge_spec = as_spec(edge_dim)
        self.edge_encoders = None
        if self.uses_edge_features and edge_spec.kind != "none":
            self.edge_encoders = nn.ModuleList(FeatureEncoder(edge_spec, dims[i]) for i in range(layers))
        self.convs = nn.ModuleList(self._build_conv(i, dims[i], dims[i + 1]) for i in range(layers))
        n_post = layers - 1 if self.outputs_from_last_layer else layers  # no norm/activation after the output layer
        self.norms = nn.ModuleList(make_norm(norm, dims[i + 1]) for i in range(n_post))
        self.activation = ACTIVATIONS[activation]()
        self.encoder_post = None
        if encoder and encoder_act:
            self.encoder_post = nn.Sequential(make_norm(norm, hidden), ACTIVATIONS[activation]())
        self.input_dropout = nn.Dropout(input_dropout)
        self.dropout = nn.Dropout(dropout)
        self.layer_drop = nn.Dropout(dropout if layer_dropout else 0.0)
        self.sparse_input = sparse_input
        self._sparse_ok = self._sparse_input_possible()
        if sparse_input == "true" and not self._sparse_ok:
            raise ValueError(f"sparse_input=true: {type(self).__name__} cannot read sparse features here; it needs "
                             "encoder=false, dense node features, layer_readout=last, no residual around the first "
                             "layer, and a first convolution that starts with a linear map (GCN, GAT, GraphSAGE "
                             "mean/pool/gcn); use auto or false")
        self.layer_heads = None
        if layer_readout == "sum":  # Xu et al. Eq. 4.2: one linear readout per layer, input layer included
            self.layer_heads = nn.ModuleList(nn.Linear(d, out_dim) for d in dims)
            self.head = nn.Identity()
        elif head == "mlp":
            self.head = MLP(head_in, hidden, out_dim, num_layers=2, dropout=dropout)
        elif head == "linear":
            self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(head_in, out_dim))
        else:
            self.head = nn.Identity()

    def first_conv_reads_sparse(self) -> bool:
        """Whether the first convolution accepts a sparse CSR feature matrix (its first step is a linear map of
        the input, which runs as a sparse-dense product); a family that can says so (GCN, GAT, GraphSAGE)."""
        return False

    def _sparse_input_possible(self) -> bool:
        """The sparse input path applies: raw dense features read by the first convolution alone (the input
        layer's states are not read out or added back as a residual) and a first convolution that can take them."""
        return (self.encoder is None and self.in_spec.kind == "dense" and self.layer_readout == "last"
                and not (self.residual and self.layer_dims[0] == self.layer_dims[1])
                and self.first_conv_reads_sparse())

    def sparse_features(self, batch: Batch) -> torch.Tensor | None:
        """The batch's raw features as a sparse CSR matrix when the sparse input path is on for it (``sparse_input``
        true, or auto and under ``SPARSE_DENSITY`` of the entries non-zero), else ``None``; decided and built once
        per batch (a node-level run's one graph: once per run)."""
        if self.sparse_input == "false" or not self._sparse_ok:
            return None

        def build() -> torch.Tensor | None:
            dense = raw_input(self.in_spec, batch.feat, batch.num_nodes)
            if self.sparse_input == "auto" and int(torch.count_nonzero(dense)) >= SPARSE_DENSITY * dense.numel():
                return None
            with warnings.catch_warnings():  # torch: "sparse CSR support is in beta state"
                warnings.simplefilter("ignore", UserWarning)
                return dense.to_sparse_csr()

        return batch.memo(f"sparse_features_{self.sparse_input}", build)

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        """The convolution of layer ``layer``: maps ``[n, in_dim]`` node states to ``[n, out_dim]`` (both are
        ``hidden`` unless the encoder or the head is switched off; the last layer's ``out_dim`` is then the number
        of outputs)."""
        raise NotImplementedError

    def _build_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        if len(inspect.signature(self.make_conv).parameters) == 1:  # plugins written for make_conv(layer)
            if (in_dim, out_dim) != (self.hidden, self.hidden):
                raise ValueError(f"{type(self).__name__}.make_conv(layer) builds hidden -> hidden convolutions only; "
                                 "define make_conv(layer, in_dim, out_dim) to allow encoder=false or head=none")
            return self.make_conv(layer)
        return self.make_conv(layer, in_dim, out_dim)

    def is_output_layer(self, layer: int) -> bool:
        """Whether layer ``layer`` produces the predictions itself (``head="none"``): e.g. GAT averages its heads."""
        return self.outputs_from_last_layer and layer == self.num_layers - 1

    def apply_conv(self, conv: nn.Module, graph: dgl.DGLGraph, h: torch.Tensor,
                   e: torch.Tensor | None) -> torch.Tensor:
        """One convolution call; override when the layer needs edge features or reshaping."""
        return conv(graph, h)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def param_groups(self, weight_decay: float) -> list[dict]:
        """Optimiser parameter groups with their weight decay (the trainer's hook for per-group decay):
        ``decay_scope="all"`` decays everything, ``"first_layer"`` only the first convolution (and the encoder,
        if any), as Kipf & Welling (§5.2: "L2 regularization ... for the first layer")."""
        if self.decay_scope == "all":
            return [{"params": list(self.parameters()), "weight_decay": weight_decay}]
        first = list(self.convs[0].parameters()) + (list(self.encoder.parameters()) if self.encoder else [])
        ids = {id(p) for p in first}
        rest = [p for p in self.parameters() if id(p) not in ids]
        return [{"params": first, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]

    # -- forward path: encode → propagate → pool → head; a family overrides the step it changes -------------------
    def encode(self, batch: Batch) -> torch.Tensor:
        """The input layer's node states: the encoder (with its norm and activation when ``encoder_act``) or the raw
        features (``encoder=False``), then input dropout. On the sparse input path (:meth:`sparse_features`) the
        raw features stay a sparse CSR matrix and dropout acts on its non-zero entries (:func:`sparse_dropout`);
        only the first convolution reads them."""
        sparse = self.sparse_features(batch) if self.encoder is None else None
        if sparse is not None:
            return sparse_dropout(sparse, self.input_dropout.p, self.training)
        if self.encoder is not None:
            h = self.encoder(batch.feat, batch.num_nodes, batch.pe)
            if self.encoder_post is not None:
                h = self.encoder_post(h)
        else:
            h = raw_input(self.in_spec, batch.feat, batch.num_nodes)
        return self.input_dropout(h)

    def message_graph(self, batch: Batch) -> tuple[dgl.DGLGraph, torch.Tensor | None]:
        """The graph the convolutions run on and its raw edge features (with self-loops when the convolution
        wants them; computed once per batch)."""
        if not self.self_loops:
            return batch.graph, batch.efeat
        # the convolutions that want self-loops take no edge features
        return batch.memo("self_loops", lambda: dgl.add_self_loop(dgl.remove_self_loop(batch.graph))), None

    def layer_step(self, i: int, h: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """After layer ``i``'s convolution: norm → activation → dropout (nothing after an output layer), plus the
        residual connection where the layer keeps its width."""
        if i < len(self.norms):
            out = self.layer_drop(self.activation(self.norms[i](out)))
        return h + out if self.residual and out.shape == h.shape else out

    def layer_states(self, batch: Batch, h: torch.Tensor) -> list[torch.Tensor]:
        """Node states of every layer, the input layer's ``h`` first: ``layers + 1`` tensors. A family with its
        own layer loop overrides this (or only :meth:`propagate` if it supports ``layer_readout="last"`` alone);
        :meth:`layer_step` keeps the norm / activation / dropout / residual plumbing shared."""
        graph, efeat = self.message_graph(batch)
        states = [h]
        for i, conv in enumerate(self.convs):
            e = self.edge_encoders[i](efeat, graph.num_edges()) if self.edge_encoders is not None else None
            h = self.layer_step(i, h, self.apply_conv(conv, graph, h, e))
            states.append(h)
        return states

    def propagate(self, batch: Batch, h: torch.Tensor) -> torch.Tensor:
        """The last layer's node states from the input layer's ``h``."""
        return self.layer_states(batch, h)[-1]

    def pool(self, batch: Batch, h: torch.Tensor) -> torch.Tensor:
        """Graph readout ``[num_nodes, d] → [num_graphs, d]``: sum and mean through
        :func:`~graphbench.transforms.batch.segment_pool` (the same numbers as DGL's readout, at less cost per call),
        the other readouts through :func:`graphbench.nn.readout`."""
        if isinstance(self.readout_op, str) and self.readout_op in ("sum", "mean"):
            return segment_pool(batch, h, self.readout_op)
        return readout(batch.graph, h, self.readout_op)

    def layer_term(self, k: int, batch: Batch, h: torch.Tensor) -> torch.Tensor:
        """Layer ``k``'s term of the all-layer sum readout (``layer_readout="sum"``, Xu et al. Eq. 4.2):
        ``dropout(W_k · READOUT({h_v^(k)}))``, ``[num_graphs, out_dim]``; a family overrides it to read a layer out
        otherwise (Errica et al.'s GIN pools the input layer after its linear map)."""
        return self.dropout(self.layer_heads[k](self.pool(batch, h)))

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
        if self.layer_heads is not None:  # Xu et al. Eq. 4.2: Σ_k dropout(W_k · READOUT(h^(k)))
            states = self.layer_states(batch, self.encode(batch))
            return sum(self.layer_term(k, batch, h) for k, h in enumerate(states))
        if self.layer_readout == "concat":
            states = self.layer_states(batch, self.encode(batch))[1:]
            return self.head(torch.cat([self.pool(batch, h) for h in states], dim=-1))
        h = self.node_states(batch)
        if self.task_level == "graph":
            h = self.pool(batch, h)
        return self.head(h)
