"""BREC: 400 pairs of non-isomorphic, 1-WL-indistinguishable graphs in seven categories.

Wang & Zhang, "Towards Better Evaluation of GNN Expressiveness with BREC Dataset" (2023); data and code
github.com/GraphPKU/BREC. A distinguishability set, not a learning task: graphs ``2i`` and ``2i + 1`` form pair
``i``; ``meta["pairs"]`` lists the pairs and ``meta["pair_categories"]`` the category of each. Evaluate it with
``graphbench expressiveness`` (BREC's RPC protocol, :mod:`graphbench.expressiveness`).

Raw files (read from the data root, ``root/expressiveness/BREC/``), BREC's category files as in its repository's
``customize/Data/raw/``: NumPy ``.npy`` arrays of graph6 strings (``str`` or ``bytes``), the two graphs of a pair
next to each other (flat ``[2k]`` or ``[k, 2]``):

- ``basic.npy`` → ``basic``, 60 pairs (BREC ids 0–59);
- ``regular.npy`` → ``regular``, 50 pairs (60–109);
- ``str.npy`` → ``strongly-regular``, 50 pairs (110–159);
- ``extension.npy`` → ``extension``, 100 pairs (160–259);
- ``cfi.npy`` → ``cfi``, 100 pairs (260–359);
- ``4vtx.npy`` → ``4-vertex-condition``, 20 pairs (360–379);
- ``dr.npy`` → ``distance-regular``, 20 pairs (380–399).

(BREC's paper groups regular, strongly regular, 4-vertex-condition and distance-regular graphs as "Regular", 140
pairs.) Alternatively the released ``brec_v3.npy`` (from ``BREC_data_all.zip``, also what the ``brec`` package
downloads) is read when the category files are absent: it holds, for pair ``i``, 64 relabelled copies interlaced
starting at ``64 i`` with the two original graphs first, then a reliability part; the originals are taken and the
categories follow the id ranges above. The counts are not enforced (a subset or a newer release loads as it is);
``meta["category_counts"]`` says what was read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import torch

from graphbench.data.base import DatasetCard, GraphDataset
from graphbench.data.files import MissingDataError, ensure_files
from graphbench.data.synthetic.expressiveness import nx_to_dgl
from graphbench.registry import DATASETS

FOLDER = "expressiveness/BREC"
#: (file, category, pairs in BREC v3), in BREC's id order.
CATEGORY_FILES: tuple[tuple[str, str, int], ...] = (
    ("basic.npy", "basic", 60),
    ("regular.npy", "regular", 50),
    ("str.npy", "strongly-regular", 50),
    ("extension.npy", "extension", 100),
    ("cfi.npy", "cfi", 100),
    ("4vtx.npy", "4-vertex-condition", 20),
    ("dr.npy", "distance-regular", 20),
)
RELEASE_FILE = "brec_v3.npy"
RELABEL_BLOCK = 64  # 2 × BREC's NUM_RELABEL = 32 copies per pair in brec_v3.npy
SOURCE = ("github.com/GraphPKU/BREC: the category files of customize/Data/raw/ (basic.npy, regular.npy, str.npy, "
          "extension.npy, cfi.npy, 4vtx.npy, dr.npy), or brec_v3.npy from BREC_data_all.zip")

CARD = DatasetCard(
    name="brec", description="BREC: 400 pairs of 1-WL-indistinguishable non-isomorphic graphs in 7 categories.",
    task_level="graph", task_kind="multiclass", metric="accuracy",
    protocol=("no split: distinguishability set for the RPC protocol (`graphbench expressiveness`): per pair, "
              "Hotelling's T² over 32 relabellings with a reliability check; counts per category"),
    source=f"{SOURCE}; files under root/{FOLDER}/",
    citation=("Wang, Zhang. Towards Better Evaluation of GNN Expressiveness with BREC Dataset. arXiv:2304.07702, "
              "2023."),
    size=("800 graphs in 400 pairs: basic 60, regular 50, strongly regular 50, extension 100, CFI 100, "
          "4-vertex condition 20, distance regular 20; no node features"),
    needs_files=True)


def _graph6_entries(path: Path) -> list[bytes]:
    """The graph6 strings of one ``.npy`` file, flattened in order (a ``[k, 2]`` array gives pair by pair)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"{path}: not a plain NumPy array of graph6 strings ({exc}); BREC's raw files are "
                         "str/bytes arrays that load without pickle") from exc
    if arr.dtype.kind not in "SU":
        raise ValueError(f"{path}: expected an array of graph6 strings, got dtype {arr.dtype}")
    return [v.encode("ascii") if isinstance(v, str) else bytes(v) for v in arr.reshape(-1).tolist()]


def _parse(entry: bytes, path: Path, index: int) -> nx.Graph:
    try:
        return nx.from_graph6_bytes(entry.strip())
    except (nx.NetworkXError, ValueError, IndexError) as exc:
        raise ValueError(f"{path}: entry {index} is not a valid graph6 string ({exc}): {entry[:40]!r}") from exc


def read_category_files(folder: Path) -> list[tuple[str, nx.Graph, nx.Graph]]:
    """(category, G, H) for every pair of the seven category files, in BREC's id order."""
    out = []
    for file, category, _ in CATEGORY_FILES:
        path = folder / file
        entries = _graph6_entries(path)
        if len(entries) % 2:
            raise ValueError(f"{path}: {len(entries)} graph6 strings, expected an even number (pairs)")
        for i in range(0, len(entries), 2):
            out.append((category, _parse(entries[i], path, i), _parse(entries[i + 1], path, i + 1)))
    return out


def read_release_file(path: Path) -> list[tuple[str, nx.Graph, nx.Graph]]:
    """(category, G, H) from ``brec_v3.npy``: the two original graphs at the start of each pair's block."""
    entries = _graph6_entries(path)
    total = sum(n for _, _, n in CATEGORY_FILES)
    if len(entries) != 2 * total * RELABEL_BLOCK:
        raise ValueError(f"{path}: {len(entries)} graph6 strings; BREC v3's release file holds "
                         f"{2 * total * RELABEL_BLOCK} ({total} pairs × {RELABEL_BLOCK} relabellings × 2 parts)")
    out, pair = [], 0
    for _, category, n in CATEGORY_FILES:
        for _ in range(n):
            j = pair * RELABEL_BLOCK
            out.append((category, _parse(entries[j], path, j), _parse(entries[j + 1], path, j + 1)))
            pair += 1
    return out


def load_brec(root: Path, *, seed: int = 0) -> GraphDataset:
    """Load BREC from ``root/expressiveness/BREC/`` (see the module docstring); ``seed`` is unused (no splits)."""
    root = Path(root)
    folder = root / FOLDER
    files = [f"{FOLDER}/{f}" for f, _, _ in CATEGORY_FILES]
    if (folder / RELEASE_FILE).exists() and not all((root / f).exists() for f in files):
        pairs = read_release_file(folder / RELEASE_FILE)
    else:
        try:
            ensure_files("BREC", root, files, source=SOURCE)
        except MissingDataError as exc:
            raise MissingDataError(f"{exc}\n(Alternatively put BREC's release file at {folder / RELEASE_FILE}.)") \
                from None
        pairs = read_category_files(folder)
    graphs = [nx_to_dgl(G) for _, a, b in pairs for G in (a, b)]
    categories = [c for c, _, _ in pairs]
    meta = {"pairs": [[2 * i, 2 * i + 1] for i in range(len(pairs))], "pair_categories": categories,
            "category_counts": dict(Counter(categories))}
    ds = GraphDataset("brec", graphs, torch.arange(len(graphs)), "graph", "multiclass", "accuracy", [],
                      num_classes=len(graphs), meta=meta)
    ds.card = CARD
    return ds


DATASETS.add("brec", load_brec, card=CARD)
