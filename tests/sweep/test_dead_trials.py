"""Failing and retrying the trials of dead workers (journal storage, no heartbeat), without killing anything: the
two windows a kill can land in that the kill tests of test_workers.py hit only by chance.

* A worker records itself on a trial before it samples the trial's parameters, so a kill can land while only some
  of them (or none) are set. The retried copy keeps every value the dead trial had and samples only the rest.
* A worker writes a trial's rows before it tells the storage the outcome. A trial killed in between is finished
  from its rows, not run again beside them.
"""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from graphbench.results import append_rows, read_results
from graphbench.sweep.config import load_sweep
from graphbench.sweep.runner import StudyRunner, work
from graphbench.sweep.storage import (
    REASON_ATTR,
    RECOVERED_ATTR,
    WORKER_ATTR,
    fail_dead_trials,
    open_storage,
    worker_record,
)

from .helpers import write_sweep


def _study(tmp_path):
    storage = open_storage(f"journal:{tmp_path / 's.journal'}")
    study = optuna.create_study(study_name="s", storage=storage, sampler=optuna.samplers.RandomSampler(seed=0))
    return study, storage


def _dead_record(number: int) -> dict:
    """This process's record with another start time: the pid check reads it as a worker that was replaced."""
    rec = worker_record(number)
    rec["start"] = -1 if rec["start"] != -1 else -2
    return rec


def _kill_after(study, n_params: int) -> optuna.Trial:
    trial = study.ask()
    trial.set_user_attr(WORKER_ATTR, _dead_record(trial.number))
    for name in ["a", "b", "c"][:n_params]:
        trial.suggest_float(name, 0.0, 1.0)
    return trial


def _sample_all(trial: optuna.Trial) -> dict:
    return {name: trial.suggest_float(name, 0.0, 1.0) for name in ["a", "b", "c"]}


def test_a_dead_trial_is_failed_with_its_reason_and_queued_with_the_same_parameters(tmp_path):
    study, storage = _study(tmp_path)
    dead = _kill_after(study, 3)
    assert fail_dead_trials(study, storage) == [dead.number]
    trials = study.get_trials()
    assert trials[0].state == TrialState.FAIL and "is gone" in trials[0].user_attrs[REASON_ATTR]
    copy = trials[1]
    assert copy.state == TrialState.WAITING and copy.params == trials[0].params
    assert copy.system_attrs["retry_history"] == [dead.number] and WORKER_ATTR not in copy.user_attrs
    assert _sample_all(study.ask()) == trials[0].params
    assert fail_dead_trials(study, storage) == []  # the copy's worker (this process) is alive


def test_a_trial_killed_while_sampling_keeps_the_values_it_had_and_samples_the_rest(tmp_path):
    study, storage = _study(tmp_path)
    dead = _kill_after(study, 1)
    fail_dead_trials(study, storage)
    had = study.get_trials()[0].params
    assert list(had) == ["a"]
    params = _sample_all(study.ask())
    assert params["a"] == had["a"] and set(params) == {"a", "b", "c"}
    assert study.get_trials()[1].system_attrs["retry_history"] == [dead.number]


def test_a_trial_is_retried_at_most_twice(tmp_path):
    study, storage = _study(tmp_path)
    _kill_after(study, 2)
    for _ in range(3):
        fail_dead_trials(study, storage)
        waiting = [t for t in study.get_trials() if t.state == TrialState.WAITING]
        if not waiting:
            break
        retry = study.ask()
        retry.set_user_attr(WORKER_ATTR, _dead_record(retry.number))
    states = [t.state for t in study.get_trials()]
    assert states == [TrialState.FAIL] * 3  # the original and two retries, then no more copies


def _runner_with_a_trial_killed_after_its_rows(tmp_path, status: str):
    """A finished tiny sweep plus one more trial whose worker died after writing its rows (a copy of trial 0's
    rows, with ``status``) and before telling the storage: the window between ``append_rows`` and ``tell``."""
    sweep = load_sweep(write_sweep(tmp_path, trials=1))
    storage = open_storage(f"journal:{sweep.journal_path}")
    assert work(sweep, storage) == 0
    runner = StudyRunner(sweep.studies()[0], sweep, storage)
    trial = runner.study.ask()
    trial.set_user_attr(WORKER_ATTR, _dead_record(trial.number))
    df = read_results(sweep.results)
    rows = df[(df["stage"] == "search") & (df["trial"] == 0)].drop(columns="source").to_dict("records")
    for r in rows:
        r.update(trial=trial.number, run_id=f"{r['run_id']}-copy", status=status,
                 error="pruned by the test" if status == "pruned" else "")
    append_rows(sweep.results, rows)
    return runner, storage, trial.number


def test_a_trial_whose_worker_died_after_writing_its_rows_is_finished_from_them_not_rerun(tmp_path):
    runner, storage, number = _runner_with_a_trial_killed_after_its_rows(tmp_path, "ok")
    assert fail_dead_trials(runner.study, storage, recorded=runner.recorded_outcome) == []
    trials = runner.study.get_trials()
    dead = trials[number]
    assert dead.state == TrialState.COMPLETE and dead.value == pytest.approx(trials[0].value)
    assert "is gone" in dead.user_attrs[RECOVERED_ATTR] and REASON_ATTR not in dead.user_attrs
    assert len(trials) == number + 1  # nothing queued again


def test_a_pruned_trial_killed_after_its_rows_is_finished_as_pruned_with_its_reason(tmp_path):
    runner, storage, number = _runner_with_a_trial_killed_after_its_rows(tmp_path, "pruned")
    fail_dead_trials(runner.study, storage, recorded=runner.recorded_outcome)
    dead = runner.study.get_trials()[number]
    assert dead.state == TrialState.PRUNED and dead.user_attrs[REASON_ATTR] == "pruned by the test"
    assert not [t for t in runner.study.get_trials() if t.state == TrialState.WAITING]
