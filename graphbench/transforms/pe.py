"""Positional and structural encodings."""

from __future__ import annotations

import dgl
import torch

MAX_NODES = 20_000


def random_walk_se(graph: dgl.DGLGraph, steps: int, *, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Random-walk structural encoding (RWSE; Dwivedi et al., "Graph Neural Networks with Learnable Structural
    and Positional Representations", ICLR 2022): ``p_i = [RW_ii, RW²_ii, …, RW^k_ii]`` with ``RW = A D⁻¹``, the
    probability that a random walk from ``i`` is back at ``i`` after 1..k steps. Shape ``[num_nodes, steps]``.

    It separates graphs 1-WL cannot: on CSL, return probabilities depend on the skip length. ``dtype`` is the
    precision of the computation (float64 for the float64 expressiveness protocol).
    """
    n = graph.num_nodes()
    if n > MAX_NODES:
        raise ValueError(f"RWSE keeps an n x n matrix; {n} nodes is more than the {MAX_NODES} allowed")
    src, dst = graph.edges()
    deg = torch.bincount(src, minlength=n).clamp(min=1).to(dtype)
    # Sparse, column-stochastic RW = A D^-1: column j holds the one-step distribution of a walk from j.
    rw = torch.sparse_coo_tensor(torch.stack([dst, src]), 1.0 / deg[src], (n, n), check_invariants=False).coalesce()
    out, power = [], torch.eye(n, dtype=dtype)
    for _ in range(steps):
        power = torch.sparse.mm(rw, power)
        out.append(power.diagonal().clone())
    return torch.stack(out, dim=1)
