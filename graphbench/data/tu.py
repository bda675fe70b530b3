"""TU Dortmund graph classification sets with the protocol of Errica et al. (ICLR 2020).

Format (Morris et al., "TUDataset: A collection of benchmark datasets for learning with graphs", 2020): under
``root/tu/NAME/``: ``NAME_A.txt`` (one directed edge ``i, j`` per line, 1-based global node ids),
``NAME_graph_indicator.txt`` (graph id of each node, 1-based), ``NAME_graph_labels.txt``, optionally
``NAME_node_labels.txt``, ``NAME_node_attributes.txt``, ``NAME_edge_labels.txt``. Graphs keep TU order (the Errica
split files index it). Repeated edges (IMDB lists each twice) are removed.

Splits: Errica et al.'s 10 outer folds with their inner hold-out, from ``root/tu-splits/`` under the file's
official name in diningphil/gnn-comparison (``PROTEINS_full_splits.json`` for PROTEINS, ``NAME_splits.json`` for
the others; ``NAME_splits.json`` is accepted for every set), downloaded from that repository when absent. A set
with official splits never falls back to generated folds silently: without the file the load fails, unless the
dataset option ``splits="generated"`` asks for 10 stratified folds with a 10 % stratified inner validation part
(fixed seed). MUTAG and PTC_MR have no official files (Errica et al. did not use them) and get generated folds.
``meta["split_source"]`` says which, and every results row records it (column ``split_source``).

Raw files are validated before any graph is built (:func:`read_tu`) and their counts are checked against the
published statistics (:func:`check_tu_counts`; dataset option ``accept_modified=true`` to use edited files).

Node features: chemical/bio sets use the one-hot node label (ENZYMES also its 18 attributes, first; the dataset
option ``node_attributes=false`` leaves them out, as PyTorch Geometric's ``TUDataset`` does by default
(``use_node_attr=False``) and so the codes built on it: FoSR's, LASER's). Social sets (IMDB-*,
COLLAB, REDDIT-*) have no node labels; the dataset option ``degree`` chooses the degree feature:

* ``"onehot"`` (default): the one-hot node degree, as Xu et al. (GIN, ICLR 2019) use for the social sets, stored as
  a categorical column (the degree, clipped at ``max_degree``): an embedding of it equals a one-hot times a linear
  layer, without an ``n × max_degree`` dense tensor (REDDIT-BINARY's max degree is above 3000).
* ``"scalar"``: the degree as one number, as Errica et al.'s code (diningphil/gnn-comparison) feeds it.
* ``"constant"``: a constant 1 per node, as the codes built on PyTorch Geometric feed a set without node features
  (FoSR's and LASER's: ``x = torch.ones(n, 1)``).
* ``"values"``: a dense one-hot over the degree values that occur in the dataset (one column per distinct value,
  in increasing order), as Michel et al.'s TU code (PathNN, ``TUDatasets/utils.py`` ``load_data`` with
  ``degree_as_tag``) builds it: 65 columns on IMDB-BINARY, where ``"onehot"`` has 136 (degrees 0 … 135). That code
  counts the repeated edge lines, which doubles every IMDB degree and so gives the same columns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import dgl
import numpy as np
import torch

from graphbench.data import cache
from graphbench.data.base import DatasetCard, FeatureSpec, GraphDataset, Split
from graphbench.data.files import MissingDataError, ensure_files
from graphbench.data.integrity import DataFileError, check_counts, read_table
from graphbench.data.splits import stratified_kfold
from graphbench.registry import DATASETS

LOADER_VERSION = 1
#: The dataset options that give the features PyTorch Geometric's ``TUDataset`` gives by default, and so the codes
#: built on it read (FoSR's, LASER's): a constant 1 per node on the social sets, node labels without attributes.
PYG_TU_FEATURES: dict[str, object] = {"degree": "constant", "node_attributes": False}
TU_URL = "https://www.chrsmrrs.com/graphkerneldatasets/{name}.zip"
ERRICA_URL = "https://raw.githubusercontent.com/diningphil/gnn-comparison/master/data_splits/{folder}/{file}"
CITATION_TU = ("Morris, Kriege, Bause, Kersting, Mutzel, Neumann. TUDataset: A collection of benchmark datasets for "
               "learning with graphs. ICML 2020 GRL+ workshop.")
CITATION_ERRICA = ("Errica, Podda, Bacciu, Micheli. A Fair Comparison of Graph Neural Networks for Graph "
                   "Classification. ICLR 2020.")


@dataclass(frozen=True)
class TUInfo:
    name: str
    social: bool
    graphs: int
    classes: int
    stats: str
    attributes: bool = False
    #: the file name of Errica et al.'s split file in diningphil/gnn-comparison (None: they published none)
    errica_file: str | None = None

    @property
    def avg_nodes(self) -> float:
        return float(re.search(r"([\d.]+) nodes", self.stats).group(1))

    @property
    def class_sizes(self) -> list[int]:
        """Graphs per class, sorted (from ``stats``: ``(125/63)`` or ``(6×100)``)."""
        text = re.search(r"\(([\d/×]+)\)", self.stats).group(1)
        if "×" in text:
            k, n = text.split("×")
            return [int(n)] * int(k)
        return sorted(int(x) for x in text.split("/"))

    @property
    def avg_edges(self) -> float:
        return float(re.search(r"([\d.]+) edges", self.stats).group(1))


TU_SETS: tuple[TUInfo, ...] = (
    TUInfo("MUTAG", False, 188, 2, "188 graphs (125/63), 17.93 nodes, 19.79 edges on average"),
    TUInfo("PTC_MR", False, 344, 2, "344 graphs (192/152), 14.29 nodes, 14.69 edges on average"),
    TUInfo("PROTEINS", False, 1113, 2, "1113 graphs (663/450), 39.06 nodes, 72.82 edges on average",
           errica_file="PROTEINS_full_splits.json"),
    TUInfo("NCI1", False, 4110, 2, "4110 graphs (2053/2057), 29.87 nodes, 32.30 edges on average",
           errica_file="NCI1_splits.json"),
    TUInfo("ENZYMES", False, 600, 6, "600 graphs (6×100), 32.63 nodes, 62.14 edges on average", attributes=True,
           errica_file="ENZYMES_splits.json"),
    TUInfo("DD", False, 1178, 2, "1178 graphs (691/487), 284.32 nodes, 715.66 edges on average",
           errica_file="DD_splits.json"),
    TUInfo("IMDB-BINARY", True, 1000, 2, "1000 graphs (500/500), 19.77 nodes, 96.53 edges on average",
           errica_file="IMDB-BINARY_splits.json"),
    TUInfo("IMDB-MULTI", True, 1500, 3, "1500 graphs (3×500), 13.00 nodes, 65.94 edges on average",
           errica_file="IMDB-MULTI_splits.json"),
    TUInfo("COLLAB", True, 5000, 3, "5000 graphs (2600/775/1625), 74.49 nodes, 2457.78 edges on average",
           errica_file="COLLAB_splits.json"),
    TUInfo("REDDIT-BINARY", True, 2000, 2, "2000 graphs (1000/1000), 429.63 nodes, 497.75 edges on average",
           errica_file="REDDIT-BINARY_splits.json"),
)


def _card(info: TUInfo) -> DatasetCard:
    feats = ("one-hot node degree (categorical column)" if info.social else
             "one-hot node label" + (" + 18 continuous node attributes" if info.attributes else ""))
    return DatasetCard(
        name=info.name.lower(),
        description=f"TU graph classification: {info.name}, {info.classes} classes; node features: {feats}.",
        task_level="graph", task_kind="multiclass", metric="accuracy",
        protocol=("Errica et al. 2020: 10 outer folds (test), inner 90/10 hold-out for model selection; "
                  + (f"official split file root/tu-splits/{info.errica_file} (downloaded when absent; dataset option "
                     "splits=generated for stratified folds instead)" if info.errica_file else
                     "no official split file exists: stratified 10-fold generated with the given seed")
                  + "; the split source is recorded on every result row"),
        source=(f"TU Dortmund collection ({TU_URL.format(name=info.name)}); files under "
                f"root/tu/{info.name}/{info.name}_{{A,graph_indicator,graph_labels,node_labels}}.txt; splits from "
                "diningphil/gnn-comparison"),
        citation=f"{CITATION_TU} {CITATION_ERRICA}",
        size=info.stats, needs_files=True)


def read_tu(folder: Path, name: str) -> dict[str, np.ndarray | None]:
    """Raw TU arrays: 0-based ``edges [m, 2]`` (duplicates removed, first-occurrence order), ``graph_of_node``,
    ``graph_labels``, and ``node_labels`` / ``node_attributes`` / ``edge_labels`` or None.

    Everything a graph build relies on is checked first (a malformed file used to crash DGL with a segmentation
    fault): every edge's endpoints exist and lie in the same graph, graph ids are contiguous from 1, and every
    per-node, per-edge and per-graph file has one line per node, edge or graph. Errors name the file and line.
    """
    def path(suffix: str) -> Path:
        return folder / f"{name}_{suffix}.txt"

    def opt(suffix: str, dtype: type = np.int64) -> np.ndarray | None:
        return read_table(path(suffix), dtype)[:, 0] if path(suffix).exists() else None

    edges = read_table(path("A"), np.int64, columns=2) - 1
    graph_of_node = read_table(path("graph_indicator"), np.int64, columns=1)[:, 0] - 1
    graph_labels = read_table(path("graph_labels"), np.int64, columns=1)[:, 0]
    node_labels, edge_labels = opt("node_labels"), opt("edge_labels")
    node_attrs = read_table(path("node_attributes"), np.float32) if path("node_attributes").exists() else None
    n = len(graph_of_node)
    if graph_of_node[0] != 0 or np.any(np.diff(graph_of_node) < 0) or np.any(np.diff(graph_of_node) > 1):
        bad = 0 if graph_of_node[0] != 0 else int(np.nonzero((np.diff(graph_of_node) < 0) |
                                                              (np.diff(graph_of_node) > 1))[0][0]) + 1
        raise DataFileError(f"{path('graph_indicator')}: line {bad + 1}: graph ids must start at 1 and increase by "
                            f"at most 1 from line to line (nodes of a graph are contiguous); found "
                            f"{graph_of_node[bad] + 1}")
    num_graphs = int(graph_of_node[-1]) + 1
    out_of_range = np.nonzero((edges < 0).any(axis=1) | (edges >= n).any(axis=1))[0]
    if len(out_of_range):
        i = int(out_of_range[0])
        raise DataFileError(f"{path('A')}: line {i + 1}: edge {edges[i, 0] + 1}, {edges[i, 1] + 1} names a node "
                            f"outside 1..{n} (the node count of {path('graph_indicator').name})")
    crossing = np.nonzero(graph_of_node[edges[:, 0]] != graph_of_node[edges[:, 1]])[0]
    if len(crossing):
        i = int(crossing[0])
        raise DataFileError(f"{path('A')}: line {i + 1}: edge {edges[i, 0] + 1}, {edges[i, 1] + 1} joins nodes of "
                            f"graphs {graph_of_node[edges[i, 0]] + 1} and {graph_of_node[edges[i, 1]] + 1}")
    for suffix, arr, want, what in (("graph_labels", graph_labels, num_graphs, "graphs"),
                                    ("node_labels", node_labels, n, "nodes"),
                                    ("node_attributes", node_attrs, n, "nodes"),
                                    ("edge_labels", edge_labels, len(edges), "edges")):
        if arr is not None and len(arr) != want:
            raise DataFileError(f"{path(suffix)}: {len(arr)} line(s), but there are {want} {what} "
                                f"({path('graph_indicator').name}, {path('A').name}); a file is truncated or corrupt")
    # Remove repeated directed edges, keeping TU order of first occurrences.
    _, first = np.unique(edges[:, 0] * n + edges[:, 1], return_index=True)
    keep = np.sort(first)
    if len(keep) != len(edges):
        edges = edges[keep]
        edge_labels = edge_labels[keep] if edge_labels is not None else None
    return {"edges": edges, "graph_of_node": graph_of_node, "graph_labels": graph_labels,
            "node_labels": node_labels, "node_attributes": node_attrs, "edge_labels": edge_labels}


def check_tu_counts(info: TUInfo, raw: dict, files: list[Path], *, accept_modified: bool) -> str | None:
    """Graphs, classes, total nodes and undirected edges against the published statistics (the card's)."""
    g = info.graphs
    sizes = sorted(np.unique(raw["graph_labels"], return_counts=True)[1].tolist())
    found = {"graphs": len(raw["graph_labels"]), "classes": len(sizes),
             "nodes": len(raw["graph_of_node"]), "undirected edges": len(raw["edges"]) / 2}
    expected = {"graphs": g, "classes": info.classes, "nodes": info.avg_nodes * g,
                "undirected edges": info.avg_edges * g}
    if len(sizes) == info.classes:
        for k, (want, have) in enumerate(zip(info.class_sizes, sizes)):
            expected[f"graphs of class {k + 1} (classes by size)"] = want
            found[f"graphs of class {k + 1} (classes by size)"] = have
    # TU lists every undirected edge in both directions: a lost or altered line leaves an edge without its reverse
    e, n = raw["edges"], len(raw["graph_of_node"])
    code, rev = e[:, 0] * n + e[:, 1], e[:, 1] * n + e[:, 0]
    found["edges without their reverse"] = int((~np.isin(rev, code)).sum())
    expected["edges without their reverse"] = 0
    # averages are published to 2 decimals, so totals derived from them are known to within ±0.005 per graph
    slack = {"nodes": 0.005 * g + 0.5, "undirected edges": 0.005 * g + 0.5}
    return check_counts(info.name, found, expected, files, accept_modified=accept_modified, tolerance=slack)


def _one_hot(values: np.ndarray) -> np.ndarray:
    uniq, inv = np.unique(values, return_inverse=True)
    out = np.zeros((len(values), len(uniq)), dtype=np.float32)
    out[np.arange(len(values)), inv] = 1.0
    return out


def build_tu(info: TUInfo, raw: dict, *, max_degree: int | None, degree: str = "onehot",
             node_attributes: bool = True) -> tuple[list[dgl.DGLGraph], np.ndarray, int]:
    """DGL graphs (features in ``ndata['feat']``), class ids 0..C-1, and the degree cardinality (social sets);
    ``node_attributes=False`` leaves a set's continuous node attributes out of the features."""
    gon = raw["graph_of_node"]
    num_graphs = int(gon.max()) + 1
    node_off = np.searchsorted(gon, np.arange(num_graphs + 1))
    edges = raw["edges"]
    graph_of_edge = gon[edges[:, 0]]
    order = np.argsort(graph_of_edge, kind="stable")
    edges = edges[order]
    edge_off = np.searchsorted(graph_of_edge[order], np.arange(num_graphs + 1))
    edge_labels = raw["edge_labels"][order] if raw["edge_labels"] is not None else None

    degree_card = 0
    if info.social:
        deg = np.bincount(edges[:, 0], minlength=len(gon))  # both directions are listed: out-degree = degree
        if max_degree is not None:
            deg = np.minimum(deg, max_degree)
        if degree == "scalar":  # Errica et al.'s code: the degree as one number
            feat = torch.from_numpy(deg.astype(np.float32)).unsqueeze(1)
        elif degree == "constant":  # FoSR's / LASER's code: no feature but a constant
            feat = torch.ones(len(gon), 1)
        elif degree == "values":  # Michel et al.'s TU code: one column per degree value that occurs
            feat = torch.from_numpy(_one_hot(deg))
        else:
            degree_card = int(deg.max()) + 1
            feat = torch.from_numpy(deg.astype(np.int64)).unsqueeze(1)
    else:
        parts = []
        if raw["node_attributes"] is not None and info.attributes and node_attributes:
            parts.append(raw["node_attributes"])
        if raw["node_labels"] is not None:
            parts.append(_one_hot(raw["node_labels"]))
        if not parts:
            parts.append(np.ones((len(gon), 1), dtype=np.float32))
        feat = torch.from_numpy(np.concatenate(parts, axis=1))
    efeat = torch.from_numpy(_one_hot(edge_labels)) if edge_labels is not None else None

    graphs = []
    for i in range(num_graphs):
        e = torch.from_numpy(edges[edge_off[i]:edge_off[i + 1]] - node_off[i])
        g = dgl.graph((e[:, 0], e[:, 1]), num_nodes=int(node_off[i + 1] - node_off[i]))
        g.ndata["feat"] = feat[node_off[i]:node_off[i + 1]]
        if efeat is not None:
            g.edata["feat"] = efeat[edge_off[i]:edge_off[i + 1]]
        graphs.append(g)
    _, y = np.unique(raw["graph_labels"], return_inverse=True)
    return graphs, y.astype(np.int64), degree_card


def errica_splits(path: Path, num_graphs: int) -> list[Split]:
    """The 10 outer folds of an Errica et al. split file (``test`` and one inner ``train`` / ``validation``);
    a file that is not such a list, or whose indices do not fit ``num_graphs``, is a :class:`DataFileError`."""
    try:
        folds = json.loads(path.read_text())
        out = []
        for i, fold in enumerate(folds):
            inner = fold["model_selection"][0]
            sp = Split(f"fold{i}", np.sort(np.asarray(inner["train"], dtype=np.int64)),
                       np.sort(np.asarray(inner["validation"], dtype=np.int64)),
                       np.sort(np.asarray(fold["test"], dtype=np.int64)))
            sp.check(num_graphs)
            out.append(sp)
    except (ValueError, KeyError, IndexError, TypeError, UnicodeDecodeError) as exc:
        raise DataFileError(f"{path}: not a valid Errica et al. split file for {num_graphs} graphs "
                            f"({type(exc).__name__}: {exc}); fetch it again") from None
    if not out:
        raise DataFileError(f"{path}: the split file holds no folds")
    return out


def split_file(root: Path, info: TUInfo) -> Path | None:
    """The Errica split file under ``root/tu-splits``: its official name (e.g. ``PROTEINS_full_splits.json``) or
    ``NAME_splits.json``; None when neither exists."""
    for fname in dict.fromkeys([info.errica_file, f"{info.name}_splits.json"]):
        if fname and (Path(root) / "tu-splits" / fname).exists():
            return Path(root) / "tu-splits" / fname
    return None


def _official_splits(root: Path, info: TUInfo) -> Path:
    """The official split file, downloaded from diningphil/gnn-comparison when absent (network permitting)."""
    found = split_file(root, info)
    if found is not None:
        return found
    folder = "COLLABORATIVE_DEGREE" if info.social else "CHEMICAL"
    url = ERRICA_URL.format(folder=folder, file=info.errica_file)
    rel = f"tu-splits/{info.errica_file}"
    try:
        ensure_files(info.name, Path(root), [rel], source=url, urls={rel: url})
    except MissingDataError as exc:
        raise MissingDataError(f"{exc}\n{info.name} has official splits (Errica et al. 2020); graphbench does not "
                               "replace them silently. To use generated stratified folds instead, pass the dataset "
                               "option splits=generated (recorded on every result row).") from None
    return Path(root) / rel


def load_tu(name: str, root: Path, *, seed: int = 0, max_degree: int | None = None, splits: str = "official",
            degree: str = "onehot", node_attributes: bool = True, accept_modified: bool = False,
            use_cache: bool = True) -> GraphDataset:
    """Load TU set ``name`` from ``root/tu/NAME`` with Errica splits (see module docstring).

    ``splits``: ``"official"`` (Errica et al.'s file where they published one, else generated) or
    ``"generated"`` (stratified 10-fold with ``seed``). ``degree`` (social sets): ``"onehot"``, ``"scalar"``,
    ``"values"`` or ``"constant"``. ``node_attributes``: include a set's continuous node attributes (ENZYMES's 18)
    in the features.
    ``accept_modified``: use raw files whose counts differ from the published ones (recorded in the meta).
    """
    if splits not in ("official", "generated"):
        raise ValueError(f"{name}: dataset option splits must be 'official' or 'generated', got {splits!r}")
    if degree not in ("onehot", "scalar", "values", "constant"):
        raise ValueError(f"{name}: dataset option degree must be 'onehot', 'scalar', 'values' or 'constant', got "
                         f"{degree!r}")
    if not isinstance(node_attributes, bool):
        raise ValueError(f"{name}: dataset option node_attributes must be true or false, got {node_attributes!r}")
    info = next(i for i in TU_SETS if i.name == name)
    folder = Path(root) / "tu" / name
    required = [f"tu/{name}/{name}_{s}.txt" for s in ("A", "graph_indicator", "graph_labels")]
    ensure_files(name, Path(root), required, source=f"{TU_URL.format(name=name)} (unzip into root/tu/)",
                 urls={f: TU_URL.format(name=name) for f in required})
    official = splits == "official" and info.errica_file is not None
    sfile = _official_splits(Path(root), info) if official else None
    raw_files = sorted(folder.glob(f"{name}_*.txt")) + ([sfile] if sfile else [])
    options = {"seed": seed, "max_degree": max_degree, "splits": splits, "degree": degree,
               "accept_modified": accept_modified}
    if not node_attributes:  # only then: the caches of the default features keep their keys
        options["node_attributes"] = False
    key = cache.cache_key(name.lower(), LOADER_VERSION, options, raw_files, root=Path(root))

    def build() -> GraphDataset:
        raw = read_tu(folder, info.name)
        modified = check_tu_counts(info, raw, sorted(folder.glob(f"{name}_*.txt")), accept_modified=accept_modified)
        graphs, y, degree_card = build_tu(info, raw, max_degree=max_degree, degree=degree,
                                          node_attributes=node_attributes)
        if sfile is not None:
            split_list, source = errica_splits(sfile, len(graphs)), f"official: Errica et al. 2020 ({sfile.name})"
        else:
            split_list = stratified_kfold(y, k=10, seed=seed, val_fraction=0.1)
            why = "requested" if info.errica_file else "no official splits exist"
            source = f"generated ({why}): stratified 10-fold, 10% inner validation, seed {seed}"
        meta = {"split_source": source, "degree_cardinality": degree_card}
        if modified:
            meta["modified"] = modified
        return GraphDataset(name.lower(), graphs, torch.from_numpy(y), "graph", "multiclass", "accuracy", split_list,
                            num_classes=int(y.max()) + 1, meta=meta)

    ds = cache.cached(build, root=Path(root), key=key, use_cache=use_cache)
    ds.card = _card(info)
    if info.social and degree == "onehot":
        ds.node_spec = FeatureSpec("categorical", cardinalities=(int(ds.meta["degree_cardinality"]),))
    return ds


def _register(info: TUInfo) -> None:
    def loader(root: Path, *, seed: int = 0, **options) -> GraphDataset:
        return load_tu(info.name, root, seed=seed, **options)

    loader.__doc__ = f"Load {info.name} (TU format) with the Errica et al. protocol."
    DATASETS.add(info.name.lower(), loader, card=_card(info))


for _info in TU_SETS:
    _register(_info)
