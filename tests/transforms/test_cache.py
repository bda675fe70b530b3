"""The transform cache: computed once for concurrent processes, invalidated by a version change, corrupt entries
rebuilt, the same result for any number of worker processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import tests.toy_inputs  # noqa: F401  (registers the toy dataset and transforms)
from graphbench.data import load_dataset
from graphbench.transforms import resolve_chain
from graphbench.transforms.apply import clear_memo, compute, entry_folder, prepare
from tests.helpers import ROOT

SCRIPT = """
import hashlib, sys, tests.toy_inputs
from graphbench.data import load_dataset
from graphbench.transforms import resolve_chain
from graphbench.transforms.apply import prepare
ds = prepare(load_dataset("toy-triangles", size=int(sys.argv[2])), resolve_chain(["toy-hop2"]), root=sys.argv[1],
             workers=1)
h = hashlib.sha256()
for g in ds.graphs:
    s, d = g.edges()
    h.update(s.numpy().tobytes() + d.numpy().tobytes() + g.edata["etype"].numpy().tobytes())
print(h.hexdigest())
"""


def _launch(root: Path, log: Path, size: int, version: int = 1) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TOY_TRANSFORM_LOG": str(log), "TOY_HOP2_VERSION": str(version)}
    env.pop("GRAPHBENCH_CACHE", None)
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(root), str(size)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    return out.strip()


def _lines(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def test_typed_edge_transform_is_computed_once_by_two_concurrent_processes(tmp_path):
    size = 300
    log = tmp_path / "calls.log"
    a, b = _launch(tmp_path, log, size), _launch(tmp_path, log, size)
    digests = {_finish(a), _finish(b)}
    calls = _lines(log)
    assert len(calls) == size  # one computation per graph, in total
    assert len(set(calls)) == 1  # by one of the two processes
    assert len(digests) == 1  # both read the same result
    # a third run reads the cache: no computation
    assert _finish(_launch(tmp_path, log, size)) in digests and len(_lines(log)) == size
    # a new version of the transform is a new entry: computed again, once
    _finish(_launch(tmp_path, log, size, version=2))
    assert len(_lines(log)) == 2 * size
    _finish(_launch(tmp_path, log, size, version=2))
    assert len(_lines(log)) == 2 * size


def test_typed_edges_are_what_the_transform_says():
    ds = prepare(load_dataset("toy-triangles", size=4), resolve_chain(["toy-hop2"]), use_cache=False)
    g = ds.graphs[0]
    src, dst = g.edges()
    et = g.edata["etype"]
    n = g.num_nodes()
    adj = torch.zeros(n, n, dtype=torch.bool)
    adj[src[et == 0], dst[et == 0]] = True
    two = ((adj.float() @ adj.float()) > 0) & ~adj & ~torch.eye(n, dtype=torch.bool)
    assert set(zip(src[et == 1].tolist(), dst[et == 1].tolist())) == set(map(tuple, two.nonzero().tolist()))
    assert int((et == 1).sum()) > 0


def test_a_corrupt_entry_is_rebuilt(tmp_path, monkeypatch):
    log = tmp_path / "calls.log"
    monkeypatch.setenv("TOY_TRANSFORM_LOG", str(log))
    ds = load_dataset("toy-triangles", size=20)
    steps = resolve_chain(["toy-hop2"])
    first = prepare(ds, steps, root=tmp_path, workers=1)
    folder = entry_folder(ds, steps, 0, tmp_path)
    assert (folder / "DONE").exists() and len(_lines(log)) == 20
    clear_memo()
    data = bytearray((folder / "data.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "data.npz").write_bytes(bytes(data))
    again = prepare(ds, steps, root=tmp_path, workers=1)
    assert len(_lines(log)) == 40  # recomputed
    assert all(torch.equal(x.edges()[0], y.edges()[0]) for x, y in zip(first.graphs, again.graphs))
    clear_memo()
    prepare(ds, steps, root=tmp_path, workers=1)
    assert len(_lines(log)) == 40  # and stored again, intact


def test_worker_processes_give_the_same_result_as_one_process(tmp_path):
    ds = load_dataset("toy-triangles", size=64)
    steps = resolve_chain(["triangles", "toy-noise", {"name": "lappe", "k": 3}])
    one = compute(ds.graphs, steps, seed=5, workers=1, progress=False)
    two = compute(ds.graphs, steps, seed=5, workers=2, progress=False)
    assert one.keys() == two.keys()
    for k in one:
        np.testing.assert_array_equal(one[k], two[k])
    other_seed = compute(ds.graphs, steps, seed=6, workers=1, progress=False)
    assert not np.array_equal(one["g:ndata:noise"], other_seed["g:ndata:noise"])


def test_stochastic_transforms_are_cached_per_seed(tmp_path):
    ds = load_dataset("toy-triangles", size=8)
    steps = resolve_chain(["toy-noise"])
    plain = resolve_chain(["triangles"])
    assert entry_folder(ds, steps, 0, tmp_path) != entry_folder(ds, steps, 1, tmp_path)
    assert entry_folder(ds, plain, 0, tmp_path) == entry_folder(ds, plain, 1, tmp_path)  # deterministic: one entry
    a = prepare(ds, steps, seed=0, root=tmp_path)
    b = prepare(ds, steps, seed=1, root=tmp_path)
    assert not torch.equal(a.graphs[0].ndata["noise"], b.graphs[0].ndata["noise"])


def test_unknown_transform_and_parameter_errors_name_them():
    from graphbench.hparams import HyperparameterError
    from graphbench.registry import UnknownNameError

    with pytest.raises(UnknownNameError, match="lappe"):
        resolve_chain(["lapep"])
    with pytest.raises(HyperparameterError, match="'kk'"):
        resolve_chain([{"name": "lappe", "kk": 3}])
    with pytest.raises(HyperparameterError, match="add {name: lappe}"):
        resolve_chain(["rwse"], {"lappe": {"k": 4}})


def _assert_same_examples(a, b) -> None:
    import dgl

    def same_graph(x: dgl.DGLGraph, y: dgl.DGLGraph) -> None:
        assert x.num_nodes() == y.num_nodes()
        for ex, ey in zip(x.edges(), y.edges()):
            assert torch.equal(ex, ey)
        for kind in ("ndata", "edata"):
            dx, dy = getattr(x, kind), getattr(y, kind)
            assert set(dx.keys()) == set(dy.keys())
            for k in dx.keys():
                assert dx[k].dtype == dy[k].dtype and torch.equal(dx[k], dy[k]), (kind, k)

    (ga, ea), (gb, eb) = a, b
    assert len(ga) == len(gb) and len(ea) == len(eb)
    for x, y in zip(ga, gb):
        same_graph(x, y)
    for x, y in zip(ea, eb):
        assert set(x) == set(y)
        for k in x:
            if isinstance(x[k], dgl.DGLGraph):
                same_graph(x[k], y[k])
            else:
                assert x[k].dtype == y[k].dtype and torch.equal(x[k], y[k]), k


def test_examples_computed_here_equal_the_packed_and_cached_ones(tmp_path):
    """prepare keeps the examples it computed in this process (no pack / unpack round trip); they must equal what
    the workers send back and what a later process reads from the cache, extras graphs included."""
    from graphbench.transforms import cache
    from graphbench.transforms.apply import compute_examples

    ds = load_dataset("toy-triangles", size=24)
    steps = resolve_chain(["triangles", "toy-noise", {"name": "lappe", "k": 3},
                           {"name": "sswl_product", "policy": "distance"}])
    here = compute_examples(ds.graphs, steps, seed=3, workers=1, progress=False)
    _assert_same_examples(here, cache.unpack(compute(ds.graphs, steps, seed=3, workers=2, progress=False)))
    _assert_same_examples(here, compute_examples(ds.graphs, steps, seed=3, workers=2, progress=False))
    clear_memo()
    fresh = prepare(ds, steps, seed=3, root=tmp_path, workers=1)
    clear_memo()
    cached = prepare(ds, steps, seed=3, root=tmp_path, workers=1)
    assert fresh is not cached
    _assert_same_examples(here, (fresh.graphs, fresh.extras))
    _assert_same_examples(here, (cached.graphs, cached.extras))
