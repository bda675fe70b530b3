"""Pair datasets for the expressiveness protocol, and node relabelling of DGL graphs.

A :class:`PairSet` is a list of graph pairs that are non-isomorphic (so an ideal model separates every one), each
with a category. :func:`load_pairs` builds it from any registered dataset that declares its pairs:

* ``meta["pairs"]`` of the dataset: ``"all"`` (every pair of its graphs: SR25's 105), a list of index pairs
  (``wl-pairs``, ``brec``) or the EXP convention ``"consecutive (2i, 2i+1)"`` (600 pairs);
* ``meta["pair_categories"]`` (one per pair, e.g. BREC's seven) — otherwise the category is the dataset's name;
* ``meta["pair_names"]`` (one per pair), shown in per-pair output;
* **CSL** declares no pairs: its graphs are pairs *across classes* — one graph per skip length, all 45 pairs of the
  10 classes (graphs of one class are isomorphic, so they are no test).

A dataset without pairs is refused with the list of those that have them. ``max_pairs`` keeps the first pairs of
each category (for quick looks; results rows record the number of pairs actually tested).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import dgl
import numpy as np
import torch

from graphbench.data import load_dataset
from graphbench.data.base import FeatureSpec, GraphDataset
from graphbench.registry import DATASETS

#: Pair sets above this size must be cut with ``max_pairs`` (graph8c has 61.8 million pairs).
MAX_PAIRS_WITHOUT_LIMIT = 100_000


@dataclass
class PairSet:
    """Graphs and the pairs (index pairs into ``graphs``) to tell apart, with one category per pair."""

    dataset: str
    graphs: list[dgl.DGLGraph]
    pairs: list[tuple[int, int]]
    categories: list[str]
    names: list[str]
    node_spec: FeatureSpec = field(default_factory=FeatureSpec)
    edge_spec: FeatureSpec = field(default_factory=FeatureSpec)
    ids: list[int] | None = None  # each pair's position in the full set (seeds derive from it); default 0..n-1

    def __post_init__(self) -> None:
        if self.ids is None:
            self.ids = list(range(len(self.pairs)))
        if not (len(self.pairs) == len(self.categories) == len(self.names) == len(self.ids)):
            raise ValueError("pairs, categories, names and ids must have one entry per pair")

    def __len__(self) -> int:
        return len(self.pairs)

    def category_order(self) -> list[str]:
        """Categories in order of first appearance."""
        return list(dict.fromkeys(self.categories))

    def category(self, name: str) -> PairSet:
        """The pairs of one category (with their ids in the full set, so each pair's seed is unchanged)."""
        keep = [i for i, c in enumerate(self.categories) if c == name]
        return PairSet(self.dataset, self.graphs, [self.pairs[i] for i in keep], [name] * len(keep),
                       [self.names[i] for i in keep], self.node_spec, self.edge_spec, [self.ids[i] for i in keep])

    def limit(self, max_pairs: int | None) -> PairSet:
        """The first ``max_pairs`` pairs of each category (all when ``None``)."""
        if max_pairs is None:
            return self
        if max_pairs < 1:
            raise ValueError(f"max_pairs must be >= 1, got {max_pairs}")
        seen: dict[str, int] = {}
        keep = []
        for i, c in enumerate(self.categories):
            seen[c] = seen.get(c, 0) + 1
            if seen[c] <= max_pairs:
                keep.append(i)
        return PairSet(self.dataset, self.graphs, [self.pairs[i] for i in keep], [self.categories[i] for i in keep],
                       [self.names[i] for i in keep], self.node_spec, self.edge_spec, [self.ids[i] for i in keep])


def _declared_pairs(ds: GraphDataset, max_pairs: int | None) -> list[tuple[int, int]]:
    declared = ds.meta.get("pairs")
    n = len(ds.graphs)
    if declared == "all":
        total = n * (n - 1) // 2
        if total > MAX_PAIRS_WITHOUT_LIMIT and max_pairs is None:
            raise ValueError(f"{ds.name} has {total:,} pairs (all pairs of {n} graphs); pass max_pairs "
                             f"(--max-pairs) to test the first ones")
        stop = total if max_pairs is None else min(total, max_pairs)
        return list(itertools.islice(itertools.combinations(range(n), 2), stop))
    if isinstance(declared, str) and declared.startswith("consecutive"):
        return [(2 * i, 2 * i + 1) for i in range(n // 2)]
    if isinstance(declared, (list, tuple)):
        return [(int(a), int(b)) for a, b in declared]
    raise ValueError(f"{ds.name}: unknown pairs declaration {declared!r}")


def pairs_across_classes(ds: GraphDataset) -> PairSet:
    """One graph per class (its first), every pair of classes: CSL's 45 pairs of skip lengths."""
    labels = ds.labels.reshape(-1).tolist()
    first = {}
    for i, y in enumerate(labels):
        first.setdefault(int(y), i)
    classes = sorted(first)
    pairs = [(first[a], first[b]) for a, b in itertools.combinations(classes, 2)]
    names = [f"class {a} / class {b}" for a, b in itertools.combinations(classes, 2)]
    return PairSet(ds.name, ds.graphs, pairs, [ds.name] * len(pairs), names, ds.node_features, ds.edge_features)


def _csl_pairs(ds: GraphDataset) -> PairSet:
    from graphbench.data.synthetic.csl import SKIP_LENGTHS

    ps = pairs_across_classes(ds)
    ps.names = [f"skip {SKIP_LENGTHS[int(ds.labels[a])]} / skip {SKIP_LENGTHS[int(ds.labels[b])]}"
                for a, b in ps.pairs]
    return ps


#: Datasets whose pairs are built by a function instead of ``meta["pairs"]``.
PAIR_BUILDERS: dict[str, Callable[[GraphDataset], PairSet]] = {"csl": _csl_pairs}


def pair_datasets() -> list[str]:
    """Registered datasets known to hold pairs (those that declare them need loading to be sure; listed here)."""
    return sorted({"exp", "sr25", "csl", "wl-pairs", "brec", "graph8c"} & set(DATASETS.names()) | set(PAIR_BUILDERS))


def pairs_from_dataset(ds: GraphDataset, *, max_pairs: int | None = None) -> PairSet:
    """The :class:`PairSet` of a loaded dataset (see the module docstring)."""
    if ds.name in PAIR_BUILDERS:
        return PAIR_BUILDERS[ds.name](ds).limit(max_pairs)
    if "pairs" not in ds.meta or ds.task_level != "graph":
        raise ValueError(f"{ds.name} declares no pairs of graphs to tell apart; the expressiveness protocol runs on "
                         f"pair datasets: {', '.join(pair_datasets())}")
    pairs = _declared_pairs(ds, max_pairs)
    categories = list(ds.meta.get("pair_categories") or [ds.name] * len(pairs))[: len(pairs)]
    names = list(ds.meta.get("pair_names") or [f"{a} / {b}" for a, b in pairs])[: len(pairs)]
    return PairSet(ds.name, ds.graphs, pairs, categories, names, ds.node_features,
                   ds.edge_features).limit(max_pairs)


def load_pairs(dataset: str, root: str | None = None, *, max_pairs: int | None = None, **options) -> PairSet:
    """Load ``dataset`` (from the data root where it needs files) and return its pairs."""
    name = DATASETS.get(dataset).name
    return pairs_from_dataset(load_dataset(name, root, **options), max_pairs=max_pairs)


# --------------------------------------------------------------------------------------------- node relabelling
def permute_graph(g: dgl.DGLGraph, perm: np.ndarray, edge_order: np.ndarray | None = None) -> dgl.DGLGraph:
    """``g`` with node ``i`` renamed ``perm[i]`` (and its edges listed in ``edge_order``, a permutation of the edge
    ids, as BREC shuffles ``edge_index``); every node and edge feature moves with its node or edge. An isomorphic
    copy: any permutation-invariant model must embed it exactly as ``g`` in exact arithmetic."""
    n = g.num_nodes()
    perm_t = torch.as_tensor(np.asarray(perm), dtype=torch.long)
    if sorted(perm_t.tolist()) != list(range(n)):
        raise ValueError(f"perm must be a permutation of 0..{n - 1}")
    src, dst = g.edges()
    order = torch.arange(g.num_edges()) if edge_order is None else torch.as_tensor(np.asarray(edge_order))
    out = dgl.graph((perm_t[src[order]], perm_t[dst[order]]), num_nodes=n)
    inverse = torch.argsort(perm_t)  # row j of the copy is node inverse[j] of g
    for key, value in g.ndata.items():
        out.ndata[key] = value[inverse]
    for key, value in g.edata.items():
        out.edata[key] = value[order]
    return out


@dataclass
class CopySource:
    """A graph's edges and features, extracted once, from which relabelled copies are batched cheaply."""

    num_nodes: int
    src: torch.Tensor
    dst: torch.Tensor
    ndata: dict[str, torch.Tensor]
    edata: dict[str, torch.Tensor]

    @classmethod
    def of(cls, g: dgl.DGLGraph) -> CopySource:
        src, dst = g.edges()
        return cls(g.num_nodes(), src, dst, dict(g.ndata), dict(g.edata))

    @property
    def num_edges(self) -> int:
        return len(self.src)


def random_relabellings(source: CopySource, count: int, rng: np.random.Generator) -> list[tuple]:
    """``count`` independent uniformly random (node permutation, edge order) pairs for ``source``."""
    return [(source, rng.permutation(source.num_nodes), rng.permutation(source.num_edges)) for _ in range(count)]


def batch_copies(copies: list[tuple[CopySource, np.ndarray, np.ndarray]]) -> dgl.DGLGraph:
    """One batched graph of relabelled copies ``(source, perm, edge_order)`` — the same graphs as
    ``dgl.batch([permute_graph(g, perm, edge_order), ...])``, built without a DGL graph per copy."""
    src, dst, n_nodes, n_edges = [], [], [], []
    ndata: dict[str, list] = {k: [] for k in copies[0][0].ndata}
    edata: dict[str, list] = {k: [] for k in copies[0][0].edata}
    offset = 0
    for source, perm, order in copies:
        perm_t, order_t = torch.from_numpy(np.asarray(perm)), torch.from_numpy(np.asarray(order))
        src.append(perm_t[source.src[order_t]] + offset)
        dst.append(perm_t[source.dst[order_t]] + offset)
        inverse = torch.argsort(perm_t)
        for key in ndata:
            ndata[key].append(source.ndata[key][inverse])
        for key in edata:
            edata[key].append(source.edata[key][order_t])
        n_nodes.append(source.num_nodes)
        n_edges.append(source.num_edges)
        offset += source.num_nodes
    out = dgl.graph((torch.cat(src), torch.cat(dst)), num_nodes=offset)
    out.set_batch_num_nodes(torch.tensor(n_nodes))
    out.set_batch_num_edges(torch.tensor(n_edges))
    for key, parts in ndata.items():
        out.ndata[key] = torch.cat(parts)
    for key, parts in edata.items():
        out.edata[key] = torch.cat(parts)
    return out
