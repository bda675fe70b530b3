"""SMILES → DGL graphs through OGB's ``smiles2graph`` (RDKit), in parallel, with unparsable SMILES reported.

Node features are OGB's 9 categorical atom features, edge features its 3 categorical bond features (long tensors;
cardinalities from ``ogb.utils.features``), every bond listed in both directions, exactly as ``ogbg-mol*`` and
LRGB build them (Hu et al., "Open Graph Benchmark", NeurIPS 2020).

Recent RDKit versions reject a few SMILES that older ones (used to build ogbg-molhiv) accepted. Those are parsed
again without sanitisation (``sanitize=False`` + a non-strict property update) so that the graph order and the
official split sizes stay intact; they are listed in ``meta["unsanitized"]``. A SMILES that fails even then is
dropped, listed in ``meta["unparsable"]`` and removed from the splits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import dgl
import numpy as np
import torch

from graphbench.data.base import FeatureSpec, Split
from graphbench.processes import process_pool

_ATOM_DIMS: tuple[int, ...] | None = None


def atom_spec() -> FeatureSpec:
    from ogb.utils.features import get_atom_feature_dims
    return FeatureSpec("categorical", cardinalities=tuple(get_atom_feature_dims()))


def bond_spec() -> FeatureSpec:
    from ogb.utils.features import get_bond_feature_dims
    return FeatureSpec("categorical", cardinalities=tuple(get_bond_feature_dims()))


def _unsanitized_graph(smiles: str) -> dict:
    from ogb.utils.features import atom_to_feature_vector, bond_to_feature_vector
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        raise ValueError("RDKit cannot parse it even without sanitisation")
    mol.UpdatePropertyCache(strict=False)
    Chem.GetSymmSSSR(mol)
    x = np.array([atom_to_feature_vector(a) for a in mol.GetAtoms()], dtype=np.int64).reshape(-1, 9)
    edges, feats = [], []
    for b in mol.GetBonds():
        i, j, f = b.GetBeginAtomIdx(), b.GetEndAtomIdx(), bond_to_feature_vector(b)
        edges += [(i, j), (j, i)]
        feats += [f, f]
    return {"edge_index": np.array(edges, dtype=np.int64).reshape(-1, 2).T,
            "edge_feat": np.array(feats, dtype=np.int64).reshape(-1, 3), "node_feat": x, "num_nodes": len(x)}


def _convert(smiles: str) -> tuple[dict | None, str]:
    """(graph dict, status) with status "ok", "unsanitized" or the error text."""
    from ogb.utils import smiles2graph
    try:
        return smiles2graph(smiles), "ok"
    except Exception:  # RDKit returns None for rejected SMILES and smiles2graph then fails on it
        try:
            return _unsanitized_graph(smiles), "unsanitized"
        except Exception as exc:
            return None, f"{type(exc).__name__}: {exc}"


def _convert_chunk(chunk: Sequence[str]) -> list[tuple[dict | None, str]]:
    from rdkit import RDLogger
    RDLogger.DisableLog("rdApp.*")
    return [_convert(s) for s in chunk]


def default_workers() -> int:
    return max(1, min(len(os.sched_getaffinity(0)), 8))


def smiles_to_graphs(smiles: Sequence[str], *, workers: int | None = None,
                     chunk: int = 2000) -> tuple[list[dgl.DGLGraph], list[int], dict]:
    """Graphs for the parsable SMILES, their positions in ``smiles``, and a report (``unsanitized``/``unparsable``
    lists of ``[position, smiles, reason]``)."""
    workers = workers or default_workers()
    chunks = [smiles[i:i + chunk] for i in range(0, len(smiles), chunk)]
    if workers > 1 and len(chunks) > 1:
        with process_pool(workers) as pool:
            results = [r for part in pool.map(_convert_chunk, chunks) for r in part]
    else:
        results = [r for part in map(_convert_chunk, chunks) for r in part]
    graphs, kept, report = [], [], {"unsanitized": [], "unparsable": []}
    for i, (gd, status) in enumerate(results):
        if gd is None:
            report["unparsable"].append([i, smiles[i], status])
            continue
        if status == "unsanitized":
            report["unsanitized"].append([i, smiles[i]])
        graphs.append(graph_from_ogb_dict(gd))
        kept.append(i)
    return graphs, kept, report


def graph_from_ogb_dict(gd: dict) -> dgl.DGLGraph:
    """A DGL graph from OGB's graph dict (``edge_index [2, m]``, ``edge_feat``, ``node_feat``, ``num_nodes``)."""
    ei = torch.from_numpy(np.asarray(gd["edge_index"], dtype=np.int64))
    g = dgl.graph((ei[0], ei[1]), num_nodes=int(gd["num_nodes"]))
    g.ndata["feat"] = torch.from_numpy(np.asarray(gd["node_feat"], dtype=np.int64))
    if gd.get("edge_feat") is not None:
        g.edata["feat"] = torch.from_numpy(np.asarray(gd["edge_feat"], dtype=np.int64))
    return g


def remap_split(split: Split, kept: Sequence[int]) -> Split:
    """Re-index a split over the original rows to the kept rows (dropped rows leave the split)."""
    pos = np.full(max(kept, default=-1) + 1 if len(kept) else 0, -1, dtype=np.int64)
    pos[np.asarray(kept, dtype=np.int64)] = np.arange(len(kept))

    def f(idx: np.ndarray) -> np.ndarray:
        idx = idx[idx < len(pos)]
        out = pos[idx]
        return out[out >= 0]

    return Split(split.name, f(split.train), f(split.val), f(split.test))
