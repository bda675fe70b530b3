"""Graph rewiring algorithms as pure, deterministic-under-a-seed functions (issue #13, groundwork).

Pre-processing rewirings (graph → ``Rewiring``: surviving input edges + added edges with an integer edge type):

- ``laser`` — LASER (Barbero et al., ICLR 2024), orbit level, exact distances, (A+I)^8 connectivity.
- ``gtr`` — Greedy Total Resistance (Black et al., ICML 2023), Sherman–Morrison updates in float64.
- ``fosr`` — First-order Spectral Rewiring (Karhadkar et al., ICLR 2023), power-iteration eigenvector.
- ``sdrf`` — Stochastic Discrete Ricci Flow (Topping et al., ICLR 2022), balanced Forman curvature.
- ``borf`` — Batch Ollivier–Ricci Flow (Nguyen et al., ICML 2023), optimal transport by POT.

Model-level building blocks: ``hop_rings`` (DRew's exact shortest-path rings), ``drew_schedule`` (which rings
and which delayed states DRew's layer t reads) and the k-subset samplers of PR-MPNN (``k_subset_marginals``,
``sample_k_subset``, ``simple_sample``, ``imle_topk``, ``relaxed_topk``, ``gumbel_topk``, ``topk_khot``).
Measures: ``total_effective_resistance``, ``spectral_gap``, ``balanced_forman_curvature``,
``ollivier_ricci_curvature``.

Inputs are a DGL graph or an edge list ``(src, dst)`` with ``num_nodes``; all algorithms read the simple undirected
skeleton (see ``base``). ``graphbench.rewiring.transforms`` registers the five pre-processing rewirings as cached
transforms (``laser``, ``gtr``, ``fosr``, ``sdrf``, ``borf``; edge types in ``edata["etype"]``); the relational models
that consume them are ``rgcn``, ``rgin``, ``<rewiring>-gcn`` / ``-gin`` and ``laser-gcn`` / ``laser-gin``.
"""

from graphbench.rewiring.base import Rewiring, adjacency
from graphbench.rewiring.borf import borf
from graphbench.rewiring.curvature import balanced_forman_curvature, ollivier_ricci_curvature
from graphbench.rewiring.fosr import fosr
from graphbench.rewiring.gtr import gtr
from graphbench.rewiring.hops import drew_schedule, hop_rings, shortest_path_distances
from graphbench.rewiring.laser import laser
from graphbench.rewiring.measures import effective_resistances, spectral_gap, total_effective_resistance
from graphbench.rewiring.sdrf import sdrf
from graphbench.rewiring.simple import (
    gumbel_topk,
    imle_topk,
    k_subset_marginals,
    relaxed_topk,
    sample_k_subset,
    simple_sample,
    topk_khot,
)

__all__ = [
    "Rewiring", "adjacency", "balanced_forman_curvature", "borf", "drew_schedule", "effective_resistances", "fosr",
    "gtr", "gumbel_topk", "hop_rings", "imle_topk", "k_subset_marginals", "laser", "ollivier_ricci_curvature",
    "relaxed_topk", "sample_k_subset", "sdrf", "shortest_path_distances", "simple_sample", "spectral_gap",
    "topk_khot", "total_effective_resistance",
]
