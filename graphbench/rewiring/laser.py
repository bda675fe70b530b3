"""LASER rewiring — Barbero, Velingker, Saberi, Bronstein, Di Giovanni, "Locality-Aware Graph Rewiring in GNNs",
ICLR 2024 (§4; reference code ``Fedzbar/laser-release@4e8f16f84000:laser/rewiring/dynamic/laser_global.py``), orbit
level. Equations and choices: ``docs/models/laser.md`` §1–§3.

LASER builds snapshots ``G_1 ⊂ G_2 ⊂ … ⊂ G_L``: snapshot r adds edges only between nodes at shortest-path distance
exactly r in the input graph (*locality*), a bounded number per node (*sparsity*), and picks, among the nodes of the
orbit ``O_r(i) = {j : d(i, j) = r}``, those **least connected** to i by the connectivity measure
``μ(i, j) = ((A + I)^8)_{ij}`` (the number of walks of length 8 on the graph with self-loops) — the pairs whose
information is most squashed. Node i selects ``k = min(|O_r(i)|, max(min_additions, ⌈ρ·|O_r(i)|⌉))`` of them; ties
in μ are broken uniformly at random from ``seed`` (the reference code adds N(0, 1e-7) noise for the same purpose).
Distances and μ are computed once, on the input graph.

Three switches reproduce the released transform where it differs from that definition (``docs/models/laser.md`` §3):

- ``symmetric=False`` — the released **directed lower-triangle reading**: the code keeps only the lower triangle of
  its distance matrix, so node i chooses only among the nodes ``j < i`` of its orbit (its budget counted on that
  part of the orbit) and adds the single edge ``i → j`` (j receives from i). The result depends on the node
  numbering. ``symmetric=True`` (the default) lets every node choose from its whole orbit and adds each chosen pair
  in both directions (once if both ends chose each other): the undirected snapshots the paper describes.
- ``rounding="round"`` — the released budget ``max(min_additions, round(ρ·|O|))`` with Python's ``round`` (half to
  even: ``round(0.5) = 0``, ``round(2.5) = 2``, ``round(1.2) = 1``) instead of ``⌈ρ·|O|⌉`` (``"ceil"``; computed
  after subtracting 1e-9 so that float error, 0.1·30 = 3.0000000000000004, does not add one).
- ``distances="released"`` — the released "fast" distance matrix (:func:`released_distances`). It starts as the
  adjacency ``A + I`` *itself*, not a copy, and is updated in place, so the next reachability power multiplies by
  the partly built distance matrix instead of the adjacency: radius 2 is exact, radius 3 holds the nodes at distance
  3 **and 4**, radius 4 those at 5–8 (radius r ≥ 3: distances ``2^(r−2) < d ≤ 2^(r−1)``), and the connectivity
  μ is the 8th power of that labelled matrix rather than ``(A + I)^8``. ``"exact"`` (default) uses true distances.

Edge types are the radius: the input edges are snapshot 1 (``etype = 1``) and an edge added at radius r has
``etype = r`` (r = 2..num_snapshots), as in the reference code. ``first_etype=0`` shifts all types down by one
(input edges 0, radius r → r − 1), the "0 = original edge" convention of a relational layer that keeps one weight
per type (no unused relation).
"""

from __future__ import annotations

import math

import numpy as np

from graphbench.rewiring.base import GraphLike, Rewiring, adjacency, assemble, edge_arrays
from graphbench.rewiring.hops import shortest_path_distances

CONNECTIVITY_POWER = 8
ROUNDINGS = ("ceil", "round")
DISTANCES = ("exact", "released")


def connectivity(adj: np.ndarray, power: int = CONNECTIVITY_POWER) -> np.ndarray:
    """LASER's connectivity measure ``(A + I)^power`` (float64; counts of walks of length ``power`` with self-loops)."""
    a = adj.astype(np.float64) + np.eye(adj.shape[0])
    return np.linalg.matrix_power(a, power)


def orbit_budget(orbit_size: int, rho: float, min_additions: int = 1, rounding: str = "ceil") -> int:
    """How many nodes of an orbit of ``orbit_size`` one node selects: ``min(|O|, max(min_additions, ⌈ρ·|O|⌉))``,
    or with ``rounding="round"`` the released code's ``round(|O|·ρ)`` (Python's half-to-even rounding)."""
    if rounding not in ROUNDINGS:
        raise ValueError(f"rounding must be one of {ROUNDINGS}, got {rounding!r}")
    if orbit_size <= 0:
        return 0
    share = math.ceil(rho * orbit_size - 1e-9) if rounding == "ceil" else round(orbit_size * rho)
    return min(orbit_size, max(min_additions, share))


def released_distances(adj: np.ndarray, num_snapshots: int) -> tuple[np.ndarray, np.ndarray]:
    """The released transform's "fast" distance labels and its connectivity measure, ``(labels, μ)``.

    ``labels`` is symmetric: 1 on the diagonal and between neighbours, ``r`` for the pairs the code assigns to radius
    r (2 ≤ r ≤ ``num_snapshots``), 0 beyond. The code's distance matrix *is* its ``A + I`` (updated in place), so
    the reachability used for radius r + 1 is ``reach_r · labels`` rather than ``reach_r · (A + I)``: radius 2 holds
    the nodes at distance 2, radius r ≥ 3 those at distances ``2^(r−2) < d ≤ 2^(r−1)``. μ is ``labels^8`` (the
    code raises the same, now overwritten, matrix to the 8th power).
    """
    a = adj.astype(np.float64) + np.eye(adj.shape[0])
    labels = (a != 0).astype(np.float64)
    reach = labels.copy()
    step = labels @ labels
    for r in range(2, num_snapshots + 1):
        nxt = (step != 0).astype(np.float64)
        labels += r * (nxt - reach)
        reach = nxt
        step = reach @ labels  # the aliasing: the partly built labels stand in for the adjacency
    return labels, np.linalg.matrix_power(labels, CONNECTIVITY_POWER)


def laser_selections(graph: GraphLike, num_nodes: int | None = None, *, num_snapshots: int = 3, rho: float = 0.5,
                     min_additions: int = 1, seed: int | np.random.Generator = 0,
                     power: int = CONNECTIVITY_POWER, lower_only: bool = False, rounding: str = "ceil",
                     distances: str = "exact") -> tuple[np.ndarray, np.ndarray]:
    """Every node's choices: ``(pairs [s, 2], radius [s])`` where row ``(i, j)`` means i selected j at that radius.

    ``num_snapshots`` is L (snapshot 1 is the input graph, so radii 2..L are rewired). ``lower_only`` restricts each
    orbit to the nodes ``j < i`` (the released code's lower triangle); ``rounding`` and ``distances`` as in the module
    docstring (``distances="released"`` uses its own μ, so ``power`` applies to ``"exact"`` only).
    """
    if num_snapshots < 1:
        raise ValueError(f"num_snapshots must be >= 1, got {num_snapshots}")
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must lie in [0, 1], got {rho}")
    if min_additions < 0:
        raise ValueError(f"min_additions must be >= 0, got {min_additions}")
    if distances not in DISTANCES:
        raise ValueError(f"distances must be one of {DISTANCES}, got {distances!r}")
    adj = adjacency(graph, num_nodes)
    n = adj.shape[0]
    if distances == "exact":
        dist, mu = shortest_path_distances(graph, num_nodes), connectivity(adj, power)
    else:
        dist, mu = released_distances(adj, num_snapshots)
    rng = np.random.default_rng(seed)
    chosen: list[tuple[int, int]] = []
    radius: list[int] = []
    for r in range(2, num_snapshots + 1):
        ring = dist == float(r)  # inf never equals r
        np.fill_diagonal(ring, False)
        if lower_only:
            ring = np.tril(ring)
        for i in range(n):
            orbit = np.flatnonzero(ring[i])
            k = orbit_budget(orbit.size, rho, min_additions, rounding)
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
          power: int = CONNECTIVITY_POWER, first_etype: int = 1, rounding: str = "ceil",
          distances: str = "exact") -> Rewiring:
    """LASER-rewired graph: input edges with ``etype = first_etype`` (1), edges added at radius r with
    ``etype = r + first_etype − 1``. ``seed`` is an int or a ``numpy.random.Generator`` (used as is).

    ``symmetric=False`` is the released code's reading: orbits cut to ``j < i`` and one edge ``i → j`` per choice
    (see the module docstring). Hyperparameters (reference configs): ``num_snapshots`` L ∈ {2, 3, 4} (3 on Peptides),
    ``rho`` ∈ {0.1, 0.25, 0.5}. Stochastic only through tie-breaking among equally connected nodes (``seed``).
    """
    src, dst, n = edge_arrays(graph, num_nodes)
    sel, radius = laser_selections((src, dst), n, num_snapshots=num_snapshots, rho=rho, min_additions=min_additions,
                                   seed=seed, power=power, lower_only=not symmetric, rounding=rounding,
                                   distances=distances)
    if symmetric:
        lo, hi = np.minimum(sel[:, 0], sel[:, 1]), np.maximum(sel[:, 0], sel[:, 1])
        _, first = np.unique(lo * n + hi, return_index=True)
        first = np.sort(first)  # keep the order of choice
        added, added_type = np.stack([lo[first], hi[first]], axis=1), radius[first]
    else:
        added, added_type = sel, radius  # i → j: the lower-numbered node j receives from i
    return assemble(src, dst, n, added, added_type + (first_etype - 1), symmetric=symmetric, orig_etype=first_etype)
