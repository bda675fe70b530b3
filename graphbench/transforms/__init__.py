"""Transforms and model inputs: how a new family plugs in without touching the trainer or the runner.

**Transforms** (``graphbench.transforms.base``) are pure, named, versioned functions of one example, registered
in ``TRANSFORMS`` with declared hyperparameters (like models) and declared outputs. A run selects a chain::

    hparams: {transforms: [{name: lappe, k: 8}, {name: spd, cutoff: 3}]}     # run file / sweep file / API
    transforms: [{name: lappe, k: 8}]                                         # run file: top-level shorthand
    search_space: {lappe.k: {type: int, low: 4, high: 16}}                    # sweep: a parameter is a dimension

``pe: rwse|lappe`` with ``pe_dim`` (the trainer's older switch) appends that encoding to the chain. The chain is
applied to the whole dataset once (:func:`graphbench.transforms.apply.prepare`): in worker processes with a
progress bar, cached on disk beside the dataset cache keyed by dataset fingerprint + chain (names, parameters,
versions) + seed for stochastic steps, shared by concurrent processes through a lock and an atomic rename.

**Outputs and batching.** A transform declares each output as

- ``Node(role="pe", width="k", augment="sign_flip")``: ``ndata[key]``; ``pe`` outputs are concatenated into
  ``batch.pe`` and fed to the model's input encoder (``augment`` is applied while training only);
- ``Edge()``: ``edata[key]`` (e.g. ``etype``, the integer edge type a rewiring adds; see ``nn.RelationalConv``);
- ``NodeIndex(dim, of)`` / ``EdgeIndex(dim, of)`` / ``Concat(dim)`` / ``SubGraph()``: a per-graph tensor outside
  ``ndata``/``edata`` (path node lists, node triples, pair-node indices, a product graph) and how a batch
  concatenates it: node (edge) ids are shifted by their graph's node (edge) offset, negative padding kept.

**Models** receive one :class:`~graphbench.transforms.batch.Batch` (``batch.graph``, ``batch.feat``,
``batch.efeat``, ``batch.etype``, ``batch.pe``, ``batch["key"]``, ``batch.graph_ids("key")``). A model class
declares what it needs::

    class PathNN(MessagePassingNet):                             # graphbench/models/pathnn.py
        extras = {"path_nodes": NodeIndex(), "path_edges": EdgeIndex(), "path_dists": Concat()}
        @classmethod
        def input_transforms(cls, hparams):                      # appended to the run's chain
            return [{"name": "paths", "kind": "ap", "cutoff": hparams["cutoff"]}]
        def propagate(self, batch, h):                           # its own layer loop; encoder / readout / head
            ...                                                  # come from MessagePassingNet

Plain message-passing models only implement ``make_conv`` (and ``apply_conv``) as before.
"""

from graphbench.registry import TRANSFORMS
from graphbench.rewiring import transforms as _rewiring  # noqa: F401,E402  (registers laser, gtr, fosr, sdrf, borf)
from graphbench.transforms import pe  # noqa: F401  (registers the encodings)
from graphbench.transforms.base import (
    Concat,
    Edge,
    EdgeIndex,
    Extra,
    Node,
    NodeIndex,
    Step,
    SubGraph,
    TransformResult,
    pe_width,
    register_transform,
    resolve_chain,
    transform_hparams,
)
from graphbench.transforms.batch import Batch, Collator, as_batch

__all__ = ["TRANSFORMS", "Batch", "Collator", "Concat", "Edge", "EdgeIndex", "Extra", "Node", "NodeIndex", "Step",
           "SubGraph", "TransformResult", "as_batch", "pe_width", "register_transform", "resolve_chain",
           "transform_hparams"]
