"""Parameter budgets (benchmarking-gnns' 100k / 500k, LRGB's 500k): solve the hidden width that meets one.

The width is the largest ``hidden`` whose model, built on the dataset's real feature spec (node and edge
encoders, positional-encoding width, output width), has at most ``budget`` trainable parameters. The count grows
with ``hidden``, so a bisection over integers finds it; models that need ``hidden`` divisible by something (GAT's
heads) are searched on that lattice. Every row of a budgeted sweep records the budget in ``param_budget``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from graphbench.models import MODELS, build_model, count_parameters
from graphbench.train.runner import get_dataset, resolve_hparams
from graphbench.transforms.config import run_pe_dim

MAX_HIDDEN = 4096


class BudgetError(ValueError):
    """No width meets the budget (even the narrowest model is too large)."""


def solve_hidden(model: str, dataset: str, hparams: dict[str, Any], budget: int, *, data_root: str | None = None,
                 dataset_options: dict[str, Any] | None = None) -> tuple[int, int]:
    """``(hidden, num_params)``: the widest model of ``model`` on ``dataset`` within ``budget`` parameters."""
    return _solve(MODELS.get(model).name, dataset, json.dumps(hparams, sort_keys=True, default=str), budget,
                  data_root, json.dumps(dataset_options or {}, sort_keys=True))


@functools.lru_cache(maxsize=256)
def _solve(model: str, dataset: str, hparams_json: str, budget: int, data_root: str | None,
           options_json: str) -> tuple[int, int]:
    hparams = {k: v for k, v in json.loads(hparams_json).items() if k != "hidden"}
    ds = get_dataset(dataset, data_root, **json.loads(options_json))
    model_hp, train_hp = resolve_hparams(model, hparams)
    step = int(model_hp.get("heads", 1)) or 1  # GAT: hidden must be a multiple of heads
    pe_dim = run_pe_dim(model, model_hp, train_hp)  # the encodings of the run's transform chain

    def count(units: int) -> int:
        hp = {**model_hp, "hidden": units * step}
        net = build_model(model, ds.node_features, ds.num_classes, task_level=ds.task_level,
                          edge_dim=ds.edge_features, pe_dim=pe_dim, **hp)
        return count_parameters(net)

    lo, hi = 1, MAX_HIDDEN // step
    if count(lo) > budget:
        raise BudgetError(f"{model} on {dataset} has {count(lo)} parameters at the smallest width ({step}); "
                          f"the budget {budget} is too small (fewer layers would help)")
    if count(hi) <= budget:
        return hi * step, count(hi)
    while hi - lo > 1:  # invariant: count(lo) <= budget < count(hi)
        mid = (lo + hi) // 2
        if count(mid) <= budget:
            lo = mid
        else:
            hi = mid
    return lo * step, count(lo)
