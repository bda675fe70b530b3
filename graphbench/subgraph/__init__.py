"""Subgraph GNNs (issue #14): the node-based framework of Zhang et al. (ICML 2023) over a product graph,
(k, l)-GNN with l = 1 (Zhou et al., ICML 2023), SPEN (Mitton & Murray-Smith) and the lifted-graph memory guard.

Pure functions build the lifted structures (:mod:`.product`, :mod:`.kl`, :mod:`.spen`); the modules consume them.
:mod:`.transform` registers the cached transforms ``sswl_product`` and ``kl_tuples``; the registry entries (``swl``,
``pswl``, ``gswl``, ``gnn-sswl``, ``gnn-sswl-plus``, ``sun-like``, ``gnn-ak-like``, ``kl-gnn``, ``spen``), their
memory guard (``check_inputs``) and paper presets are in :mod:`graphbench.models.sswl`, :mod:`graphbench.models.kl_gnn`
and :mod:`graphbench.models.spen` (docs: ``docs/models/sswl.md``, ``kl-gnn.md``, ``spen.md``).
"""

from graphbench.subgraph.guard import LiftedGraphTooLarge, LiftedSize, check_lifted_size, estimate_lifted_size
from graphbench.subgraph.kl import KLGNN, KLGNNParallel, sample_tuples
from graphbench.subgraph.layers import CONFIGS, SubgraphGNN, SubgraphLayer, SubgraphPool
from graphbench.subgraph.product import (
    ATOMIC_AGGREGATIONS,
    ProductBatch,
    ProductGraph,
    batch_product_graphs,
    build_product_graph,
    clamp_distances,
    product_graph_of,
    shortest_path_distances,
)
from graphbench.subgraph.spen import SPEN, ego_subgraphs

__all__ = ["ATOMIC_AGGREGATIONS", "CONFIGS", "KLGNN", "SPEN", "KLGNNParallel", "LiftedGraphTooLarge", "LiftedSize",
           "ProductBatch", "ProductGraph", "SubgraphGNN", "SubgraphLayer", "SubgraphPool", "batch_product_graphs",
           "build_product_graph", "check_lifted_size", "clamp_distances", "ego_subgraphs", "estimate_lifted_size",
           "product_graph_of", "sample_tuples", "shortest_path_distances"]
