"""The final-run work queue: an explicit list of (fold, seed) items, shared by every worker through the storage.

Final runs are not searched, so nothing is "suggested": the creator of a queue (one per selected configuration,
see :meth:`graphbench.sweep.config.Protocol.final_id`) puts one item per (fold, seed) into it, and workers claim,
run and report items until none is left. The queue lives in the sweep's Optuna storage, so workers on several
machines (PostgreSQL) share it, using only Optuna's public API:

* an item is a ``WAITING`` trial whose user attribute ``gb.item`` holds ``{"fold": f, "seed": s}``
  (``Study.add_trial``);
* :meth:`FinalQueue.claim` is ``Study.ask()``, which pops one ``WAITING`` trial atomically in every storage, so
  two workers never claim the same item; when the queue is already empty ``ask()`` creates a fresh trial, which
  is closed at once as a no-op (``gb.error = "noop: ..."``) and ignored everywhere;
* :meth:`done` / :meth:`fail` are ``Study.tell()``;
* a claimed item whose worker died is failed and queued again by
  :func:`graphbench.sweep.storage.fail_dead_trials`, like a search trial.
"""

from __future__ import annotations

import json
from typing import Any

import optuna
from optuna.trial import TrialState

from graphbench.sweep.storage import (
    REASON_ATTR,
    WORKER_ATTR,
    create_or_load,
    is_dead_trial,
    retried_numbers,
    worker_record,
)

ITEM_ATTR = "gb.item"
FILLED_ATTR = "gb.enqueued"


def _key(item: dict[str, Any] | None) -> str:
    return json.dumps(item, sort_keys=True)


class FinalQueue:
    """One queue of final runs (an Optuna study named ``<search study>/final-...``)."""

    def __init__(self, name: str, storage, direction: str) -> None:
        self.name = name
        self.study, self.created = create_or_load(name, storage, direction=direction)

    @property
    def filled(self) -> bool:
        return self.study.user_attrs.get(FILLED_ATTR) is not None

    def fill(self, items: list[dict[str, Any]], attrs: dict[str, Any]) -> None:
        """Queue every item not queued yet (safe to repeat: a worker tops up a queue whose creator died)."""
        have = {_key(t.user_attrs.get(ITEM_ATTR)) for t in self.study.get_trials(deepcopy=False)}
        for item in items:
            if _key(item) not in have:
                self.study.add_trial(optuna.create_trial(state=TrialState.WAITING,
                                                         user_attrs={**attrs, ITEM_ATTR: item}))
        for k, v in attrs.items():
            self.study.set_user_attr(k, v)
        self.study.set_user_attr(FILLED_ATTR, True)

    def claim(self) -> tuple[optuna.Trial, dict[str, Any]] | None:
        """Take one item (``(trial, item)``), or None when another worker took the last one first."""
        trial = self.study.ask()
        item = trial.user_attrs.get(ITEM_ATTR)
        if item is None:
            trial.set_user_attr(REASON_ATTR, "noop: another worker claimed the last queued final run")
            self.study.tell(trial, state=TrialState.FAIL)
            return None
        trial.set_user_attr(WORKER_ATTR, worker_record(trial.number))
        return trial, item

    def done(self, trial: optuna.Trial, value: float) -> None:
        self.study.tell(trial, value)

    def fail(self, trial: optuna.Trial, reason: str) -> None:
        trial.set_user_attr(REASON_ATTR, reason)
        self.study.tell(trial, state=TrialState.FAIL)

    def state(self) -> str:
        """open (an item waits), busy (items still running), done."""
        states = [t.state for t in self.study.get_trials(deepcopy=False)]
        if TrialState.WAITING in states:
            return "open"
        return "busy" if TrialState.RUNNING in states else "done"

    def finished_items(self) -> int:
        """Items run to the end (ok or failed by their run), not counting no-ops and dead workers' claims."""
        trials = self.study.get_trials(deepcopy=False)
        retried = retried_numbers(trials)
        return sum(1 for t in trials if t.user_attrs.get(ITEM_ATTR) is not None and (
            t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and not is_dead_trial(t, retried))))
