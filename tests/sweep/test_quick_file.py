"""The README's main sweep: a trial budget, a pinned ISA, a research family against the baselines on a task where
the baselines' limit is exact, the expressiveness table and a comparison; and the sweep keys behind it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from graphbench.config import ConfigError
from graphbench.sweep.config import load_sweep
from graphbench.train.runner import get_dataset
from tests.sweep.helpers import write_sweep

ROOT = Path(__file__).resolve().parents[2]


def test_quick_sweep_is_budgeted_by_trials_pinned_and_selects_per_fold():
    sweep = load_sweep(ROOT / "sweeps" / "quick.yaml")
    assert sweep.timeout is None and sweep.trials  # the same trials on every machine
    assert sweep.isa == "avx2"  # the same kernels on every x86-64 machine
    assert sweep.protocol.per_fold and sweep.datasets == ["csl"] and sweep.dataset_options == {"folds": 10}
    assert {"gcn", "gin", "gat", "sage", "pswl"} <= set(sweep.models)
    assert sweep.hparams.get("pe", "none") == "none"  # the 1-WL limit of the baselines is the point
    assert sweep.compare == ("gin", "pswl")
    assert set(sweep.expressiveness["models"]) == set(sweep.models)
    assert sweep.expressiveness["datasets"] == ["wl-pairs", "csl"]


def test_csl_has_ten_stratified_folds_and_one_wl_colouring():
    ds = get_dataset("csl", folds=10)
    assert len(ds.splits) == 10
    tests = np.concatenate([s.test for s in ds.splits])
    assert sorted(tests.tolist()) == list(range(150))  # the test parts partition the dataset
    for s in ds.splits:  # stratified: every class in every test part
        assert len(set(ds.labels[s.test].tolist())) == 10
    # 4-regular, 41 nodes, one node feature value: the same 1-WL colouring for all 150 graphs
    assert {g.num_nodes() for g in ds.graphs} == {41}
    assert all(bool((g.in_degrees() == 4).all()) for g in ds.graphs)


def test_expressiveness_and_compare_keys_are_validated(tmp_path):
    with pytest.raises(ConfigError, match="expressiveness"):
        load_sweep(write_sweep(tmp_path, expressiveness={"models": ["nope"], "datasets": ["wl-pairs"]}))
    with pytest.raises(ConfigError, match="expressiveness"):
        load_sweep(write_sweep(tmp_path, expressiveness={"models": ["gcn"], "datasets": ["wl-pairs"],
                                                         "hparams": {"hidden": -3}}))
    with pytest.raises(ConfigError, match="compare.model"):
        load_sweep(write_sweep(tmp_path, compare={"baseline": "gcn", "model": "gin"}))  # gin is not in the sweep
    ok = load_sweep(write_sweep(tmp_path, models=["gcn", "gin"], compare={"baseline": "gcn", "model": "gin"},
                                expressiveness={"models": ["gcn"], "datasets": ["wl-pairs"], "max_pairs": 1}))
    assert ok.compare == ("gcn", "gin") and ok.expressiveness["max_pairs"] == 1


def test_sweep_runs_the_expressiveness_step_into_its_results_and_report(tmp_path):
    from graphbench.results import read_results
    from graphbench.sweep.launch import Options, run_sweep

    path = write_sweep(tmp_path, models=["gcn", "gin"], trials=1, compare={"baseline": "gcn", "model": "gin"},
                       expressiveness={"models": ["gin"], "datasets": ["wl-pairs"], "max_pairs": 2,
                                       "hparams": {"hidden": 8}},
                       report=str(tmp_path / "report"))
    out = io.StringIO()
    assert run_sweep(path, Options(quiet=True), out=out) == 0
    text = out.getvalue()
    assert "expressiveness (quick mode" in text and "pairs told apart" in text
    rows = read_results(tmp_path / "results" / "tiny.csv")
    expr = rows[rows["stage"] == "expressiveness"]
    assert len(expr) >= 1 and set(expr["model"]) == {"gin"} and (expr["expr_pairs"] <= 2).all()
    html = (tmp_path / "report" / "index.html").read_text()
    assert "pairs told apart" in html.lower() or "expressiveness" in html.lower()
    # a second run repeats nothing: the sweep is finished and the expressiveness categories are skipped
    assert run_sweep(path, Options(quiet=True), out=io.StringIO()) == 0
    assert len(read_results(tmp_path / "results" / "tiny.csv")) == len(rows)


def test_a_trials_proposal_does_not_depend_on_the_worker_that_asks_for_it(tmp_path):
    """Two workers used to draw from their own random states (seed + worker id), so the same sweep proposed other
    hyperparameters for the same trial from run to run; the sampler is now re-seeded per (study, trial)."""
    import optuna

    from graphbench.sweep.sampler import TrialSeededSampler

    def proposals(order: list[int]) -> dict[int, float]:
        storage = optuna.storages.InMemoryStorage()
        out = {}
        studies = {w: optuna.create_study(study_name="s", storage=storage, sampler=TrialSeededSampler(0),
                                          load_if_exists=True) for w in (0, 1)}
        for w in order:  # which worker asks next
            trial = studies[w].ask()
            out[trial.number] = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
            studies[w].tell(trial, 0.5)
        return out

    a, b = proposals([0, 0, 1, 1, 0]), proposals([1, 0, 1, 0, 1])
    assert a == b and len(set(a.values())) == 5
