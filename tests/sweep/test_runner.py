"""The sweep worker in-process: deterministic trials, pruned/failed trials with reasons, final rows, resume."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.trial import TrialState

import graphbench.sweep.runner as runner_mod
from graphbench.results import read_results
from graphbench.sweep.config import load_sweep
from graphbench.sweep.launch import plan
from graphbench.sweep.runner import work
from graphbench.sweep.storage import StorageError, open_storage

from .helpers import check_accounting, write_sweep


def _run(path, **kw):
    sweep = load_sweep(path)
    storage = open_storage(f"journal:{sweep.journal_path}")
    assert work(sweep, storage, **kw) == 0
    return sweep, storage


def _trials(sweep, storage):
    (spec,) = sweep.studies()
    return optuna.load_study(study_name=spec.name, storage=storage).get_trials(deepcopy=False)


def test_same_seed_gives_the_same_trial_parameters_and_defaults_come_first(tmp_path):
    a, sa = _run(write_sweep(tmp_path / "a"))
    b, sb = _run(write_sweep(tmp_path / "b"))
    pa = [t.params for t in _trials(a, sa)]
    assert pa == [t.params for t in _trials(b, sb)]
    first = _trials(a, sa)[0]
    # CSL has no paper preset: the first trial is the model's defaults, and is not described as a paper's
    assert first.user_attrs.get("gb.first_trial") == "the model's default configuration"
    assert "gb.paper_preset" not in first.user_attrs and first.params["hidden"] in (8, 16)  # 64 is outside: sampled
    assert first.params["lr"] == pytest.approx(1e-3)  # the registered default


def test_a_trial_gets_the_same_parameters_whichever_worker_runs_it(tmp_path):
    """The sampler used to be seeded with seed + worker id, so the same sweep run by worker 1 instead of worker 0
    proposed other hyperparameters; it is now seeded per (study, trial)."""
    a, sa = _run(write_sweep(tmp_path / "a"), worker_id=0)
    b, sb = _run(write_sweep(tmp_path / "b"), worker_id=1)
    pa, pb = [t.params for t in _trials(a, sa)], [t.params for t in _trials(b, sb)]
    assert len(pa) == 3 and pa == pb


def test_search_and_final_rows_are_marked_and_complete(tmp_path):
    path = write_sweep(tmp_path)
    sweep, _ = _run(path)
    counts = check_accounting(path)
    assert counts["complete"] == 3 and counts["final"] == 4  # 2 folds × 2 seeds
    df = read_results(sweep.results)
    assert set(df["stage"]) == {"search", "final"}
    assert (df["study"] == sweep.studies()[0].name).all()
    assert sweep.studies()[0].name.startswith("tiny/gcn/csl/select-once-1f1s-")
    # selection used validation only: the final configuration is the trial with the best mean validation metric
    search = df[df["stage"] == "search"]
    best = search.loc[search["val_metric"].idxmax()]
    final = df[df["stage"] == "final"]
    assert json.loads(final["hparams"].iloc[0]) == json.loads(best["hparams"])


def test_running_the_same_sweep_again_repeats_nothing(tmp_path):
    path = write_sweep(tmp_path)
    sweep, _ = _run(path)
    before = read_results(sweep.results)
    _run(path)
    assert len(read_results(sweep.results)) == len(before)


class _PruneTrialOne(optuna.pruners.BasePruner):
    def prune(self, study, trial) -> bool:
        return trial.number == 1


def test_pruned_and_failed_trials_are_recorded_with_their_reason(tmp_path, monkeypatch):
    real_run_one = runner_mod.run_one

    def run_one(spec, epoch_callback=None):
        if spec.trial == 2 and spec.stage == "search":
            def boom(epoch, val):
                raise RuntimeError("simulated out of memory")
            return real_run_one(spec, epoch_callback=boom)
        return real_run_one(spec, epoch_callback=epoch_callback)

    monkeypatch.setattr(runner_mod, "run_one", run_one)
    monkeypatch.setattr(runner_mod, "make_pruner", lambda sweep, spec: _PruneTrialOne())
    path = write_sweep(tmp_path, trials=3)
    sweep, storage = _run(path)
    trials = {t.number: t for t in _trials(sweep, storage)}
    assert trials[1].state == TrialState.PRUNED and "pruned" in trials[1].user_attrs["gb.error"]
    assert trials[2].state == TrialState.FAIL and "simulated out of memory" in trials[2].user_attrs["gb.error"]
    df = read_results(sweep.results)
    rows = df[df["stage"] == "search"].set_index("trial")
    assert rows.loc[1, "status"] == "pruned" and "epoch 1" in rows.loc[1, "error"]
    assert rows.loc[2, "status"] == "failed" and "simulated out of memory" in rows.loc[2, "error"]
    # a failed trial does not count towards the budget and is never selected
    assert sum(t.state == TrialState.COMPLETE for t in trials.values()) >= 2
    final = df[df["stage"] == "final"]
    assert set(final["trial"].astype(int)) <= {t.number for t in trials.values() if t.state == TrialState.COMPLETE}
    check_accounting(path)


def test_param_budget_is_solved_and_recorded_on_every_row(tmp_path):
    path = write_sweep(tmp_path, param_budget=5000, trials=2,
                       search_space={"lr": {"type": "float", "low": 1e-3, "high": 1e-2}},
                       protocol={"final": {"folds": [0], "seeds": [0]}})
    sweep, _ = _run(path)
    df = read_results(sweep.results)
    assert (df["param_budget"] == 5000).all() and (df["num_params"] <= 5000).all()
    assert (df["num_params"] > 2500).all()  # the width was solved, not left tiny


def test_sqlite_is_refused_for_several_workers_with_the_reason(tmp_path):
    with pytest.raises(StorageError, match="database is locked"):
        open_storage(f"sqlite:///{tmp_path}/s.db", workers=2)
    open_storage(f"sqlite:///{tmp_path}/s.db", workers=1)


def test_single_worker_sqlite_runs_a_sweep(tmp_path):
    path = write_sweep(tmp_path, trials=2, protocol={"final": {"folds": [0], "seeds": [0]}})
    sweep = load_sweep(path)
    url = f"sqlite:///{tmp_path}/s.db"
    assert work(sweep, open_storage(url)) == 0
    check_accounting(path, url)


def test_dry_run_prints_studies_runs_and_estimate(tmp_path, capsys):
    path = write_sweep(tmp_path, models=["gcn", "gin"], datasets=["csl"])
    assert plan(path) == 0
    out = capsys.readouterr().out
    assert "tiny/gcn/csl/select-once-1f1s-" in out and "tiny/gin/csl/select-once-1f1s-" in out
    assert "OPTIMISTIC" in out
    assert "2 studies, at most 14 runs" in out  # 2 × (3 trials × 1 run + 4 final runs)
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").iterdir())


def test_dry_run_reads_datasets_from_the_given_data_root(tmp_path, capsys, shared_data):
    path = write_sweep(tmp_path, models=["gin"], datasets=["mutag"])
    assert plan(path, data_root=str(tmp_path / "empty")) == 0
    assert "not loadable here" in capsys.readouterr().out  # no raw files there
    assert plan(path, data_root=str(shared_data)) == 0
    out = capsys.readouterr().out
    assert "not loadable here" not in out and "tiny/gin/mutag/" in out
