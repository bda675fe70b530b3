"""Where a sweep's studies live, and how trials of dead workers are failed and retried.

``--storage`` takes:

* nothing: Optuna's journal file ``results/<sweep>.journal`` (``JournalStorage(JournalFileBackend(path))``): no
  server, safe for several worker processes on one machine (appends are serialised by a lock file);
* a path ending in ``.journal`` (or ``journal:PATH``): a journal file there;
* ``sqlite:///PATH``: an SQLite database, for a single worker only. SQLite locks the whole file for each write;
  concurrent workers get "database is locked" errors and lose trials (Optuna FAQ), so it is refused for
  ``--workers`` > 1;
* ``postgresql://...`` (or ``postgresql+psycopg2://``, ``mysql+pymysql://``): an ``RDBStorage`` that workers on
  many machines share. Each running trial records a heartbeat every ``heartbeat_interval`` seconds; a trial with
  no heartbeat for ``grace_period`` seconds (its worker was killed) is failed, and
  ``RetryHeartbeatStaleTrialCallback`` queues a copy of it (same parameters) to run again.

The journal has no heartbeat. Instead each worker writes ``gb.worker`` = host, pid and process start time into
the trial's user attributes when it starts the trial; :func:`fail_dead_trials`, run by every worker before it
takes work, fails each RUNNING trial whose worker process no longer exists on this host (or, for another host,
that has run longer than ``stale_after`` seconds when that is set) and queues the same retry.

A worker can die after its trial's rows reached the results file but before the storage heard the outcome. Such
a trial is not failed and run again (its rows would then stand beside its copy's): given ``recorded``, which
reads the outcome off the rows, :func:`fail_dead_trials` finishes the trial with it (``gb.recovered`` says so).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.exceptions import DuplicatedStudyError
from optuna.storages import RDBStorage
from optuna.storages.journal import JournalFileBackend, JournalFileSymlinkLock, JournalStorage
from optuna.trial import FrozenTrial, TrialState

MAX_RETRY = 2
LOCK_GRACE_S = 10
WORKER_ATTR = "gb.worker"
REASON_ATTR = "gb.error"
RECOVERED_ATTR = "gb.recovered"
#: A trial's outcome as its results rows record it: (state, value, failure reason), or None when it wrote no rows.
Outcome = tuple[TrialState, "float | None", "str | None"]
#: A RUNNING trial without a worker record is considered orphaned after this long (killed between pop and start).
UNCLAIMED_GRACE_S = 120.0


class StorageError(ValueError):
    """An unusable ``--storage`` (or one refused for this many workers); the message says why."""


def storage_kind(url: str | None) -> str:
    if url is None or url.startswith("journal:") or url.endswith(".journal"):
        return "journal"
    if url.startswith("sqlite"):
        return "sqlite"
    if "://" in url:
        return "rdb"
    return "journal"


def default_url(journal_path: Path) -> str:
    return f"journal:{journal_path}"


def open_storage(url: str, *, workers: int = 1, heartbeat_interval: int = 60,
                 grace_period: int | None = None) -> optuna.storages.BaseStorage:
    """The Optuna storage for ``url`` (see the module docstring)."""
    kind = storage_kind(url)
    if kind == "sqlite" and workers > 1:
        raise StorageError(
            f"--storage {url} with --workers {workers}: SQLite locks the whole database for every write, so "
            "parallel workers fail with 'database is locked' and lose trials (Optuna FAQ). Use the default journal "
            "file (no --storage) for several workers on one machine, or PostgreSQL for several machines.")
    if kind == "journal":
        path = Path(url.removeprefix("journal:"))
        path.parent.mkdir(parents=True, exist_ok=True)
        # The lock is held for one append (milliseconds); a worker killed while holding it leaves the lock file
        # behind, which others break after LOCK_GRACE_S instead of Optuna's default 30 s.
        return JournalStorage(JournalFileBackend(str(path), lock_obj=JournalFileSymlinkLock(str(path),
                                                                                          grace_period=LOCK_GRACE_S)))
    if kind == "sqlite":
        Path(url.split(":///", 1)[-1]).parent.mkdir(parents=True, exist_ok=True)
        return RDBStorage(url)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg2://" + url.removeprefix("postgresql://")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return RDBStorage(url, engine_kwargs={"pool_pre_ping": True},
                              heartbeat_interval=heartbeat_interval,
                              grace_period=grace_period or 3 * heartbeat_interval,
                              heartbeat_stale_trial_callback=_retry_heartbeat_stale)
    except Exception as exc:  # sqlalchemy's errors are long; the first line says what is wrong
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StorageError(f"cannot open storage {_redact(url)}: {first}") from None


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def describe(url: str) -> str:
    return _redact(url)


# -- worker identity and dead-trial detection (journal) ---------------------------------------------------------
def _proc_start(pid: int) -> str | None:
    """Start time of process ``pid`` in clock ticks since boot (tells a reused pid apart); None if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def worker_record(trial_number: int) -> dict[str, Any]:
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "start": _proc_start(pid), "trial": trial_number}


def _alive(record: dict[str, Any]) -> bool:
    pid = int(record.get("pid", -1))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    start = _proc_start(pid)
    return record.get("start") is None or start is None or start == record.get("start")


def dead_reason(trial: FrozenTrial, *, stale_after: float | None = None, now: dt.datetime | None = None) -> str | None:
    """Why the RUNNING ``trial`` has no live worker, or None when it may still be running."""
    now = now or dt.datetime.now(dt.UTC)
    started = trial.datetime_start
    age = (now - started.astimezone(dt.UTC)).total_seconds() if started else 0.0
    rec = trial.user_attrs.get(WORKER_ATTR)
    if not rec or rec.get("trial") != trial.number:
        if age > UNCLAIMED_GRACE_S:
            return f"no worker started it within {UNCLAIMED_GRACE_S:.0f} s (killed right after claiming it)"
        return None
    if rec.get("host") == socket.gethostname():
        if not _alive(rec):
            return f"its worker (pid {rec.get('pid')} on {rec.get('host')}) is gone (killed or crashed)"
        return None
    if stale_after is not None and age > stale_after:
        return f"running for {age:.0f} s on {rec.get('host')}, longer than stale_after={stale_after:.0f} s"
    return None


def heartbeat_enabled(storage: optuna.storages.BaseStorage) -> bool:
    getter = getattr(storage, "get_heartbeat_interval", None)
    return callable(getter) and getter() is not None


def trial_id(storage: optuna.storages.BaseStorage, study: optuna.Study, number: int) -> int:
    """The storage id of trial ``number`` of ``study``, through the public storage API (no private attributes:
    the storage is the one this process opened, passed in explicitly)."""
    return storage.get_trial_id_from_study_id_trial_number(storage.get_study_id_from_name(study.study_name), number)


def frozen_trial(storage: optuna.storages.BaseStorage, study: optuna.Study, number: int) -> FrozenTrial:
    return storage.get_trial(trial_id(storage, study, number))


def fail_dead_trials(study: optuna.Study, storage: optuna.storages.BaseStorage, *,
                     stale_after: float | None = None,
                     recorded: Callable[[FrozenTrial], Outcome | None] | None = None) -> list[int]:
    """Fail the RUNNING trials of ``study`` (opened on ``storage``) whose worker is gone and queue a retry of each.

    The pid check covers the journal, SQLite, and every trial of a worker on this host. With a heartbeat (RDB
    storage) Optuna's ``fail_stale_trials`` runs after it, for workers on other hosts (its callback queues the
    retry; Optuna has frozen such a trial before graphbench sees it, so ``recorded`` cannot finish it).
    A dead trial for which ``recorded`` returns an outcome (its rows were written before its worker died) is
    finished with that outcome instead, and not retried. Returns the numbers of the trials failed by the pid check.
    """
    beating = heartbeat_enabled(storage)
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        # With a heartbeat, Optuna handles the trials of other hosts that have beaten; one killed before its first
        # beat is invisible to it, so the record check runs for those too.
        reason = dead_reason(trial, stale_after=None if beating else stale_after)
        if reason is None:
            continue
        tid = trial_id(storage, study, trial.number)
        outcome = recorded(trial) if recorded is not None else None
        if outcome is not None:
            _finish_from_rows(storage, tid, outcome, reason)
            continue
        try:
            storage.set_trial_user_attr(tid, REASON_ATTR, f"stale: {reason}")
            if not storage.set_trial_state_values(tid, TrialState.FAIL):
                continue
        except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
            continue  # another worker failed it first
        failed.append(trial.number)
        retry_trial(study, storage.get_trial(tid))
    if beating:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            optuna.storages.fail_stale_trials(study)
    return failed


def _finish_from_rows(storage: optuna.storages.BaseStorage, tid: int, outcome: Outcome, reason: str) -> None:
    state, value, error = outcome
    try:
        storage.set_trial_user_attr(tid, RECOVERED_ATTR, f"{reason}, after writing its rows: finished from them")
        if error:
            storage.set_trial_user_attr(tid, REASON_ATTR, error)
        storage.set_trial_state_values(tid, state, None if value is None else [value])
    except (optuna.exceptions.UpdateFinishedTrialError, RuntimeError):
        pass  # another worker finished it first


def _retry_heartbeat_stale(study: optuna.Study, trial: FrozenTrial) -> None:
    """RDB ``heartbeat_stale_trial_callback``: the trial is already FAIL (its attributes are frozen), so the
    reason goes on the queued copy."""
    retry_trial(study, trial, reason=f"stale: trial {trial.number} missed its heartbeats (worker killed or lost)")


def is_dead_trial(trial: FrozenTrial, retried: set[int]) -> bool:
    """A FAIL trial that failed because its worker died or was interrupted (and was queued again), not because
    its run failed; ``retried`` holds the numbers found in other trials' ``retry_history``."""
    reason = str(trial.user_attrs.get(REASON_ATTR, ""))
    return reason.startswith(("stale:", "interrupted")) or (not reason and trial.number in retried)


def retried_numbers(trials: list[FrozenTrial]) -> set[int]:
    return {n for t in trials for n in t.system_attrs.get("retry_history", [])}


def retry_trial(study: optuna.Study, trial: FrozenTrial, *, reason: str | None = None) -> None:
    """Queue a copy of ``trial`` (same parameters) unless it has been retried ``MAX_RETRY`` times already.

    Like ``RetryHeartbeatStaleTrialCallback`` (same ``failed_trial`` / ``retry_history`` system attributes), but
    the copy does not inherit the dead trial's worker record and failure reason.
    """
    history = [*trial.system_attrs.get("retry_history", []), trial.number]
    if len(history) > MAX_RETRY:
        return
    system_attrs = {**trial.system_attrs, "failed_trial": trial.system_attrs.get("failed_trial", trial.number),
                    "retry_history": history}
    if reason:
        system_attrs["gb.retry_reason"] = reason
    user_attrs = {k: v for k, v in trial.user_attrs.items() if k not in (WORKER_ATTR, REASON_ATTR)}
    study.add_trial(optuna.create_trial(state=TrialState.WAITING, params=trial.params,
                                        distributions=trial.distributions, user_attrs=user_attrs,
                                        system_attrs=system_attrs))


def create_or_load(name: str, storage, *, direction: str, sampler=None, pruner=None) -> tuple[optuna.Study, bool]:
    """``(study, created)``: creation is atomic in every storage, so exactly one worker gets ``created``."""
    try:
        return optuna.create_study(study_name=name, storage=storage, direction=direction, sampler=sampler,
                                   pruner=pruner, load_if_exists=False), True
    except DuplicatedStudyError:
        return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner), False
