"""Search spaces → Optuna suggestions, with conditional parameters.

An entry is ``{type: int|float, low, high, log, step}`` or ``{type: categorical, choices}``, optionally with
``when: {param: value | [values]}``. A conditional parameter is suggested only when every named parameter has one
of the listed values (the searched value, else the fixed one, else the declared default); otherwise it is not
suggested at all, so TPE never sees a value that had no effect, and the run uses the model's default.
Parameters are suggested in dependency order (unconditional ones first, in declaration order).
"""

from __future__ import annotations

from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution


def distribution(spec: dict[str, Any]) -> BaseDistribution:
    kind = spec["type"]
    if kind == "categorical":
        return CategoricalDistribution(list(spec["choices"]))
    if kind == "int":
        return IntDistribution(int(spec["low"]), int(spec["high"]), log=bool(spec.get("log", False)),
                               step=int(spec.get("step") or 1))
    return FloatDistribution(float(spec["low"]), float(spec["high"]), log=bool(spec.get("log", False)),
                             step=spec.get("step"))


def suggest_order(space: dict[str, dict]) -> list[str]:
    """Names in an order where every condition's parameters come first; raises ``ValueError`` on a cycle."""
    order: list[str] = []
    pending = list(space)
    while pending:
        ready = [n for n in pending
                 if all(dep not in space or dep in order for dep in (space[n].get("when") or {}))]
        if not ready:
            raise ValueError(f"the conditions ('when') of {', '.join(pending)} depend on each other in a cycle")
        order.extend(ready)
        pending = [n for n in pending if n not in ready]
    return order


def _holds(when: dict[str, Any] | None, values: dict[str, Any]) -> bool:
    for dep, wanted in (when or {}).items():
        wanted = wanted if isinstance(wanted, list) else [wanted]
        if values.get(dep) not in wanted:
            return False
    return True


def active(space: dict[str, dict], values: dict[str, Any], context: dict[str, Any]) -> list[str]:
    """The parameters whose conditions hold given the already chosen ``values`` and the ``context``."""
    return [n for n in suggest_order(space) if _holds(space[n].get("when"), {**context, **values})]


def suggest(trial: optuna.Trial, space: dict[str, dict], context: dict[str, Any]) -> dict[str, Any]:
    """Suggest every active parameter of ``space``; ``context`` holds fixed values and declared defaults."""
    chosen: dict[str, Any] = {}
    for name in suggest_order(space):
        spec = space[name]
        if not _holds(spec.get("when"), {**context, **chosen}):
            continue
        dist = distribution(spec)
        if isinstance(dist, CategoricalDistribution):
            chosen[name] = trial.suggest_categorical(name, dist.choices)
        elif isinstance(dist, IntDistribution):
            chosen[name] = trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
        else:
            chosen[name] = trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    return chosen


def default_params(space: dict[str, dict], defaults: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """The paper-default configuration restricted to ``space`` (for ``enqueue_trial``).

    A default outside its parameter's range or choices is left out (the sampler then picks that one).
    """
    chosen: dict[str, Any] = {}
    for name in suggest_order(space):
        spec = space[name]
        if name not in defaults or not _holds(spec.get("when"), {**context, **chosen}):
            continue
        value = defaults[name]
        if spec["type"] == "categorical":
            ok = value in spec["choices"]
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and \
                spec["low"] <= value <= spec["high"]
        if ok:
            chosen[name] = value
    return chosen
