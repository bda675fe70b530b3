"""LASER rewiring — Barbero, Velingker, Saberi, Bronstein, Di Giovanni, "Locality-Aware Graph Rewiring in GNNs",
ICLR 2024 (§4; reference code ``laser/rewiring/dynamic/laser_global.py``), orbit level.

LASER builds snapshots ``G_1 ⊂ G_2 ⊂ … ⊂ G_L``: snapshot r adds edges only between nodes at shortest-path distance
exactly r in the input graph (*locality*), a bounded number per node (*sparsity*), and picks, among the nodes of the
orbit ``O_r(i) = {j : d(i, j) = r}``, those **least connected** to i by the connectivity measure
``μ(i, j) = ((A + I)^8)_{ij}`` (the number of walks of length 8 on the graph with self-loops) — the pairs whose
information is most squashed. Node i selects ``k = min(|O_r(i)|, max(min_additions, ⌈ρ·|O_r(i)|⌉))`` of them; ties
in μ are broken uniformly at random from ``seed`` (the reference code adds N(0, 1e-7) noise for the same purpose).
Distances and μ are computed once, on the input graph.

Choices where the paper and its code differ (documented, as the issue asks):
- **Symmetric edges (default).** The reference code keeps only the lower triangle of the distance matrix, so node i
  can only select j < i and only the edge i → j is added — the result depends on the node numbering. The paper
  describes undirected snapshots. Here every node selects from its whole orbit, and each selected pair {i, j} is
  added in both directions (once if both ends selected each other). ``symmetric=False`` instead adds j → i for every
  selection of i, so each node *receives* exactly its budget per radius.
- **Budget rounding.** The issue's ``⌈ρ·|O|⌉`` (the reference rounds, with a minimum of 1); ``ρ·|O|`` is rounded up
  after subtracting 1e-9 so that float error (0.1·30 = 3.0000000000000004) does not add one.

Edge types are the radius: the input edges are snapshot 1 (``etype = 1``) and an edge added at radius r has
``etype = r`` (r = 2..num_snapshots), as in the reference code and §3.2 of the notes. ``first_etype=0`` shifts all
types down by one (input edges 0, radius r → r − 1), the "0 = original edge" convention of a relational layer that
keeps one weight per type (no unused relation).
"""

from __future__ import annotations

import math

import numpy as np

from graphbench.rewiring.base import GraphLike, Rewiring, adjacency, assemble, edge_arrays
from graphbench.rewiring.hops import shortest_path_distances

CONNECTIVITY_POWER = 8


def connectivity(adj: np.ndarray, power: int = CONNECTIVITY_POWER) -> np.ndarray:
    """LASER's connectivity measure ``(A + I)^power`` (float64; counts of walks of length ``power`` with self-loops)."""
    a = adj.astype(np.float64) + np.eye(adj.shape[0])
    return np.linalg.matrix_power(a, power)


def orbit_budget(orbit_size: int, rho: float, min_additions: int = 1) -> int:
    """How many nodes of an orbit of ``orbit_size`` one node selects: ``min(|O|, max(min_additions, ⌈ρ·|O|⌉))``."""
    if orbit_size <= 0:
        return 0
    return min(orbit_size, max(min_additions, math.ceil(rho * orbit_size - 1e-9)))


def laser_selections(graph: GraphLike, num_nodes: int | None = None, *, num_snapshots: int = 3, rho: float = 0.5,
                     min_additions: int = 1, seed: int | np.random.Generator = 0,
                     power: int = CONNECTIVITY_POWER) -> tuple[np.ndarray, np.ndarray]:
    """Every node's choices: ``(pairs [s, 2], radius [s])`` where row ``(i, j)`` means i selected j at that radius.

    ``num_snapshots`` is L (snapshot 1 is the input graph, so radii 2..L are rewired).
    """
    if num_snapshots < 1:
        raise ValueError(f"num_snapshots must be >= 1, got {num_snapshots}")
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must lie in [0, 1], got {rho}")
    if min_additions < 0:
        raise ValueError(f"min_additions must be >= 0, got {min_additions}")
    adj = adjacency(graph, num_nodes)
    n = adj.shape[0]
    dist = shortest_path_distances(graph, num_nodes)
    mu = connectivity(adj, power)
    rng = np.random.default_rng(seed)
    chosen: list[tuple[int, int]] = []
    radius: list[int] = []
    for r in range(2, num_snapshots + 1):
        ring = dist == float(r)  # inf never equals r
        for i in range(n):
            orbit = np.flatnonzero(ring[i])
            k = orbit_budget(orbit.size, rho, min_additions)
            if k == 0:
                continue
            shuffled = rng.permutation(orbit)  # uniform tie-breaking, then a stable sort by connectivity
            order = shuffled[np.argsort(mu[i, shuffled], kind="stable")]
            chosen.extend((i, int(j)) for j in order[:k])
            radius.extend([r] * k)
    pairs = np.asarray(chosen, dtype=np.int64).reshape(-1, 2)
    return pairs, np.asarray(radius, dtype=np.int64)


def laser(graph: GraphLike, num_nodes: int | None = None, *, num_snapshots: int = 3, rho: float = 0.5,
          min_additions: int = 1, seed: int | np.random.Generator = 0, symmetric: bool = True,
          power: int = CONNECTIVITY_POWER, first_etype: int = 1) -> Rewiring:
    """LASER-rewired graph: input edges with ``etype = first_etype`` (1), edges added at radius r with
    ``etype = r + first_etype − 1``. ``seed`` is an int or a ``numpy.random.Generator`` (used as is).

    Hyperparameters (reference configs): ``num_snapshots`` L ∈ {2, 3, 4} (3 on Peptides), ``rho`` ∈ {0.1, 0.25, 0.5}.
    Stochastic only through tie-breaking among equally connected nodes (``seed``).
    """
    src, dst, n = edge_arrays(graph, num_nodes)
    sel, radius = laser_selections((src, dst), n, num_snapshots=num_snapshots, rho=rho, min_additions=min_additions,
                                   seed=seed, power=power)
    if symmetric:
        lo, hi = np.minimum(sel[:, 0], sel[:, 1]), np.maximum(sel[:, 0], sel[:, 1])
        _, first = np.unique(lo * n + hi, return_index=True)
        first = np.sort(first)  # keep the order of choice
        added, added_type = np.stack([lo[first], hi[first]], axis=1), radius[first]
    else:
        added, added_type = sel[:, ::-1].copy(), radius  # j → i: node i receives from its selections
    return assemble(src, dst, n, added, added_type + (first_etype - 1), symmetric=symmetric, orig_etype=first_etype)
