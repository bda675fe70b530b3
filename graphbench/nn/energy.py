"""Dirichlet energy of node features, the usual measure of over-smoothing (it tends to 0 when all connected
nodes share one state).

Normalisations (``E`` is the graph's edge list, with both directions of an undirected edge listed, as in DGL):

``"none"`` (default; Rusch, Bronstein & Mishra, "A Survey on Oversmoothing in GNNs", 2023, Def. 3.1)
    ``E(X) = 1/N · Σ_{(i,j) ∈ E} ‖x_i − x_j‖²`` — each undirected edge counted in both directions.
``"sym"`` (Cai & Wang, "A Note on Over-Smoothing for GNNs", 2020)
    ``E(X) = tr(Xᵀ Δ̃ X) = ½ Σ_{(i,j) ∈ E} ‖x_i / √(1 + d_i) − x_j / √(1 + d_j)‖²`` with ``Δ̃ = I − D̃^{-1/2} Ã
    D̃^{-1/2}``, ``Ã = A + I`` and ``d_i`` the in-degree without self-loops.

Self-loops in the edge list contribute nothing to either form and are not counted in ``d_i``.
"""

from __future__ import annotations

import dgl
import torch

ENERGY_NORMALISATIONS = ("none", "sym")


def dirichlet_energy(graph: dgl.DGLGraph, x: torch.Tensor, normalisation: str = "none") -> float:
    """The Dirichlet energy of node features ``x`` (``[num_nodes, d]``) on ``graph``; see the module docstring."""
    if normalisation not in ENERGY_NORMALISATIONS:
        raise ValueError(f"unknown normalisation {normalisation!r}; choose one of {ENERGY_NORMALISATIONS}")
    if x.shape[0] != graph.num_nodes():
        raise ValueError(f"x has {x.shape[0]} rows but the graph has {graph.num_nodes()} nodes")
    src, dst = graph.edges()
    keep = src != dst
    src, dst = src[keep], dst[keep]
    x = x.detach().double().reshape(x.shape[0], -1)
    if normalisation == "none":
        return float(((x[src] - x[dst]) ** 2).sum() / max(graph.num_nodes(), 1))
    deg = torch.bincount(dst, minlength=graph.num_nodes()).double()
    y = x / torch.sqrt(1.0 + deg)[:, None]
    return float(0.5 * ((y[src] - y[dst]) ** 2).sum())
