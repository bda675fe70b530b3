"""One run = (model, dataset, split, seed, configuration) → one results row, whatever happens.

``run_one`` never raises for a run that fails in training: a diverged loss, an invalid combination discovered while
building the model, or any other exception becomes a row with ``status="failed"`` and the reason, so a sweep or
a multi-seed command goes on with the next run. Pruned runs (:class:`RunPruned`) become ``status="pruned"``.
Configuration errors found *before* training (unknown names, invalid hyperparameters) are raised by
:func:`resolve_hparams` instead, since no run should start with them.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from graphbench.data import GraphDataset, data_root, load_dataset
from graphbench.hparams import HyperparameterError, validate
from graphbench.models import MODELS, build_model, count_parameters, model_hparams
from graphbench.models.base import COMMON_HPARAMS
from graphbench.registry import DATASETS
from graphbench.results.schema import SCHEMA_VERSION
from graphbench.train.checkpoint import DEFAULT_EVERY_S
from graphbench.train.checkpoint import remove as remove_checkpoint
from graphbench.train.config import TRAIN_HPARAMS, TrainConfig
from graphbench.train.seed import set_seed
from graphbench.train.trainer import EpochCallback, RunPruned, Trainer
from graphbench.transforms.apply import prepare
from graphbench.transforms.base import pe_width
from graphbench.transforms.config import canonical_chain, run_steps


def declared_hparams(model: str) -> dict:
    """Every hyperparameter a run of ``model`` accepts: the model's declared ones, then the trainer's (one place;
    the sweep's search-space validation uses it too)."""
    return {**MODELS.get(model).meta.get("hparams", COMMON_HPARAMS), **TRAIN_HPARAMS}


def resolve_hparams(model: str, given: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split and validate a flat hyperparameter dict into (model hparams, trainer hparams), defaults filled in.

    Raises :class:`~graphbench.hparams.HyperparameterError` naming an unknown or invalid key.
    """
    entry = MODELS.get(model)
    given, chain = canonical_chain(given or {})  # dotted transform parameters (lappe.k) folded into the chain
    resolved = validate(declared_hparams(model), given, what=f"a {entry.name!r} run")  # one message for unknown names
    if chain:
        resolved["transforms"] = chain
    else:  # no chain: the hparams (and config hash) of a plain run stay as they were
        resolved.pop("transforms")
    model_hp = model_hparams(model, {k: v for k, v in resolved.items() if k not in TRAIN_HPARAMS})  # + its check
    train_hp = {k: v for k, v in resolved.items() if k in TRAIN_HPARAMS}
    return model_hp, train_hp


def config_hash(model: str, dataset: str, hparams: dict[str, Any], dataset_options: dict[str, Any]) -> str:
    """Identity of a configuration, without seed and fold: rows sharing it are repetitions."""
    blob = json.dumps({"model": model, "dataset": dataset, "hparams": hparams, "dataset_options": dataset_options},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class RunSpec:
    """Everything that defines one run."""

    model: str
    dataset: str
    seed: int = 0
    fold: int = 0
    hparams: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    data_root: str | None = None
    device: str = "cpu"
    deterministic: bool = False
    stage: str = "run"
    study: str | None = None
    trial: int | None = None
    param_budget: int | None = None
    #: torch CPU threads for this run; None keeps the process's setting (the sweep sets its own)
    threads: int | None = None
    #: False for sweep search runs: the test part is never evaluated (``test_metric`` stays empty).
    score_test: bool = True
    #: Errica et al.'s final phase: train on the outer training part minus a fresh random holdout of this fraction
    #: (drawn with the run's seed), which replaces the inner validation part for early stopping.
    holdout: float | None = None
    #: Extra sweep columns for the row (protocol, selection fold, selected trial, ...).
    extra: dict[str, Any] = field(default_factory=dict)
    preset: str | None = None  # the paper preset this configuration is exactly (graphbench.presets)
    #: Where the run saves its training state while it runs (graphbench.train.checkpoint), and resumes from when the
    #: file exists; removed when the run ends. None: no checkpoint.
    checkpoint: str | None = None
    #: Seconds between two checkpoint saves (at the end of an epoch); a shorter run never writes one.
    checkpoint_every_s: float = DEFAULT_EVERY_S


@functools.lru_cache(maxsize=8)
def _cached_dataset(name: str, root: str | None, options: str) -> GraphDataset:
    return load_dataset(name, root, **json.loads(options))


def get_dataset(name: str, root: str | None = None, **options: Any) -> GraphDataset:
    """Load a dataset once per process (runs of one command share it)."""
    return _cached_dataset(DATASETS.get(name).name, root, json.dumps(options, sort_keys=True))


def add_positional_encoding(dataset: GraphDataset, kind: str, dim: int) -> GraphDataset:
    """``dataset`` with the ``pe`` switch's encoding (a cached transform; the dataset itself is not modified)."""
    return prepare(dataset, run_steps("gin", {}, {"pe": kind, "pe_dim": dim}), root=data_root(None))


def default_threads(dataset: GraphDataset, batch_size: int = 32) -> int:
    """A thread count for runs on ``dataset`` on this machine.

    Small workloads (graph batches of a few thousand nodes, small node-level graphs) run fastest on one thread:
    torch's intra-op threads cost more in hand-offs than they save, and on a busy machine the default (one thread
    per core) made a MUTAG epoch 25-30x slower. Larger workloads get the cores that are idle (cores minus the
    1-minute load average, at least 1, at most 8).
    """
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    nodes = [g.num_nodes() for g in dataset.graphs[:1000]] or [0]
    work = sum(nodes) / len(nodes) * (batch_size if dataset.task_level == "graph" else 1)
    if work < 20_000 or cores == 1:
        return 1
    try:
        busy = os.getloadavg()[0]
    except OSError:
        busy = 0.0
    return max(1, min(8, cores, int(cores - busy + 0.5)))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_one(spec: RunSpec, *, epoch_callback: EpochCallback | None = None, progress=None) -> dict[str, Any]:
    """Train and evaluate one run; returns its results row (see docs/results-schema.md)."""
    from graphbench.env import environment

    started, t0, prior_time = _now(), time.perf_counter(), 0.0
    if spec.threads is not None:
        torch.set_num_threads(spec.threads)
    dataset = get_dataset(spec.dataset, spec.data_root, **spec.dataset_options)
    given = dict(spec.hparams)
    if "readout" in dataset.meta and "readout" not in given:
        given["readout"] = dataset.meta["readout"]  # the dataset's protocol prescribes it (e.g. target node)
    try:
        model_hp, train_hp = resolve_hparams(spec.model, given)
        hparams, invalid = {**model_hp, **train_hp}, None
    except HyperparameterError as exc:  # e.g. a sampled combination that breaks a cross-parameter constraint
        model_hp, train_hp, hparams, invalid = {}, {}, given, exc
    if not 0 <= spec.fold < len(dataset.splits):
        raise ValueError(f"{spec.dataset} has {len(dataset.splits)} split(s); fold {spec.fold} does not exist")
    split = dataset.splits[spec.fold]
    if spec.holdout:
        from graphbench.train.holdout import holdout_split

        split = holdout_split(split, spec.holdout, spec.seed)
    row: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "run_id": uuid.uuid4().hex, "started_at": started,
        **environment(), "device": spec.device, "stage": spec.stage, "study": spec.study, "trial": spec.trial,
        "dataset": dataset.name, "split": split.name, "fold": spec.fold, "model": MODELS.get(spec.model).name,
        "seed": spec.seed, "deterministic": spec.deterministic,
        "hparams": json.dumps(hparams, sort_keys=True),
        "config_hash": config_hash(spec.model, dataset.name, hparams, spec.dataset_options),
        "param_budget": spec.param_budget, "metric": dataset.metric, "direction": dataset.metric_fn.direction,
        "threads": torch.get_num_threads(), "dataset_options": json.dumps(spec.dataset_options, sort_keys=True),
        "dataset_modified": dataset.meta.get("modified"), "split_source": dataset.meta.get("split_source"),
        "holdout": spec.holdout, **spec.extra, "preset": spec.preset,
    }
    try:
        if invalid is not None:
            raise invalid
        cfg = TrainConfig.from_dict(train_hp)
        check = getattr(MODELS.get(spec.model).obj, "check_inputs", None)
        if callable(check):  # a model's own pre-flight check (e.g. a lifted graph's memory guard), before any transform
            check(dataset, {**model_hp, **train_hp})
        steps = run_steps(spec.model, model_hp, train_hp)  # the run's transforms, the pe switch, the model's inputs
        dataset = prepare(dataset, steps, seed=spec.seed, root=data_root(spec.data_root))
        set_seed(spec.seed, deterministic=spec.deterministic)
        model = build_model(spec.model, dataset.node_features, dataset.num_classes, task_level=dataset.task_level,
                            edge_dim=dataset.edge_features, pe_dim=pe_width(steps), **model_hp)
        row["num_params"] = count_parameters(model)
        result = Trainer(model, dataset, split, cfg, device=spec.device, seed=spec.seed,
                         epoch_callback=epoch_callback, progress=progress, score_test=spec.score_test,
                         checkpoint=spec.checkpoint, checkpoint_every_s=spec.checkpoint_every_s).fit()
        prior_time = result.prior_time_s
        row.update(train_metric=result.train_metric, val_metric=result.val_metric, test_metric=result.test_metric,
                   best_epoch=result.best_epoch, epochs=result.epochs, time_per_epoch_s=result.time_per_epoch_s,
                   train_time_s=result.train_time_s, inference_time_s=result.inference_time_s,
                   peak_mem_mb=result.peak_mem_mb, status="ok")
    except RunPruned as exc:
        row.update(status="pruned", error=str(exc) or "pruned by the sweep's pruner")
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # recorded, not raised: the next run goes on
        last = traceback.extract_tb(exc.__traceback__)[-1]
        row.update(status="failed", error=f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})")
    remove_checkpoint(spec.checkpoint)  # the run has ended (ok, failed or pruned): nothing to resume
    row["ended_at"] = _now()
    row["total_time_s"] = prior_time + time.perf_counter() - t0  # a resumed run: its time before the kill too
    if spec.device.startswith("cuda"):
        torch.cuda.empty_cache()
    return row
