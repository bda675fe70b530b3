"""On-disk cache of transformed datasets.

An entry is a folder ``<cache>/transforms/<dataset>/<key hash>/`` holding ``data.npz`` (plain arrays: every
example's structure, node / edge tensors and extras, concatenated with per-example sizes; no pickles), ``info.json``
(the key, the outputs, counts) and, written last, ``DONE`` with the SHA-256 of ``data.npz``. An entry without a
valid ``DONE`` is corrupt and rebuilt. Writers hold ``<key hash>.lock`` (``filelock``: ``fcntl.flock``) while
computing, and publish the entry by renaming a finished temporary folder, so concurrent processes asking for the
same entry compute it once: the others wait for the lock and then read the entry.

The key is the dataset's content fingerprint (structure and node / edge tensors), the chain (names, parameters,
versions), the seed when a step is stochastic, and the cache format / library versions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dgl
import numpy as np
import torch
from filelock import FileLock

from graphbench.hashing import sha256_file

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
LOCK_TIMEOUT_S = 6 * 3600  # a waiting worker waits as long as a computation may take


def key_hash(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


def dataset_fingerprint(graphs: Sequence[dgl.DGLGraph]) -> str:
    """SHA-256 of every graph's structure and node / edge tensors (the transforms' whole input)."""
    h = hashlib.sha256()
    h.update(np.array([g.num_nodes() for g in graphs], dtype=np.int64).tobytes())
    h.update(np.array([g.num_edges() for g in graphs], dtype=np.int64).tobytes())
    for g in graphs:
        s, d = g.edges()
        h.update(s.numpy().tobytes())
        h.update(d.numpy().tobytes())
    g0 = graphs[0]
    for kind in ("ndata", "edata"):
        for k in sorted(getattr(g0, kind).keys()):
            h.update(f"{kind}:{k}".encode())
            for g in graphs:
                t = getattr(g, kind)[k]
                h.update(str(t.dtype).encode())
                h.update(t.contiguous().numpy().tobytes())
    return h.hexdigest()[:32]


# -- packing ----------------------------------------------------------------------------------------------------
def _pack_graphs(prefix: str, graphs: Sequence[dgl.DGLGraph], out: dict[str, np.ndarray]) -> None:
    out[f"{prefix}num_nodes"] = np.array([g.num_nodes() for g in graphs], dtype=np.int64)
    out[f"{prefix}num_edges"] = np.array([g.num_edges() for g in graphs], dtype=np.int64)
    edges = [g.edges() for g in graphs]
    out[f"{prefix}src"] = torch.cat([e[0] for e in edges]).numpy().astype(np.int64)
    out[f"{prefix}dst"] = torch.cat([e[1] for e in edges]).numpy().astype(np.int64)
    for kind in ("ndata", "edata"):
        keys = set(getattr(graphs[0], kind).keys())
        for g in graphs[1:]:
            if set(getattr(g, kind).keys()) != keys:
                raise ValueError(f"the transformed graphs do not all have the same {kind} keys")
        for k in sorted(keys):
            out[f"{prefix}{kind}:{k}"] = torch.cat([getattr(g, kind)[k] for g in graphs]).numpy()


def _unpack_graphs(prefix: str, arrays: dict[str, np.ndarray]) -> list[dgl.DGLGraph]:
    nn, ne = arrays[f"{prefix}num_nodes"], arrays[f"{prefix}num_edges"]
    noff = np.concatenate([[0], np.cumsum(nn)])
    eoff = np.concatenate([[0], np.cumsum(ne)])
    src, dst = torch.from_numpy(arrays[f"{prefix}src"]), torch.from_numpy(arrays[f"{prefix}dst"])
    feats = {}
    for k, v in arrays.items():
        if k.startswith(prefix) and ":" in k[len(prefix):] and k[len(prefix):].split(":", 1)[0] in ("ndata", "edata"):
            kind, name = k[len(prefix):].split(":", 1)
            feats[(kind, name)] = torch.from_numpy(v)
    graphs = []
    for i in range(len(nn)):
        g = dgl.graph((src[eoff[i]:eoff[i + 1]], dst[eoff[i]:eoff[i + 1]]), num_nodes=int(nn[i]))
        for (kind, name), v in feats.items():
            off = noff if kind == "ndata" else eoff
            getattr(g, kind)[name] = v[off[i]:off[i + 1]]
        graphs.append(g)
    return graphs


def pack(graphs: Sequence[dgl.DGLGraph], extras: Sequence[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Plain arrays for a list of examples (graphs and their per-graph extras)."""
    out: dict[str, np.ndarray] = {}
    _pack_graphs("g:", graphs, out)
    keys = sorted(extras[0]) if extras else []
    for key in keys:
        values = [e[key] for e in extras]
        if isinstance(values[0], dgl.DGLGraph):
            _pack_graphs(f"xg:{key}:", values, out)
        else:
            shapes = [list(v.shape) for v in values]
            if len({len(s) for s in shapes}) != 1:
                raise ValueError(f"extra {key!r} has tensors of different ranks across graphs")
            out[f"x:{key}:shape"] = np.array(shapes, dtype=np.int64).reshape(len(values), -1)
            out[f"x:{key}"] = torch.cat([v.reshape(-1) for v in values]).numpy()
    return out


def unpack(arrays: dict[str, np.ndarray]) -> tuple[list[dgl.DGLGraph], list[dict[str, Any]]]:
    graphs = _unpack_graphs("g:", arrays)
    extras: list[dict[str, Any]] = [{} for _ in graphs]
    graph_keys = {k.split(":")[1] for k in arrays if k.startswith("xg:")}
    for key in graph_keys:
        for e, g in zip(extras, _unpack_graphs(f"xg:{key}:", arrays)):
            e[key] = g
    for k in arrays:
        if k.startswith("x:") and not k.endswith(":shape"):
            key = k[2:]
            shapes, flat = arrays[f"{k}:shape"], torch.from_numpy(arrays[k])
            sizes = np.prod(shapes, axis=1) if shapes.shape[1] else np.ones(len(shapes), dtype=np.int64)
            off = np.concatenate([[0], np.cumsum(sizes)])
            for i, e in enumerate(extras):
                e[key] = flat[off[i]:off[i + 1]].reshape(tuple(shapes[i]))
    return graphs, extras


# -- entries ------------------------------------------------------------------------------------------------------
def load_entry(folder: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a complete entry, or None when absent, incomplete or corrupt (a warning says which)."""
    marker = folder / "DONE"
    if not marker.exists():
        return None
    try:
        if sha256_file(folder / "data.npz") != marker.read_text().strip():
            log.warning("transform cache %s is corrupt (hash mismatch); rebuilding", folder)
            return None
        with np.load(folder / "data.npz", allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except Exception as exc:  # any unreadable entry is rebuilt
        log.warning("transform cache %s unreadable (%s: %s); rebuilding", folder, type(exc).__name__, exc)
        return None


def write_entry(folder: Path, arrays: dict[str, np.ndarray], info: dict) -> None:
    """Publish an entry atomically: build it in a temporary sibling folder, then rename it into place."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        np.savez(tmp / "data.npz", **arrays)
        (tmp / "info.json").write_text(json.dumps(info, indent=1, default=str))
        (tmp / "DONE").write_text(sha256_file(tmp / "data.npz"))
        if folder.exists():  # a corrupt entry (we hold the lock): replace it
            shutil.rmtree(folder)
        os.replace(tmp, folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def lock_for(folder: Path) -> FileLock:
    folder.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(str(folder) + ".lock", timeout=LOCK_TIMEOUT_S)
