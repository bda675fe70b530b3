"""`--set MODEL.KEY=VALUE`: a hyperparameter of one model in a command with several (issue 21)."""

from __future__ import annotations

import pytest

from graphbench import api
from graphbench.hparams import HyperparameterError


def test_a_model_prefixed_key_reaches_that_model_only():
    specs = api.plan_runs(["gin", "gcn"], ["csl"], folds=[0], threads=1,
                          hparams={"gin.aggregator": "mean", "epochs": 2, "lappe.k": 4,
                                   "transforms": [{"name": "lappe"}]})
    by_model = {s.model: s.hparams for s in specs}
    assert by_model["gin"]["aggregator"] == "mean"
    assert "aggregator" not in by_model["gcn"]
    assert by_model["gin"]["epochs"] == by_model["gcn"]["epochs"] == 2
    assert by_model["gin"]["lappe.k"] == by_model["gcn"]["lappe.k"] == 4  # transform parameters stay common


def test_the_same_key_for_two_models_takes_each_value():
    specs = api.plan_runs(["gat", "gin"], ["csl"], folds=[0], threads=1,
                          hparams={"gat.hidden": 8, "gin.hidden": 32, "layers": 2})
    assert {s.model: (s.hparams["hidden"], s.hparams["layers"]) for s in specs} == {"gat": (8, 2), "gin": (32, 2)}


def test_a_knob_some_models_lack_says_how_to_set_it_for_one():
    with pytest.raises(HyperparameterError, match=r"'heads' is a hyperparameter of gat but not of gin.*"
                                                  r"--set gat\.heads=VALUE"):
        api.plan_runs(["gat", "gin"], ["csl"], folds=[0], threads=1, hparams={"heads": 8})


def test_a_model_that_is_not_in_the_command_is_an_error_and_unknown_keys_still_are():
    with pytest.raises(HyperparameterError, match="'gat.heads' sets a hyperparameter of 'gat', which is not one of"):
        api.plan_runs(["gin", "gcn"], ["csl"], folds=[0], threads=1, hparams={"gat.heads": 8})
    with pytest.raises(HyperparameterError, match="heads"):
        api.plan_runs(["gin"], ["csl"], folds=[0], threads=1, hparams={"gin.heads": 8})


def test_cli_set_with_a_model_prefix(capsys):
    from graphbench.cli import main

    assert main(["run", "--model", "gin", "gat", "--dataset", "csl", "--folds", "0", "--set", "gat.heads=2",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert '"heads": 2' in out.split("gat on csl")[1] and '"heads"' not in out.split("gat on csl")[0]
