"""Recurrent aggregators (GRU, LSTM) with the permutation-invariance regulariser of Cohen-Karlik, David and
Globerson, "Regularizing Towards Permutation Invariance in Recurrent Models", NeurIPS 2020
(https://arxiv.org/abs/2010.13055) — the recurrent baseline of the LCM paper
(``docs/models/aggregators.md`` §3).

An RNN with transition ``s_t = f(s_{t−1}, m_t)`` reads a node's messages in sequence from ``s_0 = 0``; the
output is the last hidden state ``h_n`` (``0`` for an empty neighbourhood). In training mode every node reads its
messages in a fresh uniformly random order at every forward; in eval mode in DGL's edge-id order, so evaluation
is deterministic. A degree bucket ``[N, n, d]`` is one ``nn.GRU`` / ``nn.LSTM`` call (the time loop runs inside
PyTorch, not in Python).

Regulariser (``reg = λ > 0``, training only): ``λ · mean ‖f(f(s, x₁), x₂) − f(f(s, x₂), x₁)‖²`` where ``s`` is a
state the RNN visited on this batch and ``x₁, x₂`` are two messages of the same node. Choice: per degree bucket,
one prefix length ``t`` is drawn uniformly from ``0..n`` and the sequence is run in two calls, up to ``t`` and
from ``t`` on (the same result as one call), which exposes the visited state ``s_t`` — hidden *and* cell state
for the LSTM — of every node; ``x₁, x₂`` are drawn with replacement from the node's messages; for the LSTM the
penalty compares the concatenated ``(h, c)``. ``f`` is the RNN's own layer-0 cell, called with
``torch.func.functional_call`` on the RNN's parameters.

Args: ``dim`` (d), ``reg`` (λ, 0). Shapes: ``forward(graph, [num_src, d])`` → ``[num_dst, d]``.
"""

from __future__ import annotations

import dgl
import torch
from torch import nn
from torch.func import functional_call

from graphbench.nn.aggregators.base import Aggregator, reduce_by_degree
from graphbench.registry import AGGREGATORS

State = tuple[torch.Tensor, ...]


class RecurrentAggregator(Aggregator):
    """Shared machinery; subclasses set ``rnn_type`` / ``cell_type`` (module docstring)."""

    regularised = True
    rnn_type: type[nn.RNNBase] = nn.GRU
    cell_type: type[nn.RNNCellBase] = nn.GRUCell

    def __init__(self, dim: int, *, reg: float = 0.0) -> None:
        super().__init__(dim, reg=reg)
        self.rnn = self.rnn_type(dim, dim, batch_first=True)
        # A parameter-free template for one step of self.rnn (its weights are passed in at call time).
        self._cell = [self.cell_type(dim, dim, device="meta")]  # in a list: not a submodule, no parameters

    def reset_parameters(self) -> None:
        self.rnn.reset_parameters()

    def _run(self, x: torch.Tensor, state: State | None) -> tuple[torch.Tensor, State]:
        """Run the RNN over ``[N, t, d]`` from ``state`` (None: zeros); returns the final state as a tuple."""
        init = None if state is None else (state[0].unsqueeze(0) if len(state) == 1
                                           else tuple(s.unsqueeze(0) for s in state))
        _, final = self.rnn(x, init)
        final = final if isinstance(final, tuple) else (final,)
        return final[0][0], tuple(s[0] for s in final)

    def step(self, x: torch.Tensor, state: State) -> State:
        """One transition ``f(s, x)`` with the RNN's own weights."""
        params = {"weight_ih": self.rnn.weight_ih_l0, "weight_hh": self.rnn.weight_hh_l0,
                  "bias_ih": self.rnn.bias_ih_l0, "bias_hh": self.rnn.bias_hh_l0}
        out = functional_call(self._cell[0], params, (x, state if len(state) > 1 else state[0]))
        return out if isinstance(out, tuple) else (out,)

    def _reduce(self, mailbox: torch.Tensor) -> torch.Tensor:
        num, n, dim = mailbox.shape
        if self.training:
            order = torch.rand(num, n, device=mailbox.device).argsort(dim=1)
            mailbox = torch.gather(mailbox, 1, order.unsqueeze(-1).expand(-1, -1, dim))
        if not self.wants_penalty:
            return self._run(mailbox, None)[0]
        t = int(torch.randint(n + 1, ()).item())
        zeros = mailbox.new_zeros(num, dim)
        state = self._run(mailbox[:, :t], None)[1] if t > 0 else tuple(zeros for _ in self._state_slots())
        self._commutation_penalty(mailbox, state)
        return self._run(mailbox[:, t:], state)[0] if t < n else state[0]

    def _state_slots(self) -> range:
        return range(2 if self.rnn_type is nn.LSTM else 1)

    def _commutation_penalty(self, mailbox: torch.Tensor, state: State) -> None:
        num, n, dim = mailbox.shape
        idx = torch.randint(n, (num, 2, 1), device=mailbox.device).expand(-1, -1, dim)
        x1, x2 = torch.gather(mailbox, 1, idx).unbind(1)
        # Both orders in one batch: rows [0, N) read x1 then x2, rows [N, 2N) read x2 then x1.
        doubled = tuple(torch.cat([s, s]) for s in state)
        after = self.step(torch.cat([x2, x1]), self.step(torch.cat([x1, x2]), doubled))
        a, b = torch.cat(after, dim=-1).chunk(2)
        self.add_penalty(((a - b) ** 2).sum(-1))

    def aggregate(self, graph: dgl.DGLGraph, feat: torch.Tensor, edge: bool) -> torch.Tensor:
        return reduce_by_degree(graph, feat, edge, self._reduce)


@AGGREGATORS.register("gru", description="GRU over the neighbours in random order, Cohen-Karlik "
                                         "permutation regulariser", regularised=True)
class GRUAggregator(RecurrentAggregator):
    rnn_type, cell_type = nn.GRU, nn.GRUCell


@AGGREGATORS.register("lstm", description="LSTM over the neighbours in random order, Cohen-Karlik "
                                          "permutation regulariser", regularised=True)
class LSTMAggregator(RecurrentAggregator):
    rnn_type, cell_type = nn.LSTM, nn.LSTMCell
