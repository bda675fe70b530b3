"""LCM — Ong & Veličković, "Learnable Commutative Monoids for Graph Neural Networks", LoG 2022
(PMLR 198:43, https://arxiv.org/abs/2212.08541); ``docs/models/aggregators.md`` §2 derives it and names the one public
implementation (PyTorch Geometric's ``LCMAggregation``).

A learnable binary operator, commutative by construction,

    x ⊕ y = ½ [g(x, y) + g(y, x)],      g = GRUCell(input=x, hidden=y)   (or an MLP on [x ‖ y]),

reduces each in-neighbourhood ``{m_1, …, m_n}`` with a balanced binary tree: at every level, elements
``(0, 1), (2, 3), …`` are combined and an odd last element is carried up unchanged, so ``n`` elements need exactly
``⌈log₂ n⌉`` levels. Each level is ONE batched operator call over all pairs of all nodes of a degree bucket (the
pairs ``(x, y)`` and ``(y, x)`` are stacked into the same call), so the sequential depth is ``⌈log₂ n⌉`` operator
applications, against ``n`` for a recurrent aggregator. Messages are first projected by ``ReLU(W m + b)``
(``project=True``, as in PyG's ``LCMAggregation``).

Choices where the paper's details could not be checked (``docs/models/aggregators.md`` §2):

- **No padding.** DGL's UDF reduce hands over nodes of equal in-degree together (``[N, n, d]``), so each tree sees
  exactly its node's multiset. The PyG port pads to the maximum degree with zero vectors, which are *not* an
  identity of ⊕ and change the result; here nothing is padded.
- **Identity element.** A learned vector ``e`` is the output for an empty neighbourhood (a monoid's unit); it is
  used for degree-0 nodes only (never as padding), so it receives gradient only from them.
- **Associativity** is not built in. ``reg = λ > 0`` adds ``λ · mean ‖(a ⊕ b) ⊕ c − a ⊕ (b ⊕ c)‖²`` over one
  triple per node, drawn with replacement from that node's (projected) messages, at every training forward —
  the leaves being the values the operator is trained on, and a cheap, unbiased sample of them.
- **Tree shape** follows the message order DGL gives (edge-id order). Commutativity makes every tree node
  invariant to swapping its two children; the result is permutation-invariant exactly where ⊕ is associative.

Args: ``dim`` (d), ``operator`` ("gru" or "mlp"), ``project`` (True), ``reg`` (λ, 0).
Shapes: ``forward(graph, [num_src, d])`` → ``[num_dst, d]`` (see :class:`~graphbench.nn.aggregators.Aggregator`).
"""

from __future__ import annotations

from collections.abc import Callable

import dgl
import torch
from torch import nn

from graphbench.nn.aggregators.base import Aggregator, reduce_by_degree
from graphbench.nn.mlp import MLP
from graphbench.registry import AGGREGATORS

OPERATORS = ("gru", "mlp")


class GRUOperator(nn.Module):
    """``g(x, y) = GRUCell(input=x, hidden=y)``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.cell = nn.GRUCell(dim, dim)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.cell(x, y)


class MLPOperator(nn.Module):
    """``g(x, y) = MLP([x ‖ y])``, two layers of width ``2d``."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.mlp = MLP(2 * dim, 2 * dim, dim, num_layers=2)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.mlp(torch.cat([x, y], dim=-1))


def tree_reduce(x: torch.Tensor, combine: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Reduce ``[N, n, d]`` to ``[N, d]`` by a balanced binary tree of ``⌈log₂ n⌉`` levels of ``combine``.

    ``combine`` maps two ``[P, d]`` tensors to ``[P, d]`` and is called once per level (on all ``N · ⌊n/2⌋``
    pairs); an odd last element is carried to the next level unchanged.
    """
    num, _, dim = x.shape
    while x.shape[1] > 1:
        n = x.shape[1]
        pairs = n // 2
        left = x[:, 0:2 * pairs:2].reshape(-1, dim)
        right = x[:, 1:2 * pairs:2].reshape(-1, dim)
        merged = combine(left, right).reshape(num, pairs, dim)
        x = torch.cat([merged, x[:, n - 1:]], dim=1) if n % 2 else merged
    return x[:, 0]


@AGGREGATORS.register("lcm", description="learnable commutative monoid, GRU-cell operator, binary tree of depth "
                                         "⌈log2 d⌉ (Ong & Veličković 2022)", regularised=True)
class LCMAggregator(Aggregator):
    """Learnable commutative monoid aggregation (module docstring)."""

    regularised = True

    def __init__(self, dim: int, *, operator: str = "gru", project: bool = True, reg: float = 0.0) -> None:
        super().__init__(dim, reg=reg)
        if operator not in OPERATORS:
            raise ValueError(f"LCM operator must be one of {OPERATORS}, got {operator!r}")
        self.operator_kind = operator
        self.project = nn.Linear(dim, dim) if project else None
        self.operator = GRUOperator(dim) if operator == "gru" else MLPOperator(dim)
        self.identity = nn.Parameter(torch.zeros(dim))

    def reset_parameters(self) -> None:
        if self.project is not None:
            self.project.reset_parameters()
        for m in self.operator.modules():
            if m is not self.operator and hasattr(m, "reset_parameters"):
                m.reset_parameters()
        nn.init.zeros_(self.identity)

    def combine(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``x ⊕ y = ½[g(x, y) + g(y, x)]`` for ``[P, d]`` operands, as one operator call on ``2P`` rows."""
        both = self.operator(torch.cat([x, y]), torch.cat([y, x]))
        forward, backward = both.chunk(2)
        return 0.5 * (forward + backward)

    def _reduce(self, mailbox: torch.Tensor) -> torch.Tensor:
        if self.wants_penalty and mailbox.shape[1] > 1:
            self._associativity_penalty(mailbox)
        return tree_reduce(mailbox, self.combine)

    def _associativity_penalty(self, mailbox: torch.Tensor) -> None:
        num, n, dim = mailbox.shape
        idx = torch.randint(n, (num, 3, 1), device=mailbox.device).expand(-1, -1, dim)
        a, b, c = torch.gather(mailbox, 1, idx).unbind(1)
        ab, bc = self.combine(torch.cat([a, b]), torch.cat([b, c])).chunk(2)
        left, right = self.combine(torch.cat([ab, a]), torch.cat([c, bc])).chunk(2)
        self.add_penalty(((left - right) ** 2).sum(-1))

    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        if self.project is not None:
            feat = torch.relu(self.project(feat))
        return reduce_by_degree(graph, feat, edge, self._reduce, empty=self.identity)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, operator={self.operator_kind!r}"


@AGGREGATORS.register("lcm-mlp", description="LCM with an MLP operator g(x, y) = MLP([x ‖ y])", regularised=True)
class LCMMLPAggregator(LCMAggregator):
    """LCM with the MLP operator (``operator="mlp"``)."""

    def __init__(self, dim: int, *, project: bool = True, reg: float = 0.0) -> None:
        super().__init__(dim, operator="mlp", project=project, reg=reg)
