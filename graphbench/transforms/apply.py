"""Apply a transform chain to a whole dataset: once, in parallel worker processes, through the disk cache.

:func:`prepare` is what the runner calls: ``prepare(dataset, steps, seed=..., root=...)`` returns a
:class:`TransformedDataset` (the same examples, labels and splits; transformed graphs; per-graph extras; the chain's
declared outputs). Within a process the result is memoised, so the runs of a sweep worker share it; across
processes the disk cache (:mod:`graphbench.transforms.cache`) shares it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import sys
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dgl
import numpy as np
import torch
from tqdm.auto import tqdm

from graphbench.data.base import GraphDataset
from graphbench.processes import process_pool
from graphbench.transforms import cache
from graphbench.transforms.base import Output, Step, TransformInputError

log = logging.getLogger(__name__)

WORKERS_ENV = "GRAPHBENCH_TRANSFORM_WORKERS"
PARALLEL_MIN_GRAPHS = 512  # below this, worker start-up costs more than it saves
_CHUNK = 256


@dataclasses.dataclass
class TransformedDataset(GraphDataset):
    """A dataset after a transform chain: ``extras[i]`` holds graph ``i``'s per-graph tensors; ``outputs`` the
    chain's declared outputs (how each is batched); ``chain`` the resolved steps as dicts."""

    extras: list[dict[str, Any]] | None = None
    outputs: dict[str, Output] = dataclasses.field(default_factory=dict)
    chain: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    base: GraphDataset | None = None


def chain_outputs(steps: Sequence[Step]) -> dict[str, Output]:
    out: dict[str, Output] = {}
    for step in steps:
        out.update(step.info.outputs)
    return out


# -- one example -----------------------------------------------------------------------------------------------
def apply_steps(graph: dgl.DGLGraph, steps: Sequence[Step], *, seed: int = 0, index: int = 0,
                extras: dict[str, Any] | None = None) -> tuple[dgl.DGLGraph, dict[str, Any]]:
    """The chain applied to one example; the input graph is not modified.

    Stochastic steps get ``rng = numpy.random.default_rng([seed, index, step position])``: a stream per example, so
    the result does not depend on how examples are split among workers.
    """
    extras = dict(extras or {})
    for pos, step in enumerate(steps):
        info = step.info
        kwargs = step.kwargs()
        if info.stochastic:
            kwargs["rng"] = np.random.default_rng([seed, index, pos])
        try:
            result = info.fn(graph, extras, **kwargs)
        except TransformInputError as exc:  # name the example (and, in prepare, the dataset)
            raise exc.located(f"transform {step.name!r} on graph {index}") from None
        new = result.graph if result.graph is not None else graph.local_var()
        for k, v in result.ndata.items():
            new.ndata[k] = v
        for k, v in result.edata.items():
            new.edata[k] = v
        graph = new
        extras.update(result.extras)
    return graph, extras


# -- worker processes ------------------------------------------------------------------------------------------
Examples = tuple[list[dgl.DGLGraph], list[dict[str, Any]]]


_WORK: tuple | None = None  # (graphs, steps, seed) of the running compute, inherited by the forked workers


def _apply_range(graphs: Sequence[dgl.DGLGraph], steps: list[Step], seed: int, a: int, b: int) -> Examples:
    """Graphs ``a, ..., b - 1`` of the dataset through the chain."""
    done = [apply_steps(graphs[i], steps, seed=seed, index=i) for i in range(a, b)]
    return [g for g, _ in done], [e for _, e in done]


def _run_chunk(bounds: tuple[int, int]) -> dict[str, np.ndarray]:
    """A worker's chunk ``[a, b)`` of the graphs it inherited (:data:`_WORK`), packed into plain arrays for the trip
    back. The graphs are never sent to the worker: torch pickles tensors for a process pool as shared-memory file
    descriptors, one per tensor, and a dataset's worth of them exhausts the process's open-file limit."""
    graphs, steps, seed = _WORK
    return cache.pack(*_apply_range(graphs, steps, seed, *bounds))


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    if len(parts) == 1:
        return parts[0]
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def default_workers(num_graphs: int) -> int:
    env = os.environ.get(WORKERS_ENV)
    if env:
        return max(1, int(env))
    if num_graphs < PARALLEL_MIN_GRAPHS:
        return 1
    return max(1, min(4, (os.cpu_count() or 1)))


def _run(graphs: Sequence[dgl.DGLGraph], steps: Sequence[Step], seed: int, workers: int | None, desc: str,
         progress: bool | None) -> Examples | dict[str, np.ndarray]:
    """The chain over every graph: the examples themselves when computed in this process, packed arrays when
    chunks of graphs were spread over ``workers`` processes."""
    global _WORK
    workers = default_workers(len(graphs)) if workers is None else max(1, workers)
    chunk = max(1, min(_CHUNK, -(-len(graphs) // (workers * 4))))
    steps = list(steps)
    bounds = [(a, min(a + chunk, len(graphs))) for a in range(0, len(graphs), chunk)]
    bar = tqdm(total=len(graphs), desc=desc, unit="graph", file=sys.stderr, leave=False,
               disable=(None if progress is None else not progress))
    try:
        if workers == 1 or len(bounds) == 1:
            out: Examples = ([], [])
            for a, b in bounds:
                g, e = _apply_range(graphs, steps, seed, a, b)
                out[0].extend(g)
                out[1].extend(e)
                bar.update(b - a)
            return out
        _WORK = (graphs, steps, seed)
        try:
            with process_pool(workers) as pool:
                parts = []
                for (a, b), part in zip(bounds, pool.imap(_run_chunk, bounds)):
                    parts.append(part)
                    bar.update(b - a)
        finally:
            _WORK = None
        return _concat(parts)
    except TransformInputError as exc:
        raise exc.located(desc) from None
    finally:
        bar.close()


def compute(graphs: Sequence[dgl.DGLGraph], steps: Sequence[Step], *, seed: int = 0, workers: int | None = None,
            desc: str = "transform", progress: bool | None = None) -> dict[str, np.ndarray]:
    """The chain over every graph, as packed arrays (chunks of graphs spread over ``workers`` processes)."""
    out = _run(graphs, steps, seed, workers, desc, progress)
    return cache.pack(*out) if isinstance(out, tuple) else out


def compute_examples(graphs: Sequence[dgl.DGLGraph], steps: Sequence[Step], *, seed: int = 0,
                     workers: int | None = None, desc: str = "transform",
                     progress: bool | None = None) -> Examples:
    """The chain over every graph, as ``(graphs, extras)``: equal to ``cache.unpack(compute(...))``, without
    packing and unpacking the examples computed in this process."""
    out = _run(graphs, steps, seed, workers, desc, progress)
    return out if isinstance(out, tuple) else cache.unpack(out)


# -- datasets ----------------------------------------------------------------------------------------------------
_FINGERPRINTS: dict[int, tuple[GraphDataset, str]] = {}
_MEMO: OrderedDict[tuple, TransformedDataset] = OrderedDict()
_MEMO_SIZE = 8


def fingerprint(dataset: GraphDataset) -> str:
    hit = _FINGERPRINTS.get(id(dataset))
    if hit is None or hit[0] is not dataset:
        hit = (dataset, cache.dataset_fingerprint(dataset.graphs))
        _FINGERPRINTS[id(dataset)] = hit
    return hit[1]


def entry_key(dataset: GraphDataset, steps: Sequence[Step], seed: int) -> dict:
    stochastic = any(s.info.stochastic for s in steps)
    return {"dataset": dataset.name, "fingerprint": fingerprint(dataset), "chain": [s.key() for s in steps],
            "seed": seed if stochastic else None, "format": cache.FORMAT_VERSION, "torch": torch.__version__,
            "dgl": dgl.__version__, "numpy": np.__version__}


def entry_folder(dataset: GraphDataset, steps: Sequence[Step], seed: int, root: str | Path | None) -> Path:
    from graphbench.data.cache import cache_dir

    key = entry_key(dataset, steps, seed)
    return cache_dir(Path(root) if root else None) / "transforms" / dataset.name / cache.key_hash(key)


def prepare(dataset: GraphDataset, steps: Sequence[Step], *, seed: int = 0, root: str | Path | None = None,
            workers: int | None = None, use_cache: bool = True, progress: bool | None = None) -> GraphDataset:
    """``dataset`` after ``steps`` (the dataset itself for an empty chain), from the memo, the disk cache, or
    computed (then stored)."""
    steps = list(steps)
    if not steps:
        return dataset
    stochastic = any(s.info.stochastic for s in steps)
    memo_key = (id(dataset), json.dumps([s.key() for s in steps], sort_keys=True, default=str),
                seed if stochastic else None)
    hit = _MEMO.get(memo_key)
    if hit is not None and hit.base is dataset:
        _MEMO.move_to_end(memo_key)
        return hit
    desc = f"{dataset.name}: {'+'.join(s.name for s in steps)}"
    examples: Examples | None = None
    if use_cache:
        folder = entry_folder(dataset, steps, seed, root)
        arrays = cache.load_entry(folder)
        if arrays is None:
            try:
                with cache.lock_for(folder):
                    arrays = cache.load_entry(folder)  # another process may have written it while we waited
                    if arrays is None:
                        examples = _compute_and_store(dataset, steps, seed, folder, workers, progress, desc)
            except OSError as exc:  # read-only or full disk: compute without storing
                log.warning("transform cache %s not writable (%s); computing without it", folder, exc)
        if arrays is not None:
            examples = cache.unpack(arrays)
    if examples is None:
        examples = compute_examples(dataset.graphs, steps, seed=seed, workers=workers, progress=progress, desc=desc)
    graphs, extras = examples
    fields = {f.name: getattr(dataset, f.name) for f in dataclasses.fields(GraphDataset)}
    fields["graphs"] = graphs
    out = TransformedDataset(**fields, extras=extras if extras and extras[0] else None,
                             outputs=chain_outputs(steps), chain=[s.as_dict() for s in steps], base=dataset)
    _MEMO[memo_key] = out
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return out


def _compute_and_store(dataset: GraphDataset, steps: list[Step], seed: int, folder: Path, workers: int | None,
                       progress: bool | None, desc: str) -> Examples:
    t0 = time.perf_counter()
    out = _run(dataset.graphs, steps, seed, workers, desc, progress)
    examples, arrays = (out, cache.pack(*out)) if isinstance(out, tuple) else (cache.unpack(out), out)
    info = {"key": entry_key(dataset, steps, seed), "outputs": {k: repr(v) for k, v in chain_outputs(steps).items()},
            "graphs": len(dataset.graphs), "compute_s": round(time.perf_counter() - t0, 3)}
    try:
        cache.write_entry(folder, arrays, info)
    except OSError as exc:
        log.warning("could not write transform cache %s: %s", folder, exc)
    return examples


def clear_memo() -> None:
    """Forget in-process results (tests; after changing a transform's code in a session)."""
    _MEMO.clear()
    _FINGERPRINTS.clear()
