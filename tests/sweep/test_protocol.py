"""Issue 9: per-fold selection, no test scoring in the search, finals that follow the selection, distinct study
names, the Errica final phase, checks before the storage, budget notes."""

from __future__ import annotations

import argparse
import json

import numpy as np
import optuna
import pandas as pd
import pytest

import graphbench.sweep.runner as runner_mod
from graphbench.report.protocol import mark_superseded
from graphbench.results import read_results
from graphbench.results.schema import SchemaError, validate_row
from graphbench.sweep.config import Phase, Protocol, load_sweep
from graphbench.sweep.launch import budget_notes, run_sweep, summary
from graphbench.sweep.runner import work
from graphbench.sweep.storage import open_storage
from graphbench.train.holdout import holdout_split
from graphbench.train.runner import get_dataset

from .helpers import check_accounting, write_sweep

PER_FOLD = {"selection": "per-fold", "search": {"seeds": [0]}, "final": {"folds": [0, 1, 2], "seeds": [0]}}


def _run(path):
    sweep = load_sweep(path)
    assert work(sweep, open_storage(f"journal:{sweep.journal_path}")) == 0
    return sweep


def test_per_fold_selection_never_sees_the_folds_test_graphs(tmp_path):
    sweep = _run(write_sweep(tmp_path, trials=2, protocol=PER_FOLD))
    splits = get_dataset("csl").splits
    df = read_results(sweep.results)
    studies = sweep.studies()
    assert [s.outer_fold for s in studies] == [0, 1, 2]
    for spec in studies:
        k = spec.outer_fold
        search = df[(df["stage"] == "search") & (df["study"] == spec.name)]
        final = df[(df["stage"] == "final") & (df["study"] == spec.name)]
        assert len(search) == 2 and set(search["fold"]) == {k} and set(search["selection_fold"]) == {k}
        # every graph the selection of fold k trained or validated on is outside fold k's test part
        seen = np.concatenate([np.r_[splits[f].train, splits[f].val] for f in search["fold"]])
        assert not set(seen) & set(splits[k].test)
        # fold k's final rows re-run fold k's own selection
        best = optuna.load_study(study_name=spec.name, storage=open_storage(f"journal:{sweep.journal_path}")).best_trial
        assert set(final["fold"]) == {k} and set(final["trial"]) == {best.number}
        assert set(final["protocol"]) == {"per-fold"} and final["test_metric"].notna().all()
    # the optimistic protocol does leak on CSL: fold 0's validation graphs are test graphs of other folds
    assert set(splits[0].val) & set(splits[1].test)


def test_search_rows_never_score_the_test_part(tmp_path, monkeypatch):
    from graphbench.train.trainer import Trainer

    evaluated: list[int] = []
    real = Trainer.evaluate

    def spy(self, index):
        if index is self.split.test:
            evaluated.append(len(index))
        return real(self, index)

    monkeypatch.setattr(Trainer, "evaluate", spy)
    path = write_sweep(tmp_path, trials=2, protocol={"final": {"folds": [0], "seeds": [0]}})
    sweep = _run(path)
    df = read_results(sweep.results)
    search = df[df["stage"] == "search"]
    assert len(search) == 2 and search["test_metric"].isna().all() and search["inference_time_s"].isna().all()
    assert len(evaluated) == 1  # the one final run scored the test part once; the two search runs never did
    row = {k: (None if v is None or v != v else v) for k, v in search.iloc[0].to_dict().items() if k != "source"}
    row.update(test_metric=0.5, schema_version=2)
    with pytest.raises(SchemaError, match="search row"):
        validate_row({k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()})


def test_distinct_protocols_get_distinct_study_names():
    a = Protocol(Phase((0,), (0, 1, 2, 3)), selection="select-once")
    b = Protocol(Phase((0,), (4, 5, 6, 7)), selection="select-once")
    c = Protocol(Phase((1, 12), (0,)), selection="select-once")
    d = Protocol(Phase((11, 2), (0,)), selection="select-once")
    e = Protocol(Phase(None, (0,)))
    names = {p.id for p in (a, b, c, d, e)}
    assert len(names) == 5, names
    assert Protocol(Phase((0,), (0, 1, 2, 3)), selection="select-once").id == a.id  # stable across processes


def _make_search_trial_best(monkeypatch, number: int) -> None:
    """Patch the runner so that search trial ``number`` has the best validation metric (0.99)."""
    real = runner_mod.run_one

    def run(spec, epoch_callback=None):
        row = real(spec, epoch_callback=epoch_callback)
        if spec.stage == "search" and spec.trial == number:
            row["val_metric"] = 0.99
        return row

    monkeypatch.setattr(runner_mod, "run_one", run)


def test_a_larger_budget_that_selects_another_configuration_reruns_the_finals(tmp_path, monkeypatch):
    proto = {"final": {"folds": [0], "seeds": [0, 1]}}
    path = write_sweep(tmp_path, trials=1, protocol=proto)
    sweep = _run(path)
    first = read_results(sweep.results)
    assert set(first[first["stage"] == "final"]["trial"]) == {0}

    _make_search_trial_best(monkeypatch, 2)
    path = write_sweep(tmp_path, trials=3, protocol=proto)
    sweep = _run(path)
    df = mark_superseded(read_results(sweep.results))
    final = df[df["stage"] == "final"]
    assert sorted(final["trial"]) == [0, 0, 2, 2]
    assert set(final[final["superseded"]]["trial"]) == {0} and set(final[~final["superseded"]]["trial"]) == {2}
    assert final[final["trial"] == 2]["config_hash"].nunique() == 1
    text = summary(sweep)
    assert "2 final row(s) of earlier selections are superseded" in text
    # running again repeats nothing
    before = len(df)
    _run(path)
    assert len(read_results(sweep.results)) == before


def test_errica_final_phase_retrains_on_a_fresh_holdout_of_the_outer_training_set(tmp_path):
    split = get_dataset("csl").splits[0]
    a, b = holdout_split(split, 0.1, seed=0), holdout_split(split, 0.1, seed=1)
    outer = set(split.train) | set(split.val)
    for h in (a, b):
        assert set(h.train) | set(h.val) == outer and not set(h.train) & set(h.val)
        assert len(h.val) == round(0.1 * len(outer)) and (h.test == split.test).all()
    assert set(a.val) != set(b.val)  # fresh per seed
    path = write_sweep(tmp_path, trials=1, protocol={"final": {"folds": [0], "seeds": [0, 1], "holdout": 0.1}})
    sweep = _run(path)
    df = read_results(sweep.results)
    assert (df[df["stage"] == "final"]["holdout"] == 0.1).all() and df[df["stage"] == "search"]["holdout"].isna().all()
    check_accounting(path)


def test_a_sweep_that_fails_its_data_check_leaves_no_storage_behind(tmp_path):
    path = write_sweep(tmp_path, datasets=["mutag"], data_root=str(tmp_path / "empty"))
    sweep = load_sweep(path)
    with pytest.raises(RuntimeError, match="mutag"):
        run_sweep(path)
    assert not sweep.journal_path.exists()


def test_sweep_cli_accepts_data_root():
    from graphbench.sweep.cli import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p)
    assert p.parse_args(["f.yaml", "--data-root", "/data"]).data_root == "/data"


def test_a_study_cut_by_the_time_budget_is_said(tmp_path):
    path = write_sweep(tmp_path, trials=50, timeout=1, protocol={"final": {"folds": [0], "seeds": [0]}},
                       hparams={"epochs": 3, "batch_size": 64, "layers": 1})
    sweep = _run(path)
    notes = budget_notes(sweep, open_storage(f"journal:{sweep.journal_path}"))
    assert len(notes) == 1 and "cut by the time budget" in notes[0] and "of 50 trials" in notes[0]
    assert "cut by the time budget" in summary(sweep, notes)


NOTHING_TO_SEARCH = {"hidden": None, "layers": None, "dropout": None, "lr": None}


def test_a_study_with_nothing_to_select_runs_only_its_finals(tmp_path, capsys):
    from graphbench.sweep.launch import plan

    # every parameter fixed: a search trial would train the one configuration once more only to select it
    path = write_sweep(tmp_path, trials=3, protocol=PER_FOLD, search_space=NOTHING_TO_SEARCH,
                       hparams={"epochs": 2, "batch_size": 64, "layers": 1, "hidden": 8})
    assert plan(path) == 0
    shown = capsys.readouterr().out
    assert "at most 3 runs" in shown  # 3 folds × 1 final seed, no search run
    sweep = _run(path)
    df = read_results(sweep.results)
    assert (df["stage"] == "final").all() and sorted(df["fold"]) == [0, 1, 2]
    assert (df["selection_trials"] == 0).all() and df["trial"].isna().all()
    assert {json.loads(h)["hidden"] for h in df["hparams"]} == {8} and df["test_metric"].notna().all()
    assert not mark_superseded(df)["superseded"].any()
    assert summary(sweep).splitlines()[-1].split()[-3:] == ["3", "0", "1"]  # runs, failed, configurations
    _run(path)  # resuming repeats nothing
    assert len(read_results(sweep.results)) == len(df)


def test_one_trial_runs_the_first_configuration_without_a_search_and_a_larger_budget_searches(tmp_path,
                                                                                               monkeypatch):
    proto = {"final": {"folds": [0], "seeds": [0, 1]}}
    space = {**NOTHING_TO_SEARCH, "lr": {"type": "float", "low": 1.0e-4, "high": 1.0e-2, "log": True}}
    path = write_sweep(tmp_path, trials=1, protocol=proto, search_space=space)
    sweep = _run(path)
    first = read_results(sweep.results)
    assert (first["stage"] == "final").all() and len(first) == 2  # the first configuration: the model's default lr
    assert {json.loads(h)["lr"] for h in first["hparams"]} == {1.0e-3}

    _make_search_trial_best(monkeypatch, 2)
    path = write_sweep(tmp_path, trials=3, protocol=proto, search_space=space)
    sweep = _run(path)
    df = mark_superseded(read_results(sweep.results))
    search = df[df["stage"] == "search"]
    assert sorted(search["trial"]) == [0, 1, 2]
    assert json.loads(search[search["trial"] == 0]["hparams"].iloc[0])["lr"] == 1.0e-3  # the first trial again
    final = df[df["stage"] == "final"]
    assert final["superseded"].sum() == 2 and set(final[~final["superseded"]]["trial"]) == {2}
    assert (final[~final["superseded"]]["selection_trials"] == 3).all()


def test_a_selection_hashed_anew_by_another_version_supersedes_the_older_rows_instead_of_counting_twice():
    """A study with nothing to select, resumed by a version whose hparams gained a default (another config_hash for
    the same configuration): its finals run again; the older rows are superseded, so no fold counts twice."""
    rows = []
    for h, day in (("aaaa", "2026-12-07T04:15:50+00:00"), ("bbbb", "2026-12-07T15:22:52+00:00")):
        for fold in (0, 1):
            rows.append({"stage": "final", "study": "s/fold0", "selection_trials": 0, "config_hash": h,
                         "started_at": day, "fold": fold})
    rows.append({"stage": "final", "study": "s/fold1", "selection_trials": 0, "config_hash": "aaaa",
                 "started_at": "2026-12-07T04:16:00+00:00", "fold": 0})  # another study: left alone
    df = mark_superseded(pd.DataFrame(rows))
    assert df["superseded"].tolist() == [True, True, False, False, False]
