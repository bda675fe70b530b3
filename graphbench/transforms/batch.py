"""The batch object every model receives, and the collator that builds it.

:class:`Batch` holds the ``dgl.batch``-ed graph (node/edge tensors, edge types), the concatenated positional
encodings (``pe``) and every per-graph extra tensor, concatenated and offset as its :class:`~.base.Extra`
declaration says (node ids shifted by each graph's node offset, edge ids by its edge offset, extra graphs batched
by ``dgl.batch``). ``batch.sizes[key]`` holds each graph's row count of ``extras[key]`` and
:meth:`Batch.graph_ids` the graph of every row, for segment reductions.

The :class:`Collator` is built once per run from the dataset's declared outputs and the model's declared extras;
it is the ``collate_fn`` of the trainer's data loader and, for node-level datasets, wraps the single graph once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import dgl
import torch

from graphbench.transforms.base import Extra, Node


@dataclass
class Batch:
    """One mini-batch (or one whole node-level graph). See the module docstring."""

    graph: dgl.DGLGraph
    pe: torch.Tensor | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    sizes: dict[str, torch.Tensor] = field(default_factory=dict)
    num_graphs: int = 1
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def feat(self) -> torch.Tensor | None:
        return self.graph.ndata.get("feat")

    @property
    def efeat(self) -> torch.Tensor | None:
        return self.graph.edata.get("feat")

    @property
    def etype(self) -> torch.Tensor | None:
        """Integer edge type per edge (``edata["etype"]``) when the graph carries one."""
        return self.graph.edata.get("etype")

    @property
    def num_nodes(self) -> int:
        return self.graph.num_nodes()

    def __getitem__(self, key: str) -> Any:
        if key not in self.extras:
            raise KeyError(f"the batch has no extra {key!r}; it has {sorted(self.extras)}. A model declares the "
                           "extras it needs (``extras = {...}``) and the transforms that make them "
                           "(``input_transforms``)")
        return self.extras[key]

    def graph_ids(self, key: str) -> torch.Tensor:
        """The graph (0..num_graphs-1) each row of ``extras[key]`` (along its batching dim) belongs to."""
        return self.memo(key, lambda: segment_ids(self.sizes[key]))

    def node_graph_ids(self) -> torch.Tensor:
        """The graph (0..num_graphs-1) of every node of the batched graph, ``[num_nodes]``; computed once per batch
        (every readout of the batch shares it)."""
        return self.memo("node_graph_ids", lambda: segment_ids(self.graph.batch_num_nodes()))

    def memo(self, name: str, build) -> Any:
        """A value derived from this batch, computed once (e.g. the graph with self-loops for every layer)."""
        if name not in self._cache:
            self._cache[name] = build()
        return self._cache[name]

    def to(self, device: torch.device | str) -> Batch:
        dev = torch.device(device)
        if self.graph.device == dev:
            return self
        return Batch(self.graph.to(dev), None if self.pe is None else self.pe.to(dev),
                     {k: v.to(dev) for k, v in self.extras.items()}, {k: v.to(dev) for k, v in self.sizes.items()},
                     self.num_graphs)

    @classmethod
    def from_graph(cls, graph: dgl.DGLGraph, feat: torch.Tensor | None = None, efeat: torch.Tensor | None = None,
                   pe: torch.Tensor | None = None) -> Batch:
        """Wrap a (batched) graph called the old way ``model(graph, feat, efeat, pe)``: explicit tensors win over
        ``ndata["feat"]`` / ``edata["feat"]``; ``pe`` defaults to ``ndata["pe"]``."""
        if feat is not None or efeat is not None:
            graph = graph.local_var()
            if feat is not None:
                graph.ndata["feat"] = feat
            if efeat is not None:
                graph.edata["feat"] = efeat
        if pe is None:
            pe = graph.ndata.get("pe")
        return cls(graph, pe, num_graphs=graph.batch_size)


def segment_ids(sizes: torch.Tensor) -> torch.Tensor:
    """The segment ``0..len(sizes)-1`` of every row of rows stored segment after segment, ``sizes[i]`` rows each."""
    return torch.repeat_interleave(torch.arange(len(sizes), device=sizes.device), sizes)


def segment_pool(batch: Batch, h: torch.Tensor, op: str) -> torch.Tensor:
    """Sum or mean of each graph's rows of ``h`` (``[num_nodes, ...] → [num_graphs, ...]``), an ``index_add`` over
    :meth:`Batch.node_graph_ids`. The additions run in node order from zero, as in DGL's segment reduction
    (``dgl.readout_nodes``), so the results are the same numbers, and the mean divides by the node count clamped to
    at least 1 as DGL does (an empty graph pools to zeros); it skips DGL's per-call frame and format bookkeeping, a
    noticeable share of a small-graph batch's time."""
    if op not in ("sum", "mean"):
        raise ValueError(f"segment_pool computes sum or mean, not {op!r}")
    ids = batch.node_graph_ids()
    out = h.new_zeros((batch.num_graphs, *h.shape[1:])).index_add_(0, ids, h)
    if op == "mean":
        counts = batch.graph.batch_num_nodes().clamp(min=1).to(out.dtype)
        out = out / counts.reshape(-1, *([1] * (out.dim() - 1)))
    return out


def as_batch(x: Batch | dgl.DGLGraph, feat=None, efeat=None, pe=None) -> Batch:
    return x if isinstance(x, Batch) else Batch.from_graph(x, feat, efeat, pe)


def with_inputs(batch: Batch, extras: Mapping[str, Extra], steps: Sequence[Mapping[str, Any]]) -> Batch:
    """``batch`` with the per-graph ``extras`` a model declares. When it lacks any of them (a model called the old
    way, ``model(graph, feat)``, or a batch built without the model's transforms) they are made here: ``steps`` (the
    model's ``input_transforms``) run on every graph of the batch and a :class:`Collator` batches them, exactly as
    the cached pre-processing and the trainer do. A batch that carries them (the trainer, the expressiveness
    protocol) is returned as it is, at no cost."""
    if all(k in batch.extras for k in extras):
        return batch
    from graphbench.transforms.apply import apply_steps
    from graphbench.transforms.base import resolve_step

    resolved = [resolve_step(s) for s in steps]
    graphs = dgl.unbatch(batch.graph.cpu()) if batch.num_graphs > 1 else [batch.graph.cpu()]
    per_graph = [apply_steps(g, resolved, index=i)[1] for i, g in enumerate(graphs)]
    own = Collator(extras).batch(graphs, per_graph)
    dev = batch.graph.device
    return replace(batch, extras={**batch.extras, **{k: v.to(dev) for k, v in own.extras.items()}},
                   sizes={**batch.sizes, **{k: v.to(dev) for k, v in own.sizes.items()}}, _cache={})


def _offsets(sizes: torch.Tensor) -> torch.Tensor:
    return torch.cumsum(sizes, 0) - sizes


class Collator:
    """Builds :class:`Batch` objects: ``collate([(graph, extras, label), ...]) -> (Batch, labels)``.

    ``extras``: how each per-graph tensor is batched; ``pe_keys``: the ``ndata`` keys concatenated into ``pe`` (in
    this order); ``augment``: ``{ndata key: "sign_flip"}`` applied by :meth:`augment` while training.
    """

    def __init__(self, extras: Mapping[str, Extra] | None = None, pe_keys: Sequence[str] = (),
                 augment: Mapping[str, str] | None = None) -> None:
        self.extras = dict(extras or {})
        self.pe_keys = list(pe_keys)
        self.augment_keys = dict(augment or {})
        for key, spec in self.extras.items():
            if spec.of is not None and not self.extras.get(spec.of, Extra()).graph:
                raise ValueError(f"extra {key!r} is offset by {spec.of!r}, which is not a declared extra graph")
        # extra graphs first: other extras may be offset by their node / edge counts
        self._order = sorted(self.extras, key=lambda k: not self.extras[k].graph)

    @classmethod
    def for_outputs(cls, outputs: Mapping[str, Any], model_extras: Mapping[str, Extra] | None = None,
                    graph: dgl.DGLGraph | None = None) -> Collator:
        """From a chain's declared outputs (``{key: Node | Edge | Extra}``) and a model's declared extras.

        A key declared by both must be declared the same way. ``ndata["pe"]`` of a graph (set by code outside
        the transform registry) is used as an encoding too.
        """
        extras: dict[str, Extra] = {k: v for k, v in outputs.items() if isinstance(v, Extra)}
        for key, spec in (model_extras or {}).items():
            if key in extras and extras[key] != spec:
                raise ValueError(f"extra {key!r}: the model declares {spec}, its transform {extras[key]}")
            extras[key] = spec
        pe_keys = [k for k, v in outputs.items() if isinstance(v, Node) and v.role == "pe"]
        if graph is not None and "pe" in graph.ndata and "pe" not in pe_keys:
            pe_keys.append("pe")
        augment = {k: v.augment for k, v in outputs.items() if isinstance(v, Node) and v.augment}
        return cls(extras, pe_keys, augment)

    # -- building ---------------------------------------------------------------------------------------------
    def _pe(self, graph: dgl.DGLGraph) -> torch.Tensor | None:
        if not self.pe_keys:
            return None
        parts = [graph.ndata[k].reshape(graph.num_nodes(), -1).float() for k in self.pe_keys]
        return parts[0] if len(parts) == 1 else torch.cat(parts, 1)

    def batch(self, graphs: Sequence[dgl.DGLGraph], extras: Sequence[Mapping[str, Any]] | None = None) -> Batch:
        """Batch graphs and their extras (``extras[i]`` belongs to ``graphs[i]``)."""
        graph = dgl.batch(list(graphs))
        out_extras: dict[str, Any] = {}
        sizes: dict[str, torch.Tensor] = {}
        if self.extras:
            if extras is None:
                raise ValueError(f"the model needs extras {sorted(self.extras)} but the examples carry none")
            node_sizes, edge_sizes = graph.batch_num_nodes(), graph.batch_num_edges()
            for key in self._order:
                spec = self.extras[key]
                try:
                    values = [e[key] for e in extras]
                except KeyError:
                    raise KeyError(f"an example lacks the extra {key!r}; add the transform that makes it to the "
                                   "run's 'transforms' (or the model's input_transforms)") from None
                if spec.graph:
                    bg = dgl.batch(values)
                    out_extras[key], sizes[key] = bg, bg.batch_num_nodes()
                    continue
                counts = torch.tensor([v.shape[spec.dim] for v in values], dtype=torch.long)
                cat = torch.cat(values, dim=spec.dim) if len(values) > 1 else values[0]
                if spec.index is not None:
                    ref = out_extras[spec.of] if spec.of else None
                    per_graph = (node_sizes if ref is None else ref.batch_num_nodes()) if spec.index == "nodes" \
                        else (edge_sizes if ref is None else ref.batch_num_edges())
                    shift = torch.repeat_interleave(_offsets(per_graph), counts)
                    view = [1] * cat.dim()
                    view[spec.dim] = -1
                    shift = shift.reshape(view)
                    cat = torch.where(cat >= 0, cat + shift, cat)
                out_extras[key], sizes[key] = cat, counts
        return Batch(graph, self._pe(graph), out_extras, sizes, num_graphs=len(graphs))

    def __call__(self, samples: Sequence[tuple]) -> tuple[Batch, torch.Tensor]:
        graphs = [s[0] for s in samples]
        extras = [s[1] for s in samples] if self.extras else None
        labels = torch.stack([torch.as_tensor(s[2]) for s in samples])
        return self.batch(graphs, extras), labels

    # -- training-time augmentation ---------------------------------------------------------------------------
    def augment(self, batch: Batch, generator: torch.Generator | None = None) -> Batch:
        """Training-time randomness declared by the transforms (LapPE sign flips): a new :class:`Batch`.

        ``sign_flip``: each graph's columns of that encoding are multiplied by independent random ±1.
        """
        if not self.augment_keys or batch.pe is None:
            return batch
        pe, col = batch.pe.clone(), 0
        counts = batch.graph.batch_num_nodes()
        for key in self.pe_keys:
            width = batch.graph.ndata[key].reshape(batch.num_nodes, -1).shape[1]
            if self.augment_keys.get(key) == "sign_flip":
                signs = torch.randint(0, 2, (batch.num_graphs, width), generator=generator).float() * 2 - 1
                signs = torch.repeat_interleave(signs.to(pe.device), counts, dim=0)
                pe[:, col:col + width] *= signs
            elif key in self.augment_keys:
                raise ValueError(f"unknown augmentation {self.augment_keys[key]!r} for {key!r}")
            col += width
        return replace(batch, pe=pe, _cache={})
