"""ZINC-12k (and optionally the full 250k): constrained solubility regression (Dwivedi et al., "Benchmarking Graph
Neural Networks", JMLR 2023; molecules from Irwin et al. ZINC; subset of Jin et al. 2018).

Format (benchmarking-gnns ``molecules.zip``, also what PyG downloads) under ``root/molecules/ZINC/``:
``{train,val,test}.pickle``: pickled lists of dicts ``{"atom_type": LongTensor[n], "bond_type": LongTensor[n, n]
(0 = no bond, 1-3 bond types), "logP_SA_cycle_normalized": Tensor[1], "num_atom": int}``, and
``{train,val,test}.index``: comma-separated molecule positions of the 12k subset (10000 / 1000 / 1000).
Node feature: atom type (categorical, 28 values); edge feature: bond type (categorical, 4 values).
The pickles hold torch tensors, so they are unpickled: only use files from the official source. Absent files are
downloaded from the official ``molecules.zip`` (its ``molecules/`` folder is unpacked into ``root/molecules/ZINC``).

The numbers of graphs per part are checked against the published ones (10000/1000/1000 for the subset,
220011/24445/5000 for ZINC-full); dataset option ``accept_modified=true`` uses edited files and records the
difference in ``meta["modified"]``.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import dgl
import numpy as np
import torch

from graphbench.data import cache
from graphbench.data.base import DatasetCard, FeatureSpec, GraphDataset, Split
from graphbench.data.files import ensure_files
from graphbench.data.integrity import check_counts
from graphbench.registry import DATASETS

LOADER_VERSION = 1
URL = "https://www.dropbox.com/s/feo9qle74kg48gy/molecules.zip?dl=1"
NUM_ATOM_TYPES = 28
NUM_BOND_TYPES = 4
PARTS = ("train", "val", "test")
#: graphs per part (Dwivedi et al.; PyG's ``ZINC``): the 12k subset and ZINC-full
SUBSET_SIZES = {"train": 10000, "val": 1000, "test": 1000}
FULL_SIZES = {"train": 220011, "val": 24445, "test": 5000}

CARD = DatasetCard(
    name="zinc", description="ZINC-12k: regress constrained solubility (logP − SA − #cycles); atom and bond types.",
    task_level="graph", task_kind="regression", metric="mae",
    protocol="fixed split 10000/1000/1000 (benchmarking-gnns subset); subset=False loads ZINC-full 220011/24445/5000",
    source=(f"benchmarking-gnns molecules.zip ({URL}): root/molecules/ZINC/{{train,val,test}}.pickle and "
            "{train,val,test}.index"),
    citation=("Dwivedi, Joshi, Luu, Laurent, Bengio, Bresson. Benchmarking Graph Neural Networks. JMLR 2023. "
              "Irwin et al. ZINC: a free tool to discover chemistry for biology. 2012."),
    size="12000 graphs, 23.2 nodes, 49.8 directed edges on average; 1 target", needs_files=True)


def mol_to_graph(mol: dict) -> dgl.DGLGraph:
    adj = torch.as_tensor(mol["bond_type"])
    src, dst = adj.nonzero(as_tuple=True)
    g = dgl.graph((src, dst), num_nodes=adj.shape[0])
    g.ndata["feat"] = torch.as_tensor(mol["atom_type"]).long().view(-1, 1)
    g.edata["feat"] = adj[src, dst].long().view(-1, 1)
    return g


def _read_index(path: Path) -> list[int]:
    text = path.read_text().strip()
    return [int(x) for x in text.replace("\n", ",").split(",") if x.strip()]


def load_zinc(root: Path, *, seed: int = 0, subset: bool = True, accept_modified: bool = False,
              use_cache: bool = True) -> GraphDataset:
    """ZINC-12k (``subset=True``) or ZINC-full from ``root/molecules/ZINC`` (downloaded when absent);
    ``accept_modified``: use raw files whose graph counts differ from the published ones (recorded in the meta)."""
    root = Path(root)
    files = [f"molecules/ZINC/{p}.pickle" for p in PARTS] + ([f"molecules/ZINC/{p}.index" for p in PARTS]
                                                             if subset else [])
    ensure_files("ZINC", root, files, source=f"{URL} (unzip; put its molecules/ folder's files in root/molecules/ZINC)",
                 urls={f: URL for f in files})
    options = {"subset": subset, **({"accept_modified": True} if accept_modified else {})}
    key = cache.cache_key("zinc", LOADER_VERSION, options, [root / f for f in files], root=root)

    def build() -> GraphDataset:
        graphs, ys, parts = [], [], {}
        for p in PARTS:
            with open(root / "molecules" / "ZINC" / f"{p}.pickle", "rb") as f:
                mols = pickle.load(f)  # noqa: S301 (official benchmarking-gnns format; see module docstring)
            idx = _read_index(root / "molecules" / "ZINC" / f"{p}.index") if subset else range(len(mols))
            start = len(graphs)
            for i in idx:
                graphs.append(mol_to_graph(mols[i]))
                ys.append(float(torch.as_tensor(mols[i]["logP_SA_cycle_normalized"]).reshape(-1)[0]))
            parts[p] = np.arange(start, len(graphs))
        y = torch.tensor(ys, dtype=torch.float32).view(-1, 1)
        split = Split("fixed", parts["train"], parts["val"], parts["test"])
        sizes = SUBSET_SIZES if subset else FULL_SIZES
        modified = check_counts("ZINC" if subset else "ZINC-full", {f"{p} graphs": len(parts[p]) for p in PARTS},
                                {f"{p} graphs": sizes[p] for p in PARTS}, [root / f for f in files],
                                accept_modified=accept_modified)
        return GraphDataset("zinc", graphs, y, "graph", "regression", "mae", [split], num_classes=1,
                            meta={"subset": subset, **({"modified": modified} if modified else {})})

    ds = cache.cached(build, root=root, key=key, use_cache=use_cache)
    ds.card = CARD
    ds.node_spec = FeatureSpec("categorical", cardinalities=(NUM_ATOM_TYPES,))
    ds.edge_spec = FeatureSpec("categorical", cardinalities=(NUM_BOND_TYPES,))
    return ds


DATASETS.add("zinc", load_zinc, card=CARD, aliases=("zinc-12k", "zinc12k"))
