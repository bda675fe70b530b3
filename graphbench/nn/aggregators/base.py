"""The aggregator interface: a module that reduces each node's multiset of incoming messages to one vector.

An :class:`Aggregator` is used in two places with the same code path:

- **neighbour aggregation** (``forward``): ``feat`` is ``[num_src, d]`` source-node states (the message from
  ``u`` to ``v`` is ``h_u``) or, with ``edge=True``, ``[num_edges, d]`` per-edge messages; the result is
  ``[num_dst, d]``, one vector per destination node, reducing over its in-edges;
- **readout** (``pool``): a graph's node multiset is the in-neighbourhood of one virtual node in a bipartite
  "node → graph" view of the batch, so a readout is ``forward`` on that view (vectorised, no loop over graphs).

Subclasses implement :meth:`Aggregator.aggregate`. Built-in reductions use DGL's fused kernels (``dgl.ops``);
learned multiset functions (LCM, recurrent) use :func:`reduce_by_degree`, a UDF reduce over DGL's degree buckets,
where every bucket is a dense ``[nodes_of_that_degree, degree, d]`` tensor — no padding, no loop over nodes.

Regularisers (LCM's associativity, the recurrent aggregators' permutation penalty) are recorded during
``forward`` with :meth:`Aggregator.add_penalty` and returned, already multiplied by ``reg`` (λ), by
:meth:`Aggregator.regularization_loss`; they are cleared at the start of every ``forward``.
"""

from __future__ import annotations

from collections.abc import Callable

import dgl
import dgl.function as fn
import torch
from torch import nn


class Aggregator(nn.Module):
    """Base class. ``dim``: message width ``d`` (the output has the same width); ``reg``: weight λ of the
    aggregator's regulariser (ignored by aggregators that have none).

    Shapes: ``forward(graph, [num_src, d])`` or ``forward(graph, [num_edges, d], edge=True)`` → ``[num_dst, d]``;
    ``pool(batched_graph, [num_nodes, d])`` → ``[batch_size, d]``.
    """

    #: Whether the aggregator has a regulariser that ``reg`` weights.
    regularised: bool = False

    def __init__(self, dim: int, *, reg: float = 0.0) -> None:
        super().__init__()
        if dim < 1:
            raise ValueError(f"aggregator dim must be >= 1, got {dim}")
        if reg < 0:
            raise ValueError(f"aggregator reg (λ) must be >= 0, got {reg}")
        self.dim, self.reg = dim, reg
        self._penalty_sum: torch.Tensor | None = None
        self._penalty_count = 0

    def forward(self, graph: dgl.DGLGraph, feat: torch.Tensor, *, edge: bool = False) -> torch.Tensor:
        expected = graph.num_edges() if edge else graph.num_src_nodes()
        if feat.dim() != 2 or feat.shape[0] != expected or feat.shape[1] != self.dim:
            what = "num_edges" if edge else "num_src_nodes"
            raise ValueError(f"{type(self).__name__} expects feat of shape [{what}={expected}, dim={self.dim}], "
                             f"got {tuple(feat.shape)}")
        self._penalty_sum, self._penalty_count = None, 0
        with graph.local_scope():
            return self.aggregate(graph, feat, edge)

    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        """Reduce the in-edges of every destination node: ``[num_dst, d]``."""
        raise NotImplementedError

    def pool(self, graph: dgl.DGLGraph, h: torch.Tensor) -> torch.Tensor:
        """Readout: aggregate each graph's node states, ``[num_nodes, d] → [batch_size, d]``."""
        return self(node_to_graph_view(graph), h)

    @property
    def wants_penalty(self) -> bool:
        """Whether this forward should compute the regulariser (training with λ > 0 and autograd on)."""
        return self.regularised and self.reg > 0 and self.training and torch.is_grad_enabled()

    def add_penalty(self, sq_err: torch.Tensor) -> None:
        """Record per-sample squared errors ``[k]`` (averaged over all samples of this forward)."""
        total = sq_err.sum()
        self._penalty_sum = total if self._penalty_sum is None else self._penalty_sum + total
        self._penalty_count += sq_err.numel()

    def regularization_loss(self) -> torch.Tensor:
        """λ · mean recorded penalty of the last ``forward`` (a zero scalar when none was recorded)."""
        if self._penalty_sum is None or self._penalty_count == 0:
            return _zero(self)
        return self.reg * self._penalty_sum / self._penalty_count

    def extra_repr(self) -> str:
        return f"dim={self.dim}" + (f", reg={self.reg}" if self.regularised else "")


class AggregatorModelMixin:
    """For models holding aggregators: ``regularization_loss()`` sums theirs (the trainer adds it to the loss)."""

    def regularization_loss(self) -> torch.Tensor:
        losses = [m.regularization_loss() for m in self.modules() if isinstance(m, Aggregator)]  # type: ignore
        return torch.stack(losses).sum() if losses else _zero(self)  # type: ignore[arg-type]

    def regularizes(self) -> bool:
        """Whether :meth:`regularization_loss` can be anything but a zero without gradient: some aggregator has a
        regulariser with λ > 0 (otherwise none records a penalty). The trainer asks once per run and leaves the
        term out when not — adding that zero changes neither the loss nor any gradient, and the module walk and
        the addition cost every training step."""
        return any(isinstance(m, Aggregator) and m.regularised and m.reg > 0 for m in self.modules())  # type: ignore


def _zero(module: nn.Module) -> torch.Tensor:
    """A zero scalar on the device (and dtype) of ``module``'s parameters, so it stacks with their penalties
    (a CPU zero beside CUDA penalties made ``torch.stack`` fail)."""
    p = next(module.parameters(), None)
    return torch.zeros((), device=p.device, dtype=p.dtype) if p is not None else torch.zeros(())


def node_to_graph_view(graph: dgl.DGLGraph) -> dgl.DGLGraph:
    """Bipartite graph with an edge from every node of ``graph`` to the virtual node of the graph it belongs to."""
    sizes = graph.batch_num_nodes()
    device = sizes.device
    graph_ids = torch.repeat_interleave(torch.arange(len(sizes), device=device), sizes)
    nodes = torch.arange(graph.num_nodes(), device=device)
    return dgl.heterograph({("node", "in", "graph"): (nodes, graph_ids)},
                           num_nodes_dict={"node": graph.num_nodes(), "graph": len(sizes)})


def builtin_reduce(graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool, op: str) -> torch.Tensor:
    """DGL's fused ``copy_{u,e}_{op}`` (op in sum/mean/max/min); empty neighbourhoods give 0, not ±inf."""
    out = getattr(dgl.ops, f"copy_{'e' if edge else 'u'}_{op}")(graph, feat)
    if op in ("max", "min"):
        out = torch.where(graph.in_degrees().unsqueeze(-1) > 0, out, torch.zeros((), dtype=out.dtype,
                                                                                   device=out.device))
    return out


def reduce_by_degree(graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool,
                     reducer: Callable[[torch.Tensor], torch.Tensor], empty: torch.Tensor | None = None
                     ) -> torch.Tensor:
    """Apply ``reducer`` (``[N_bucket, deg, d] → [N_bucket, d_out]``) to DGL's degree buckets.

    DGL groups destination nodes of equal in-degree and calls the UDF once per distinct degree, so ``reducer``
    sees exact multisets (no padding). Nodes without in-edges get ``empty`` (``[d_out]``), or zeros.
    """
    if edge:
        graph.edata["_m"] = feat
        message = fn.copy_e("_m", "_m")
    else:
        graph.srcdata["_m"] = feat
        message = fn.copy_u("_m", "_m")
    graph.update_all(message, lambda nodes: {"_out": reducer(nodes.mailbox["_m"])})
    if "_out" not in graph.dstdata:  # no edges at all: DGL never called the reducer
        width = feat.shape[1] if empty is None else empty.shape[-1]
        out = feat.new_zeros(graph.num_dst_nodes(), width)
    else:
        out = graph.dstdata["_out"]
    if empty is not None:
        out = torch.where(graph.in_degrees().unsqueeze(-1) > 0, out, empty.expand_as(out))
    return out
