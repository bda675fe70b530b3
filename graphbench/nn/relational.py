"""Relational layer wrapper: one convolution (one weight set) per edge type, R-GCN / R-GIN style.

Schlichtkrull et al., "Modeling Relational Data with Graph Convolutional Networks" (ESWC 2018), Eq. 2:
``h_i' = W_0 h_i + Σ_r Σ_{j ∈ N_i^r} (1 / c_{i,r}) W_r h_j``. :class:`RelationalConv` generalises the sum over
relations to any DGL-style convolution: ``h' = self_loop(h) + Σ_r conv_r(G_r, h)``, where ``G_r`` keeps every node
and only the edges of type ``r`` (``edata["etype"]``, e.g. 0 = original edge, 1 = added by a rewiring, k = hop k).
Each ``conv_r`` normalises over its own relation (GraphConv's degrees in ``G_r`` give R-GCN's ``c_{i,r}``), and
R-GIN is ``conv_r`` = a GIN layer per relation. ``self_loop=False`` leaves the self term to the convolutions
(a GIN layer already has ``(1 + ε) h_i``; with several relations it is then counted once per relation).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import dgl
import torch
from torch import nn


def relation_graphs(graph: dgl.DGLGraph, etype: torch.Tensor, num_types: int) -> list[dgl.DGLGraph]:
    """``[G_0, …, G_{R-1}]``: all nodes (same ids, batch information kept) and only the edges of each type."""
    if etype.numel() and (int(etype.min()) < 0 or int(etype.max()) >= num_types):
        raise ValueError(f"edge types must lie in 0..{num_types - 1}; got {int(etype.min())}..{int(etype.max())}. "
                         "Set num_types to the number of edge types the transforms produce")
    out = []
    for r in range(num_types):
        ids = (etype == r).nonzero(as_tuple=True)[0]
        sub = dgl.edge_subgraph(graph, ids, relabel_nodes=False, store_ids=False)
        sub.set_batch_num_nodes(graph.batch_num_nodes())
        counts = torch.bincount(torch.repeat_interleave(torch.arange(graph.batch_size, device=etype.device),
                                                        graph.batch_num_edges())[ids], minlength=graph.batch_size)
        sub.set_batch_num_edges(counts)
        out.append(sub)
    return out


class RelationGraphs(NamedTuple):
    """A typed graph split by relation once per batch (reused by every layer): ``graphs[r]`` holds every node and
    the edges of type r (plus a self-loop per node when split with ``self_loops=True``); ``edge_ids[r]`` the ids of
    those edges in the typed graph (to slice edge features; ``None`` when self-loops were added)."""

    graphs: list[dgl.DGLGraph]
    edge_ids: list[torch.Tensor] | None


def split_relations(graph: dgl.DGLGraph, etype: torch.Tensor | None, num_types: int, *,
                    self_loops: bool = False) -> RelationGraphs:
    """The relation graphs (every node, each relation's edges; plain graphs without batch information, which the
    convolutions do not need) with the edge ids of each relation; a graph without types (``etype=None``) is one
    relation (type 0) and the others are empty. ``self_loops`` adds one self-loop per node to every relation graph
    (a GCN convolution per relation with its own ``Â = A_r + I``, as LASER's per-snapshot ``GCNConv``)."""
    if etype is None:
        etype = torch.zeros(graph.num_edges(), dtype=torch.long, device=graph.device)
    etype = etype.long()
    if etype.numel() and (int(etype.min()) < 0 or int(etype.max()) >= num_types):
        raise ValueError(f"edge types must lie in 0..{num_types - 1}; got {int(etype.min())}..{int(etype.max())}")
    # plain graphs built from the edge lists (half the cost of dgl.edge_subgraph; convolutions need no batch info)
    src, dst = graph.edges()
    n = graph.num_nodes()
    ids = [(etype == r).nonzero(as_tuple=True)[0] for r in range(num_types)]
    if not self_loops:
        return RelationGraphs([dgl.graph((src[i], dst[i]), num_nodes=n) for i in ids], ids)
    loop = torch.arange(n, device=src.device)
    parts = []
    for i in ids:
        keep = i[src[i] != dst[i]]
        parts.append(dgl.graph((torch.cat([src[keep], loop]), torch.cat([dst[keep], loop])), num_nodes=n))
    return RelationGraphs(parts, None)


class RelationalConv(nn.Module):
    """``h' = W_0 h + Σ_r conv_r(G_r, h)`` (see the module docstring).

    Args:
        make_conv: ``make_conv(r) -> module`` called once per relation; each module is called as ``conv(g, h)``
            (or ``conv(g, h, e)`` when edge features are passed).
        num_types: number of edge types R.
        in_dim, out_dim: widths for the self-connection ``W_0`` (needed when ``self_loop``).
        bias: give ``W_0`` a bias (R-GCN's single bias, when the relation convolutions have none).
    """

    def __init__(self, make_conv: Callable[[int], nn.Module], num_types: int, *, in_dim: int | None = None,
                 out_dim: int | None = None, self_loop: bool = True, bias: bool = False) -> None:
        super().__init__()
        if num_types < 1:
            raise ValueError("num_types must be at least 1")
        self.num_types = num_types
        self.convs = nn.ModuleList(make_conv(r) for r in range(num_types))
        if self_loop and (in_dim is None or out_dim is None):
            raise ValueError("self_loop=True needs in_dim and out_dim for W_0")
        self.self_loop = nn.Linear(in_dim, out_dim, bias=bias) if self_loop else None

    def reset_parameters(self) -> None:
        for conv in self.convs:
            if hasattr(conv, "reset_parameters"):
                conv.reset_parameters()
        if self.self_loop is not None:
            self.self_loop.reset_parameters()

    def forward(self, graph: dgl.DGLGraph | list[dgl.DGLGraph] | RelationGraphs, h: torch.Tensor,
                e: torch.Tensor | None = None, *, etype: torch.Tensor | None = None) -> torch.Tensor:
        """``graph``: the typed graph (types from ``etype`` or ``graph.edata["etype"]``), or the relation graphs
        from :func:`split_relations` / :func:`relation_graphs` (compute them once per batch, reuse them in every
        layer)."""
        if isinstance(graph, RelationGraphs):
            graph, edge_ids = graph.graphs, graph.edge_ids
            if len(graph) != self.num_types:
                raise ValueError(f"{len(graph)} relation graphs for {self.num_types} edge types")
            parts = graph
        elif isinstance(graph, dgl.DGLGraph):
            types = etype if etype is not None else graph.edata.get("etype")
            if types is None:
                raise ValueError("RelationalConv needs edge types: edata['etype'] (a transform that types edges) "
                                 "or etype=")
            parts = relation_graphs(graph, types, self.num_types)
            edge_ids = [(types == r).nonzero(as_tuple=True)[0] for r in range(self.num_types)]
        else:
            parts, edge_ids = graph, None
            if len(parts) != self.num_types:
                raise ValueError(f"{len(parts)} relation graphs for {self.num_types} edge types")
        out = self.self_loop(h) if self.self_loop is not None else 0
        for r, (conv, g) in enumerate(zip(self.convs, parts)):
            if e is None:
                out = out + conv(g, h)
            else:
                if edge_ids is None:
                    raise ValueError("with edge features pass the typed graph, not precomputed relation graphs")
                out = out + conv(g, h, e[edge_ids[r]])
        return out
