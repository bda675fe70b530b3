"""Models × pair datasets × seeds → expressiveness results rows (one per category), appended to the results CSV.

Row layout: see docs/results-schema.md, "Expressiveness rows". A model that raises on a dataset (an unsupported
input, a diverged contrastive loss, NaN embeddings) gets one ``failed`` row per category with the reason, and the
next model goes on; configuration errors (unknown names, invalid hyperparameters) raise before anything runs.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import traceback
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from graphbench.expressiveness.pairs import PairSet, load_pairs
from graphbench.expressiveness.protocol import (
    ExpressivenessResult,
    PairResult,
    ProtocolConfig,
    evaluate,
    hparams_json,
    protocol_hparams_json,
    resolve_model_hparams,
)

STAGE = "expressiveness"
METRIC = "distinguished_fraction"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _base_row(model: str, dataset: str, seed: int, device: str, started: str, hparams: str) -> dict[str, Any]:
    import json

    from graphbench.env import environment
    from graphbench.results.schema import SCHEMA_VERSION
    from graphbench.train.runner import config_hash

    return {
        "schema_version": SCHEMA_VERSION, "started_at": started, "ended_at": _now(), **environment(),
        "device": device, "stage": STAGE, "dataset": dataset, "split": "pairs", "fold": 0, "model": model,
        "seed": seed, "deterministic": False, "hparams": hparams,
        "config_hash": config_hash(model, dataset, json.loads(hparams), {}),
        "metric": METRIC, "direction": "max",
    }


def result_rows(result: ExpressivenessResult, *, device: str = "cpu", started: str | None = None) -> list[dict]:
    """One ``ok`` row per category of ``result``."""
    hp = hparams_json(result)
    rows = []
    for c in result.counts():
        row = _base_row(result.model, result.dataset, result.seed, device, started or _now(), hp)
        row.update(run_id=uuid.uuid4().hex, total_time_s=c.time_s, num_params=result.num_params, status="ok",
                   test_metric=c.distinguished / c.pairs, expr_category=c.category, expr_pairs=c.pairs,
                   expr_distinguished=c.distinguished, expr_reliability_failures=c.reliability_failures,
                   expr_threshold=result.config.threshold)
        rows.append(row)
    return rows


def failed_rows(model: str, pairs: PairSet, seed: int, config: ProtocolConfig, hparams: dict[str, Any],
                error: str, *, device: str = "cpu", started: str | None = None, seconds: float = 0.0) -> list[dict]:
    """One ``failed`` row per category of ``pairs``, with the reason."""
    hp = protocol_hparams_json(hparams, config)
    out = []
    for category in pairs.category_order():
        row = _base_row(model, pairs.dataset, seed, device, started or _now(), hp)
        row.update(run_id=uuid.uuid4().hex, total_time_s=seconds, status="failed", error=error,
                   expr_category=category, expr_pairs=pairs.categories.count(category),
                   expr_threshold=config.threshold)
        out.append(row)
    return out


def run(models: Sequence[str], datasets: Sequence[str], *, hparams: dict[str, Any] | None = None,
        config: ProtocolConfig | None = None, seeds: Sequence[int] = (0,), data_root: str | None = None,
        max_pairs: int | None = None, device: str = "cpu", results: str | os.PathLike | None = None,
        on_result: Callable[[ExpressivenessResult | None, list[dict]], None] | None = None,
        on_start: Callable[[str, PairSet, int], None] | None = None,
        on_pair: Callable[[PairResult], None] | None = None) -> list[dict]:
    """Evaluate every model on every dataset for every seed; append the rows to ``results`` (when given) as each
    (model, dataset, seed) finishes, and return them all."""
    from graphbench.models import MODELS
    from graphbench.results import append_rows

    config = config or ProtocolConfig()
    for m in models:  # fail before any work on a typo or an invalid hyperparameter
        MODELS.get(m)
        resolve_model_hparams(m, hparams)
    pair_sets = [load_pairs(d, data_root, max_pairs=max_pairs) for d in datasets]
    rows: list[dict] = []
    for pairs in pair_sets:
        for m in models:
            for seed in seeds:
                if on_start:
                    on_start(m, pairs, seed)
                started, t0 = _now(), time.perf_counter()
                result = None
                try:
                    result = evaluate(m, pairs, hparams=hparams, config=config, seed=seed, device=device,
                                      on_pair=on_pair)
                    new = result_rows(result, device=device, started=started)
                except KeyboardInterrupt:
                    raise
                except Exception as exc:  # recorded, not raised: the next model goes on
                    last = traceback.extract_tb(exc.__traceback__)[-1]
                    error = f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"
                    model_hp, pe, pe_dim = resolve_model_hparams(m, hparams)
                    new = failed_rows(MODELS.get(m).name, pairs, seed, config,
                                      {**model_hp, "pe": pe, "pe_dim": pe_dim}, error,
                                      device=device, started=started, seconds=time.perf_counter() - t0)
                if results is not None:
                    append_rows(results, new)
                rows += new
                if on_result:
                    on_result(result, new)
    return rows
