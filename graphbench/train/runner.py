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

from graphbench.data import GraphDataset, load_dataset
from graphbench.hparams import HyperparameterError, validate
from graphbench.models import MODELS, build_model, count_parameters, model_hparams
from graphbench.models.base import COMMON_HPARAMS
from graphbench.registry import DATASETS
from graphbench.results.schema import SCHEMA_VERSION
from graphbench.train.config import TRAIN_HPARAMS, TrainConfig
from graphbench.train.seed import set_seed
from graphbench.train.trainer import EpochCallback, RunPruned, Trainer
from graphbench.transforms.pe import random_walk_se


def resolve_hparams(model: str, given: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split and validate a flat hyperparameter dict into (model hparams, trainer hparams), defaults filled in.

    Raises :class:`~graphbench.hparams.HyperparameterError` naming an unknown or invalid key.
    """
    entry = MODELS.get(model)
    declared = {**entry.meta.get("hparams", COMMON_HPARAMS), **TRAIN_HPARAMS}
    resolved = validate(declared, given or {}, what=f"a {entry.name!r} run")  # one message for unknown names
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
    preset: str | None = None  # the paper preset this configuration is exactly (graphbench.presets)


@functools.lru_cache(maxsize=8)
def _cached_dataset(name: str, root: str | None, options: str) -> GraphDataset:
    return load_dataset(name, root, **json.loads(options))


def get_dataset(name: str, root: str | None = None, **options: Any) -> GraphDataset:
    """Load a dataset once per process (runs of one command share it)."""
    return _cached_dataset(DATASETS.get(name).name, root, json.dumps(options, sort_keys=True))


def add_positional_encoding(dataset: GraphDataset, kind: str, dim: int) -> None:
    """Store the encoding in ``ndata["pe"]`` of every graph (computed once per dataset and setting)."""
    if kind == "none" or dataset.meta.get("_pe") == (kind, dim):
        return
    for g in dataset.graphs:
        g.ndata["pe"] = random_walk_se(g, dim)
    dataset.meta["_pe"] = (kind, dim)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def run_one(spec: RunSpec, *, epoch_callback: EpochCallback | None = None, progress=None) -> dict[str, Any]:
    """Train and evaluate one run; returns its results row (see docs/results-schema.md)."""
    from graphbench.env import environment

    started, t0 = _now(), time.perf_counter()
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
    row: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION, "run_id": uuid.uuid4().hex, "started_at": started,
        **environment(), "device": spec.device, "stage": spec.stage, "study": spec.study, "trial": spec.trial,
        "dataset": dataset.name, "split": split.name, "fold": spec.fold, "model": MODELS.get(spec.model).name,
        "seed": spec.seed, "deterministic": spec.deterministic,
        "hparams": json.dumps(hparams, sort_keys=True),
        "config_hash": config_hash(spec.model, dataset.name, hparams, spec.dataset_options),
        "param_budget": spec.param_budget, "metric": dataset.metric, "direction": dataset.metric_fn.direction,
        "preset": spec.preset,
    }
    try:
        if invalid is not None:
            raise invalid
        cfg = TrainConfig.from_dict(train_hp)
        add_positional_encoding(dataset, cfg.pe, cfg.pe_dim)
        set_seed(spec.seed, deterministic=spec.deterministic)
        model = build_model(spec.model, dataset.node_features, dataset.num_classes, task_level=dataset.task_level,
                            edge_dim=dataset.edge_features, pe_dim=cfg.pe_dim if cfg.pe != "none" else 0,
                            **model_hp)
        row["num_params"] = count_parameters(model)
        result = Trainer(model, dataset, split, cfg, device=spec.device, seed=spec.seed,
                         epoch_callback=epoch_callback, progress=progress).fit()
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
    row["ended_at"] = _now()
    row["total_time_s"] = time.perf_counter() - t0
    if spec.device.startswith("cuda"):
        torch.cuda.empty_cache()
    return row
