"""Swappable neighbourhood aggregators, looked up by name from the ``AGGREGATORS`` registry.

Built-ins: ``sum``, ``mean``, ``max``, ``min``, ``std`` (parameter-free), ``pna`` (Corso et al. 2020), ``gnp``
(Ko et al. 2021), ``lcm`` / ``lcm-mlp`` (Ong & Veličković 2022), ``gru`` / ``lstm`` (recurrent, with the
Cohen-Karlik et al. 2020 permutation regulariser). ``make_aggregator("lcm", 64, reg=0.1)`` builds one.
"""

from __future__ import annotations

from typing import Any

from graphbench.nn.aggregators import gnp, lcm, pna, recurrent, simple  # noqa: F401  (registration)
from graphbench.nn.aggregators.base import (
    Aggregator,
    AggregatorModelMixin,
    node_to_graph_view,
    reduce_by_degree,
)
from graphbench.nn.aggregators.gnp import GNPAggregator
from graphbench.nn.aggregators.lcm import LCMAggregator, tree_reduce
from graphbench.nn.aggregators.pna import PNAAggregator
from graphbench.nn.aggregators.recurrent import GRUAggregator, LSTMAggregator
from graphbench.registry import AGGREGATORS


def make_aggregator(name: str, dim: int, *, reg: float = 0.0, **options: Any) -> Aggregator:
    """Build the aggregator registered as ``name`` for messages of width ``dim``; ``reg`` is its regulariser's λ
    (ignored by aggregators without one); ``options`` go to its constructor (e.g. ``operator="mlp"`` for LCM)."""
    return AGGREGATORS.get(name).obj(dim, reg=reg, **options)


def aggregator_names() -> list[str]:
    return AGGREGATORS.names()


__all__ = ["AGGREGATORS", "Aggregator", "AggregatorModelMixin", "GNPAggregator", "GRUAggregator",
           "LCMAggregator", "LSTMAggregator", "PNAAggregator", "aggregator_names", "make_aggregator",
           "node_to_graph_view", "reduce_by_degree", "tree_reduce"]
