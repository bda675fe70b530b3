"""The product ("lifted") graph of a node-based subgraph GNN, built as a pure function of one graph.

Zhang, Feng, Du, He, Wang, "A Complete Expressiveness Hierarchy for Subgraph GNNs via Subgraph Weisfeiler-Lehman
Tests", ICML 2023, §2–3. A node-based subgraph GNN keeps one state ``h(u, v)`` per *pair-node*: ``u`` is the root
(the marked node that generates subgraph ``G^u``), ``v`` a node of that subgraph. With full subgraphs a graph of
``n`` nodes has ``n²`` pair-nodes, numbered ``u·n + v`` as in the official code (``subgraph23/SWL``); with
``hops = k`` (k-hop ego subgraphs, the NGNN / GNN-AK policy) only the pairs with ``d(u, v) ≤ k`` exist, numbered in
the same row-major order.

Typed edge sets, one per *atomic aggregation* of the paper (Definition 2.1; messages flow ``src → dst``, ``dst`` is
the pair ``(u, v)`` being updated):

=====  =====================================  ===========================================================
name   source pairs aggregated into (u, v)    meaning
=====  =====================================  ===========================================================
uL     (u, w), w ∈ N(v), w ∈ G^u              local message passing inside subgraph ``G^u``
vL     (w, v), w ∈ N(u), v ∈ G^w              node ``v`` in the subgraphs rooted at ``u``'s neighbours
uG     (u, w), w ∈ G^u                        global pooling inside subgraph ``G^u``
vG     (w, v), all roots w with v ∈ G^w       global pooling over subgraphs, fixed node ``v``
uu     (u, u)                                 the root's own state ("single point")
vv     (v, v)                                 ``v``'s state in its own subgraph ("single point")
vu     (v, u) if it exists                    the transposed pair
uv     (u, v)                                 identity (the self term of the GIN update)
=====  =====================================  ===========================================================

``N(·)`` is the in-neighbourhood of the input graph's directed edge list (an undirected graph stores both
directions), so ``uL`` has ``n·|E|`` entries for full subgraphs, ``uG``/``vG`` have ``n³``. The local aggregations
also carry the input-graph edge id of the edge ``(w → v)`` (``uL``) resp. ``(w → u)`` (``vL``) so that GINE-style
messages ``ReLU(h_src + BondEmb(e))`` can use edge features.

Generation policy (initial pair label, §2 "node marking" / "distance encoding"):

- ``"marking"``: ``label(u, v) = 1[u = v]``;
- ``"distance"``: ``label(u, v) = min(d(u, v), max_dist)`` with ``d`` the exact shortest-path distance
  (breadth-first search on the unweighted graph); unreachable pairs (``d = ∞``) get ``unreachable`` (default
  ``max_dist``, as the official code's clamp) — the clamp happens on the float distances *before* the cast to an
  integer, so ``∞`` never overflows an embedding index (docs/models/sswl.md §1).

The initial state is ``h⁰(u, v) = NodeEnc(x_v) + LabelEmb(label(u, v))`` (paper Eq. 2 / ``src/model.py::Atom``);
:class:`ProductGraph` stores ``node`` (= v) and ``label`` so the model can build it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from graphbench.transforms.pe import dense_bfs

#: The atomic aggregations of the SSWL paper (Definition 2.1), in a fixed order.
ATOMIC_AGGREGATIONS: tuple[str, ...] = ("uL", "vL", "uG", "vG", "uu", "vv", "vu", "uv")
#: Aggregations whose messages follow an input-graph edge (and can carry its features).
LOCAL_AGGREGATIONS: tuple[str, ...] = ("uL", "vL")
POLICIES: tuple[str, ...] = ("marking", "distance")


def shortest_path_distances(num_nodes: int, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Exact unweighted shortest-path distances ``D[u, v]`` from ``u`` to ``v`` along directed edges
    ``src → dst`` (breadth-first search, ``scipy.sparse.csgraph``), float64 with ``inf`` for unreachable pairs."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    if num_nodes == 0:
        return torch.zeros(0, 0, dtype=torch.float64)
    s, d = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    if num_nodes <= DENSE_BFS_NODES:
        return torch.from_numpy(_dense_bfs(num_nodes, s, d))
    adj = csr_matrix((np.ones(len(s)), (s, d)), shape=(num_nodes, num_nodes))
    return torch.from_numpy(shortest_path(adj, method="D", directed=True, unweighted=True))


#: Up to this many nodes, :func:`shortest_path_distances` runs the breadth-first search from all nodes at once on the
#: dense adjacency matrix (one small matrix product per distance): for molecules it is several times faster than
#: scipy's per-call set-up, and exact all the same (integer distances, ``inf`` where unreachable).
DENSE_BFS_NODES = 128


def _dense_bfs(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """All-pairs distances along directed edges ``src → dst``: the simultaneous BFS of the ``spd`` transform
    (:func:`graphbench.transforms.pe.dense_bfs`) on the dense adjacency."""
    adj = np.zeros((n, n), dtype=bool)
    adj[src, dst] = True
    return dense_bfs(adj, np.inf)


def clamp_distances(dist: torch.Tensor, max_dist: int, unreachable: int | None = None) -> torch.Tensor:
    """``min(d, max_dist)`` as int64, with ``inf`` mapped to ``unreachable`` (default ``max_dist``) while still
    floating point — i.e. before any cast."""
    unreachable = max_dist if unreachable is None else unreachable
    d = torch.where(torch.isinf(dist), torch.full_like(dist, float(unreachable)), dist.clamp(max=float(max_dist)))
    return d.to(torch.int64)


@dataclass
class ProductGraph:
    """The lifted graph of one input graph (see the module docstring). All tensors are int64.

    ``pairs [P, 2]``: (root u, node v) of each pair-node; ``node [P]`` = v (index into the input's node features);
    ``label [P]``: the generation policy's initial label; ``edges[a] [2, m_a]``: (src pair, dst pair) of
    aggregation ``a``; ``edge_ids[a] [m_a]`` (``uL``/``vL`` only): id of the input edge a message follows.
    """

    num_nodes: int
    num_edges: int
    pairs: torch.Tensor
    label: torch.Tensor
    edges: dict[str, torch.Tensor]
    edge_ids: dict[str, torch.Tensor] = field(default_factory=dict)
    policy: str = "distance"
    num_labels: int = 2

    @property
    def num_pairs(self) -> int:
        return int(self.pairs.shape[0])

    @property
    def node(self) -> torch.Tensor:
        return self.pairs[:, 1]

    @property
    def root(self) -> torch.Tensor:
        return self.pairs[:, 0]

    def num_typed_edges(self) -> dict[str, int]:
        return {a: int(e.shape[1]) for a, e in self.edges.items()}


def build_product_graph(num_nodes: int, src: torch.Tensor, dst: torch.Tensor, *, policy: str = "distance",
                        max_dist: int = 5, unreachable: int | None = None, hops: int | None = None,
                        aggregations: tuple[str, ...] | list[str] = ATOMIC_AGGREGATIONS) -> ProductGraph:
    """Build the product graph of a graph with ``num_nodes`` nodes and directed edges ``src → dst``.

    ``policy``: ``"marking"`` or ``"distance"`` (initial pair label); ``max_dist`` / ``unreachable``: the distance
    clamp; ``hops``: restrict subgraph ``G^u`` to the ``hops``-hop ego network of ``u`` (``None``: the whole graph);
    ``aggregations``: which typed edge sets to build (all by default; build only what a model uses to save memory).
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown generation policy {policy!r}; choose one of {POLICIES}")
    unknown = sorted(set(aggregations) - set(ATOMIC_AGGREGATIONS))
    if unknown:
        raise ValueError(f"unknown atomic aggregation(s) {unknown}; choose from {ATOMIC_AGGREGATIONS}")
    if hops is not None and hops < 0:
        raise ValueError(f"hops must be >= 0 or None, got {hops}")
    n = int(num_nodes)
    src, dst = torch.as_tensor(src, dtype=torch.int64), torch.as_tensor(dst, dtype=torch.int64)
    need_dist = policy == "distance" or hops is not None
    dist = shortest_path_distances(n, src, dst) if need_dist else None
    if hops is None:  # full subgraphs: every index set in closed form (the same tensors as the masked construction)
        return _full_product_graph(n, src, dst, dist, policy, max_dist, unreachable, aggregations)
    # member[u, v]: node v belongs to the subgraph rooted at u (d(u, v) ≤ hops; ∞ compares False).
    return _masked_product_graph(n, src, dst, dist, dist <= hops, policy, max_dist, unreachable, aggregations)


def _masked_product_graph(n: int, src: torch.Tensor, dst: torch.Tensor, dist: torch.Tensor | None,
                          member: torch.Tensor, policy: str, max_dist: int, unreachable: int | None,
                          aggregations) -> ProductGraph:
    """:func:`build_product_graph` for the subgraphs ``member[u, v]`` (node v in the subgraph rooted at u): the
    pairs and index sets by masking the full ones."""
    pairs = member.nonzero()                                     # row-major: pair id u·n + v when member is full
    pid = torch.full((n, n), -1, dtype=torch.int64)
    pid[pairs[:, 0], pairs[:, 1]] = torch.arange(len(pairs))
    u, v = pairs[:, 0], pairs[:, 1]
    if policy == "marking":
        label, num_labels = (u == v).to(torch.int64), 2
    else:
        label = clamp_distances(dist[u, v], max_dist, unreachable)
        num_labels = max(max_dist, max_dist if unreachable is None else unreachable) + 1

    edges: dict[str, torch.Tensor] = {}
    edge_ids: dict[str, torch.Tensor] = {}
    eid = torch.arange(len(src))
    roots = torch.arange(n)
    for agg in aggregations:
        if agg == "uL":   # (u, w) → (u, v) for every input edge w → v, inside G^u
            r, e = torch.meshgrid(roots, eid, indexing="ij")
            r, e = r.reshape(-1), e.reshape(-1)
            ok = member[r, src[e]] & member[r, dst[e]]
            r, e = r[ok], e[ok]
            edges[agg] = torch.stack([pid[r, src[e]], pid[r, dst[e]]])
            edge_ids[agg] = e
        elif agg == "vL":  # (w, v) → (u, v) for every input edge w → u, v in both subgraphs
            e, c = torch.meshgrid(eid, roots, indexing="ij")
            e, c = e.reshape(-1), c.reshape(-1)
            ok = member[src[e], c] & member[dst[e], c]
            e, c = e[ok], c[ok]
            edges[agg] = torch.stack([pid[src[e], c], pid[dst[e], c]])
            edge_ids[agg] = e
        elif agg == "uG":  # (u, w) → (u, v), w, v ∈ G^u
            trip = (member[:, :, None] & member[:, None, :]).nonzero()       # (u, w, v)
            edges[agg] = torch.stack([pid[trip[:, 0], trip[:, 1]], pid[trip[:, 0], trip[:, 2]]])
        elif agg == "vG":  # (w, v) → (u, v), v ∈ G^w ∩ G^u
            trip = (member.t()[:, :, None] & member.t()[:, None, :]).nonzero()  # (v, w, u)
            edges[agg] = torch.stack([pid[trip[:, 1], trip[:, 0]], pid[trip[:, 2], trip[:, 0]]])
        elif agg == "uu":
            edges[agg] = torch.stack([pid[u, u], pid[u, v]])
        elif agg == "vv":
            ok = pid[v, v] >= 0                                  # always true: d(v, v) = 0
            edges[agg] = torch.stack([pid[v, v][ok], pid[u, v][ok]])
        elif agg == "vu":
            ok = pid[v, u] >= 0
            edges[agg] = torch.stack([pid[v, u][ok], pid[u, v][ok]])
        elif agg == "uv":
            ar = torch.arange(len(pairs))
            edges[agg] = torch.stack([ar, ar])
    return ProductGraph(num_nodes=n, num_edges=len(src), pairs=pairs, label=label, edges=edges, edge_ids=edge_ids,
                        policy=policy, num_labels=num_labels)


def _full_product_graph(n: int, src: torch.Tensor, dst: torch.Tensor, dist: torch.Tensor | None, policy: str,
                        max_dist: int, unreachable: int | None, aggregations) -> ProductGraph:
    """:func:`build_product_graph` without ego restriction: pair ``(u, v)`` is ``u·n + v`` and every index set is
    an arithmetic expression in broadcast ranges, in exactly the order (and with exactly the values) the general
    masked construction produces (``tests/subgraph/test_product.py`` compares the two)."""
    ar = torch.arange(n)
    u, v = ar.repeat_interleave(n), ar.repeat(n)
    pairs = torch.stack([u, v], 1)
    pid = torch.arange(n * n)
    if policy == "marking":
        label, num_labels = (u == v).to(torch.int64), 2
    else:
        label = clamp_distances(dist, max_dist, unreachable).reshape(-1)
        num_labels = max(max_dist, max_dist if unreachable is None else unreachable) + 1
    m = len(src)
    eid = torch.arange(m)
    edges: dict[str, torch.Tensor] = {}
    edge_ids: dict[str, torch.Tensor] = {}
    for agg in aggregations:
        if agg == "uL":   # roots outer, edges inner: (u, src_e) → (u, dst_e)
            base = (ar * n)[:, None]
            edges[agg] = torch.stack([(base + src[None, :]).reshape(-1), (base + dst[None, :]).reshape(-1)])
            edge_ids[agg] = eid.repeat(n)
        elif agg == "vL":  # edges outer, nodes inner: (src_e, c) → (dst_e, c)
            edges[agg] = torch.stack([(src[:, None] * n + ar[None, :]).reshape(-1),
                                      (dst[:, None] * n + ar[None, :]).reshape(-1)])
            edge_ids[agg] = eid.repeat_interleave(n)
        elif agg == "uG":  # (u, w, v) lexicographic: (u, w) → (u, v)
            rows = (ar * n)[:, None, None]
            edges[agg] = torch.stack([(rows + ar[None, :, None]).expand(n, n, n).reshape(-1),
                                      (rows + ar[None, None, :]).expand(n, n, n).reshape(-1)])
        elif agg == "vG":  # (v, w, u) lexicographic: (w, v) → (u, v)
            col = ar[:, None, None]
            edges[agg] = torch.stack([(ar[None, :, None] * n + col).expand(n, n, n).reshape(-1),
                                      (ar[None, None, :] * n + col).expand(n, n, n).reshape(-1)])
        elif agg == "uu":
            edges[agg] = torch.stack([u * (n + 1), pid])
        elif agg == "vv":
            edges[agg] = torch.stack([v * (n + 1), pid])
        elif agg == "vu":
            edges[agg] = torch.stack([v * n + u, pid])
        elif agg == "uv":
            edges[agg] = torch.stack([pid, pid])
    return ProductGraph(num_nodes=n, num_edges=m, pairs=pairs, label=label, edges=edges, edge_ids=edge_ids,
                        policy=policy, num_labels=num_labels)


def product_graph_of(graph, **kwargs) -> ProductGraph:
    """:func:`build_product_graph` of a ``dgl.DGLGraph`` (its edge order gives the edge ids); ``kwargs`` as there.
    This is the body a registered cached transform wraps."""
    src, dst = graph.edges()
    return build_product_graph(graph.num_nodes(), src, dst, **kwargs)


@dataclass
class ProductBatch:
    """Several product graphs concatenated (the model input of :class:`~graphbench.subgraph.layers.SubgraphGNN`).

    Offsets: ``node``/``root`` (input-graph node ids) are shifted by each graph's **node offset**; ``edges[a]`` (pair
    ids) by its **pair offset**; ``edge_ids[a]`` (input edge ids) by its **edge offset**. ``pair_graph [P]`` is the
    graph id of each pair-node, ``num_graphs`` the batch size.
    """

    node: torch.Tensor
    root: torch.Tensor
    label: torch.Tensor
    pair_graph: torch.Tensor
    edges: dict[str, torch.Tensor]
    edge_ids: dict[str, torch.Tensor]
    num_nodes: int
    num_graphs: int

    @property
    def num_pairs(self) -> int:
        return int(self.node.shape[0])


def batch_product_graphs(products: list[ProductGraph]) -> ProductBatch:
    """Concatenate product graphs with node / pair / edge offsets (see :class:`ProductBatch`); the order of the
    input graphs' nodes and edges in the batch must be the order of ``products`` (as ``dgl.batch`` does)."""
    if not products:
        raise ValueError("batch_product_graphs needs at least one product graph")
    keys = set(products[0].edges)
    for p in products[1:]:
        if set(p.edges) != keys:
            raise ValueError("all product graphs of a batch must carry the same aggregations")
    node_off = pair_off = edge_off = 0
    node, root, label, graph = [], [], [], []
    edges: dict[str, list[torch.Tensor]] = {a: [] for a in keys}
    edge_ids: dict[str, list[torch.Tensor]] = {a: [] for a in products[0].edge_ids}
    for i, p in enumerate(products):
        node.append(p.node + node_off)
        root.append(p.root + node_off)
        label.append(p.label)
        graph.append(torch.full((p.num_pairs,), i, dtype=torch.int64))
        for a in keys:
            edges[a].append(p.edges[a] + pair_off)
        for a in edge_ids:
            edge_ids[a].append(p.edge_ids[a] + edge_off)
        node_off += p.num_nodes
        pair_off += p.num_pairs
        edge_off += p.num_edges
    return ProductBatch(node=torch.cat(node), root=torch.cat(root), label=torch.cat(label),
                        pair_graph=torch.cat(graph), edges={a: torch.cat(t, 1) for a, t in edges.items()},
                        edge_ids={a: torch.cat(t) for a, t in edge_ids.items()}, num_nodes=node_off,
                        num_graphs=len(products))


# -- the product graph as per-graph extras (the future cached transform's output) ------------------------------
#: How each extra is batched: ``(index, dim, of)`` with ``index`` ``"nodes"`` (offset by node counts — of the input
#: graph, or of the extra graph ``of``), ``"edges"`` (input edge offsets), ``"graph"`` (a DGLGraph batched by
#: ``dgl.batch``) — the ``NodeIndex(dim, of)`` / ``EdgeIndex()`` / ``SubGraph()`` declarations of the transform
#: interface. ``sswl_pairs`` is a DGL graph with one node per pair-node (``ndata["label"]``) and no edges: it gives
#: the pair offsets; the typed edges ``sswl_<agg>`` are ``[2, m]`` pair ids offset by it.
def extra_specs(aggregations) -> dict[str, tuple[str, int, str | None]]:
    specs = {"sswl_pairs": ("graph", 0, None), "sswl_root": ("nodes", 0, None), "sswl_node": ("nodes", 0, None)}
    for a in aggregations:
        specs[f"sswl_{a}"] = ("nodes", 1, "sswl_pairs")
        if a in LOCAL_AGGREGATIONS:
            specs[f"sswl_{a}_eid"] = ("edges", 0, None)
    return specs


def to_extras(pg: ProductGraph) -> dict:
    """The per-graph extras of one product graph (keys and batching rules: :func:`extra_specs`)."""
    import dgl

    pairs = dgl.graph((torch.zeros(0, dtype=torch.int64), torch.zeros(0, dtype=torch.int64)),
                      num_nodes=pg.num_pairs)
    pairs.ndata["label"] = pg.label
    out = {"sswl_pairs": pairs, "sswl_root": pg.root.clone(), "sswl_node": pg.node.clone()}
    for a, e in pg.edges.items():
        out[f"sswl_{a}"] = e
        if a in pg.edge_ids:
            out[f"sswl_{a}_eid"] = pg.edge_ids[a]
    return out


def from_extras(extras, num_nodes: int, num_graphs: int) -> ProductBatch:
    """A :class:`ProductBatch` from *batched* extras (``extras[key]``, offsets already applied as
    :func:`extra_specs` declares), e.g. the model-input ``Batch`` of the transform interface."""
    pairs_graph = extras["sswl_pairs"]
    counts = pairs_graph.batch_num_nodes()
    edges = {key[5:]: extras[key] for key in _keys(extras) if key.startswith("sswl_") and key[5:] in
             ATOMIC_AGGREGATIONS}
    edge_ids = {a: extras[f"sswl_{a}_eid"] for a in edges if a in LOCAL_AGGREGATIONS}
    return ProductBatch(node=extras["sswl_node"], root=extras["sswl_root"], label=pairs_graph.ndata["label"],
                        pair_graph=torch.arange(len(counts)).repeat_interleave(counts), edges=edges,
                        edge_ids=edge_ids, num_nodes=int(num_nodes), num_graphs=int(num_graphs))


def _keys(extras) -> list[str]:
    return list(extras.keys()) if hasattr(extras, "keys") else list(extras.extras.keys())
