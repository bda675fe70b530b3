"""Models × pair datasets × seeds → expressiveness results rows (one per category), appended to the results CSV.

Row layout: see docs/results-schema.md, "Expressiveness rows". Each category is evaluated on its own and its row
appended as soon as it is done, so a run stopped by a time limit keeps every finished category, and a re-run of
the same command skips the categories already in the results file (same model, dataset, seed, hyperparameters and
protocol settings, i.e. the same ``config_hash``, and the same number of pairs; status ``ok``). Each pair's seed
comes from its id in the full set, so a category gives the same verdicts alone as in a whole run. A model that
raises on a category (an unsupported input, a diverged contrastive loss, NaN embeddings) gets one ``failed`` row
for it and for every category after it, with the reason, and the next model goes on; failed categories run again
on a re-run. Configuration errors (unknown names, invalid hyperparameters) raise before anything runs.
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


def finished_categories(results: str | os.PathLike | None, model: str, pairs: PairSet, seed: int,
                        hparams: str) -> set[str]:
    """Categories of ``pairs`` whose ``ok`` row for (``model``, seed, ``hparams`` JSON) is already in ``results``
    with the category's current number of pairs (a run with another ``max_pairs`` does not count)."""
    if results is None or not Path(results).exists():
        return set()
    import json

    from graphbench.results import read_results
    from graphbench.train.runner import config_hash

    df = read_results(results)
    df = df[(df["stage"] == STAGE) & (df["status"] == "ok") & (df["model"] == model)
            & (df["dataset"] == pairs.dataset) & (df["seed"] == seed)
            & (df["config_hash"] == config_hash(model, pairs.dataset, json.loads(hparams), {}))]
    sizes = {c: pairs.categories.count(c) for c in pairs.category_order()}
    return {c for c, n in zip(df["expr_category"], df["expr_pairs"], strict=True) if sizes.get(c) == n}


def run(models: Sequence[str], datasets: Sequence[str], *, hparams: dict[str, Any] | None = None,
        config: ProtocolConfig | None = None, seeds: Sequence[int] = (0,), data_root: str | None = None,
        max_pairs: int | None = None, device: str = "cpu", results: str | os.PathLike | None = None,
        on_result: Callable[[ExpressivenessResult | None, list[dict]], None] | None = None,
        on_start: Callable[[str, PairSet, int], None] | None = None,
        on_pair: Callable[[PairResult], None] | None = None,
        on_skip: Callable[[str, PairSet, int, list[str]], None] | None = None) -> list[dict]:
    """Evaluate every model on every dataset for every seed, category by category; append each category's row to
    ``results`` (when given) as soon as it is done, skipping categories already there (see the module docstring),
    and return the new rows. ``on_result`` gets each (model, dataset, seed)'s result over the categories evaluated
    now (None when one failed) and their rows; ``on_skip`` the categories skipped, before the first is run."""
    from graphbench.models import MODELS
    from graphbench.results import append_rows

    config = config or ProtocolConfig()
    resolved = {}
    for m in models:  # fail before any work on a typo or an invalid hyperparameter
        model_hp, pe, pe_dim = resolve_model_hparams(m, hparams)
        resolved[m] = (MODELS.get(m).name, protocol_hparams_json({**model_hp, "pe": pe, "pe_dim": pe_dim}, config),
                       {**model_hp, "pe": pe, "pe_dim": pe_dim})
    pair_sets = [load_pairs(d, data_root, max_pairs=max_pairs) for d in datasets]
    rows: list[dict] = []
    for pairs in pair_sets:
        for m in models:
            name, hp_json, model_hp = resolved[m]
            for seed in seeds:
                done = finished_categories(results, name, pairs, seed, hp_json)
                todo = [c for c in pairs.category_order() if c not in done]
                if done and on_skip:
                    on_skip(name, pairs, seed, [c for c in pairs.category_order() if c in done])
                if not todo:
                    continue
                if on_start:
                    on_start(m, _subset(pairs, todo), seed)
                combined: ExpressivenessResult | None = None
                failed = False
                new: list[dict] = []
                for i, category in enumerate(todo):
                    started, t0 = _now(), time.perf_counter()
                    try:
                        result = evaluate(m, pairs.category(category), hparams=hparams, config=config, seed=seed,
                                          device=device, on_pair=on_pair)
                        batch = result_rows(result, device=device, started=started)
                    except KeyboardInterrupt:
                        raise
                    except Exception as exc:  # recorded, not raised: the next model goes on
                        last = traceback.extract_tb(exc.__traceback__)[-1]
                        error = f"{type(exc).__name__}: {exc} (at {Path(last.filename).name}:{last.lineno})"
                        batch = failed_rows(name, _subset(pairs, todo[i:]), seed, config, model_hp, error,
                                            device=device, started=started, seconds=time.perf_counter() - t0)
                        failed = True
                        if results is not None:
                            append_rows(results, batch)
                        new += batch
                        break
                    if results is not None:
                        append_rows(results, batch)  # this category is kept whatever happens next
                    new += batch
                    if combined is None:
                        combined = result
                    else:
                        combined.pairs += result.pairs
                        combined.total_time_s += result.total_time_s
                rows += new
                if on_result:
                    on_result(None if failed else combined, new)
    return rows


def _subset(pairs: PairSet, categories: list[str]) -> PairSet:
    """The pairs of ``categories`` (ids kept)."""
    keep = [i for i, c in enumerate(pairs.categories) if c in set(categories)]
    return PairSet(pairs.dataset, pairs.graphs, [pairs.pairs[i] for i in keep], [pairs.categories[i] for i in keep],
                   [pairs.names[i] for i in keep], pairs.node_spec, pairs.edge_spec, [pairs.ids[i] for i in keep])
