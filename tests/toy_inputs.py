"""Toy plugins that exercise the transform / model-input interface the way the next families will.

Imported by the transform tests and, in subprocesses, before ``graphbench.cli.main`` (as a plugin would be):

- dataset ``toy-triangles``: 12-cycles with one chord; the chord (i, i+2) closes a triangle (label 1), the chord
  (i, i+3) does not (label 0); both classes have the same degree sequence;
- transform ``triangles``: every triangle of a graph as a per-graph ``[T, 3]`` node-triple tensor (``NodeIndex``);
- model ``toy-tri``: counts each node's triangles from ``batch["triples"]`` and reads the graph out (no message
  passing at all), so it is right only if the batch offsets every graph's triples into its own nodes;
- transform ``toy-hop2``: adds an edge between nodes at distance exactly 2, with ``etype`` 1 (original edges 0);
  it appends one line per graph to ``$TOY_TRANSFORM_LOG`` so a test can count computations; its version comes from
  ``$TOY_HOP2_VERSION`` (default 1).
"""

from __future__ import annotations

import os

import dgl
import numpy as np
import torch
from torch import nn

from graphbench.data.base import DatasetCard, GraphDataset, Split
from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, MessagePassingNet
from graphbench.registry import DATASETS, MODELS
from graphbench.transforms import Edge, Node, NodeIndex, TransformResult, register_transform

CARD = DatasetCard("toy-triangles", "12-cycles with a chord that closes a triangle or not", "graph", "multiclass",
                   "accuracy", "one random 60/20/20 split")


def chorded_cycle(n: int, start: int, span: int) -> dgl.DGLGraph:
    src = list(range(n)) + [start]
    dst = [(i + 1) % n for i in range(n)] + [(start + span) % n]
    s, d = torch.tensor(src + dst), torch.tensor(dst + src)
    return dgl.graph((s, d), num_nodes=n)


def toy_triangles(root=None, *, seed: int = 0, size: int = 120) -> GraphDataset:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, size)
    graphs = [chorded_cycle(12, int(rng.integers(12)), 2 if y else 3) for y in labels]
    perm = rng.permutation(size)
    a, b = int(0.6 * size), int(0.8 * size)
    return GraphDataset("toy-triangles", graphs, torch.from_numpy(labels).long(), "graph", "multiclass", "accuracy",
                        [Split("fixed", perm[:a], perm[a:b], perm[b:])], num_classes=2, card=CARD)


if "toy-triangles" not in DATASETS:
    DATASETS.add("toy-triangles", toy_triangles, card=CARD)


def triangles_of(graph: dgl.DGLGraph) -> torch.Tensor:
    """All triangles ``(a < b < c)`` of an undirected graph, ``[T, 3]`` long."""
    src, dst = graph.edges()
    nbrs: dict[int, set[int]] = {}
    for u, v in zip(src.tolist(), dst.tolist()):
        if u != v:
            nbrs.setdefault(u, set()).add(v)
    out = [(a, b, c) for a in nbrs for b in nbrs[a] if b > a for c in nbrs[b] if c > b and c in nbrs[a]]
    return torch.tensor(out, dtype=torch.long).reshape(-1, 3)


@register_transform("triangles", version=1, outputs={"triples": NodeIndex()}, override=True)
def triangles(graph, extras):
    """Every triangle of the graph as node triples (a per-graph index tensor)."""
    return TransformResult(extras={"triples": triangles_of(graph)})


@register_transform("toy-hop2", version=int(os.environ.get("TOY_HOP2_VERSION", "1")),
                    hparams={"tag": HParam(int, 0, "unused; changes the cache key")},
                    outputs={"etype": Edge()}, override=True)
def toy_hop2(graph, extras, *, tag):
    """Adds typed edges (etype 1) between nodes at distance exactly 2."""
    log = os.environ.get("TOY_TRANSFORM_LOG")
    if log:
        with open(log, "a") as f:
            f.write(f"{os.getpid()}\n")
    n = graph.num_nodes()
    a = torch.zeros(n, n, dtype=torch.bool)
    src, dst = graph.edges()
    a[src, dst] = True
    two = ((a.float() @ a.float()) > 0) & ~a & ~torch.eye(n, dtype=torch.bool)
    s2, d2 = two.nonzero(as_tuple=True)
    new = dgl.graph((torch.cat([src, s2]), torch.cat([dst, d2])), num_nodes=n)
    for k, v in graph.ndata.items():
        new.ndata[k] = v
    new.edata["etype"] = torch.cat([torch.zeros(len(src), dtype=torch.long), torch.ones(len(s2), dtype=torch.long)])
    return TransformResult(graph=new)


class ToyTriangleNet(MessagePassingNet):
    """Node state + embedding of its triangle count, summed over the graph; no message passing."""

    extras = {"triples": NodeIndex()}

    @classmethod
    def input_transforms(cls, hparams):
        return [{"name": "triangles"}]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.tri = nn.Linear(1, self.hidden)

    def make_conv(self, layer: int) -> nn.Module:
        return nn.Identity()

    def propagate(self, batch, h):
        triples = batch["triples"].reshape(-1)
        count = torch.zeros(batch.num_nodes).index_add_(0, triples, torch.ones(len(triples)))
        return h + self.tri(count[:, None])


if "toy-tri" not in MODELS:
    MODELS.add("toy-tri", ToyTriangleNet, hparams={**COMMON_HPARAMS, "readout": HParam(str, "sum", "readout")},
               task_levels=("graph",), paper="test toy")


@register_transform("toy-noise", version=1, outputs={"noise": Node()}, stochastic=True, override=True)
def toy_noise(graph, extras, *, rng):
    """A stochastic transform: one Gaussian number per node from the example's seeded stream."""
    return TransformResult(ndata={"noise": torch.from_numpy(rng.standard_normal(graph.num_nodes())).float()})
