"""A neutral, versioned cache of processed datasets.

A processed :class:`GraphDataset` is stored as one ``.npz`` of plain arrays (concatenated edge lists, node and edge
feature tensors, offsets, labels, split indices) plus an ``info.json`` -- no pickles, no DGL binaries, so a library
upgrade cannot make it unreadable (the most common complaint about benchmark caches: benchmarking-gnns #10,
OGB #497). The cache folder is keyed by a hash of the dataset name, the loader's version, the loader options, a
fingerprint of the raw files (their SHA-256 contents, see :func:`fingerprint`), and the torch / DGL / numpy
versions, so a change in any of them builds a fresh entry. A ``DONE`` marker holding the SHA-256 of every file of
the entry (arrays and ``info.json``) is written last; an entry without it, with a wrong hash, or that fails to load
is treated as corrupt and rebuilt. Cache files get the permissions of the user's umask (a shared data root stays
readable by its other users).

Cache location: ``$GRAPHBENCH_CACHE`` if set, else ``<data root>/.cache``, else (read-only data root)
``~/.cache/graphbench``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import dgl
import numpy as np
import torch

from graphbench import atomic
from graphbench.data.base import GraphDataset, Split
from graphbench.hashing import sha256_file

log = logging.getLogger(__name__)

CACHE_ENV = "GRAPHBENCH_CACHE"
FORMAT_VERSION = 2
HASH_MEMO = "raw-hashes.json"


def cache_dir(root: Path | None) -> Path:
    """Where caches go: ``$GRAPHBENCH_CACHE``, else ``root/.cache`` when writable, else ``~/.cache/graphbench``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    if root is not None:
        candidate = Path(root) / ".cache"
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return candidate
        except OSError:
            pass
    return Path.home() / ".cache" / "graphbench"


def fingerprint(paths: Sequence[Path], memo_dir: Path | None = None) -> list[list]:
    """Identity of raw files: name, size and SHA-256 of the contents (an edit that keeps the size is seen).

    Hashes are remembered in ``memo_dir/raw-hashes.json`` by (path, size, mtime, ctime, inode), so a warm start
    reads no raw file; any change of those hashes the file again (ctime catches an edit whose mtime was restored).
    """
    memo_file = Path(memo_dir) / HASH_MEMO if memo_dir is not None else None
    memo: dict = {}
    if memo_file is not None and memo_file.exists():
        try:
            memo = json.loads(memo_file.read_text())
        except (OSError, ValueError):
            memo = {}
    out, changed = [], False
    for p in map(Path, paths):
        if not p.exists():
            out.append([p.name, -1, None])
            continue
        st = p.stat()
        stamp = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        known = memo.get(str(p.resolve()))
        if known and known[:4] == stamp:
            digest = known[4]
        else:
            digest = sha256_file(p)
            memo[str(p.resolve())] = [*stamp, digest]
            changed = True
        out.append([p.name, st.st_size, digest])
    if changed and memo_file is not None:
        try:
            memo_file.parent.mkdir(parents=True, exist_ok=True)
            atomic.write_text(memo_file, json.dumps(memo))
        except OSError as exc:
            log.warning("could not remember raw-file hashes in %s: %s", memo_file, exc)
    return out


def cache_key(name: str, version: int | str, options: dict, raw_files: Sequence[Path] = (),
              root: Path | None = None) -> dict:
    """Everything a processed dataset depends on (``root``: the data root, whose cache remembers raw hashes)."""
    return {"dataset": name, "loader_version": str(version), "options": options,
            "raw": fingerprint(raw_files, cache_dir(root)), "format": FORMAT_VERSION, "torch": torch.__version__,
            "dgl": dgl.__version__, "numpy": np.__version__}


#: every file of a cache entry; the DONE marker holds the SHA-256 of each
ENTRY_FILES = ("data.npz", "info.json")


def _key_hash(key: dict) -> str:
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:16]



def _pack(ds: GraphDataset) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    srcs, dsts = [], []
    for g in ds.graphs:
        s, d = g.edges()
        srcs.append(s.numpy())
        dsts.append(d.numpy())
    arrays["num_nodes"] = np.array([g.num_nodes() for g in ds.graphs], dtype=np.int64)
    arrays["num_edges"] = np.array([g.num_edges() for g in ds.graphs], dtype=np.int64)
    arrays["src"] = np.concatenate(srcs).astype(np.int64) if srcs else np.zeros(0, np.int64)
    arrays["dst"] = np.concatenate(dsts).astype(np.int64) if dsts else np.zeros(0, np.int64)
    g0 = ds.graphs[0]
    for kind, keys in (("ndata", g0.ndata.keys()), ("edata", g0.edata.keys())):
        for k in keys:
            arrays[f"{kind}:{k}"] = torch.cat([getattr(g, kind)[k] for g in ds.graphs]).numpy()
    arrays["labels"] = ds.labels.numpy()
    for s in ds.splits:
        for part in ("train", "val", "test"):
            arrays[f"split:{s.name}:{part}"] = getattr(s, part)
    return arrays


def _unpack(arrays: dict[str, np.ndarray], info: dict) -> GraphDataset:
    nn, ne = arrays["num_nodes"], arrays["num_edges"]
    noff = np.concatenate([[0], np.cumsum(nn)])
    eoff = np.concatenate([[0], np.cumsum(ne)])
    src, dst = torch.from_numpy(arrays["src"]), torch.from_numpy(arrays["dst"])
    nfeat = {k.split(":", 1)[1]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("ndata:")}
    efeat = {k.split(":", 1)[1]: torch.from_numpy(v) for k, v in arrays.items() if k.startswith("edata:")}
    graphs = []
    for i in range(len(nn)):
        g = dgl.graph((src[eoff[i]:eoff[i + 1]], dst[eoff[i]:eoff[i + 1]]), num_nodes=int(nn[i]))
        for k, v in nfeat.items():
            g.ndata[k] = v[noff[i]:noff[i + 1]]
        for k, v in efeat.items():
            g.edata[k] = v[eoff[i]:eoff[i + 1]]
        graphs.append(g)
    splits = [Split(name, arrays[f"split:{name}:train"], arrays[f"split:{name}:val"], arrays[f"split:{name}:test"])
              for name in info["splits"]]
    return GraphDataset(info["name"], graphs, torch.from_numpy(arrays["labels"]), info["task_level"],
                        info["task_kind"], info["metric"], splits, num_classes=info["num_classes"],
                        meta=info["meta"])


def save(ds: GraphDataset, folder: Path, key: dict) -> None:
    """Write ``ds`` to ``folder`` (arrays, info, then the DONE marker with the arrays' hash)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "DONE").unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz")
    os.close(fd)
    np.savez(tmp, **_pack(ds))
    atomic.share(tmp)
    os.replace(tmp, folder / "data.npz")
    info = {"name": ds.name, "task_level": ds.task_level, "task_kind": ds.task_kind, "metric": ds.metric,
            "num_classes": ds.num_classes, "splits": [s.name for s in ds.splits], "meta": ds.meta, "key": key}
    atomic.write_text(folder / "info.json", json.dumps(info, default=str))
    atomic.write_text(folder / "DONE", json.dumps({f: sha256_file(folder / f) for f in ENTRY_FILES}))


def load(folder: Path) -> GraphDataset | None:
    """The cached dataset in ``folder``, or None when absent, incomplete or corrupt."""
    marker = folder / "DONE"
    if not marker.exists():
        return None
    try:
        try:
            hashes = json.loads(marker.read_text())
        except ValueError:
            hashes = None
        if not isinstance(hashes, dict) or set(hashes) != set(ENTRY_FILES) or any(
                sha256_file(folder / f) != hashes[f] for f in ENTRY_FILES):
            log.warning("cache %s is corrupt or stale (hash mismatch); rebuilding", folder)
            return None
        info = json.loads((folder / "info.json").read_text())
        with np.load(folder / "data.npz", allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        return _unpack(arrays, info)
    except Exception as exc:  # any unreadable entry is rebuilt rather than crashing the run
        log.warning("cache %s unreadable (%s: %s); rebuilding", folder, type(exc).__name__, exc)
        return None


def cached(build: Callable[[], GraphDataset], *, root: Path | None, key: dict,
           use_cache: bool = True) -> GraphDataset:
    """Load the dataset for ``key`` from the cache, or ``build()`` it and store it.

    The caller re-attaches the card and feature specs (they are code, not data).
    """
    if not use_cache:
        return build()
    folder = cache_dir(root) / key["dataset"] / _key_hash(key)
    ds = load(folder)
    if ds is not None:
        return ds
    ds = build()
    try:
        save(ds, folder, key)
    except OSError as exc:  # a read-only or full disk must not stop a run that already has its data
        log.warning("could not write cache %s: %s", folder, exc)
    return ds


def entry_folder(root: Path | None, key: dict) -> Path:
    """The folder of the cache entry for ``key`` (for tests and tools)."""
    return cache_dir(root) / key["dataset"] / _key_hash(key)
