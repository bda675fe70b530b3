"""Search spaces: conditional parameters, paper defaults, parameter budgets."""

from __future__ import annotations

import optuna

from graphbench.models import build_model, count_parameters
from graphbench.sweep.budget import solve_hidden
from graphbench.sweep.space import default_params, suggest
from graphbench.train.runner import get_dataset

SPACE = {
    "pe": {"type": "categorical", "choices": ["none", "rwse"]},
    "pe_dim": {"type": "int", "low": 4, "high": 8, "when": {"pe": "rwse"}},
    "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True},
}


def test_conditional_parameter_is_suggested_only_when_its_condition_holds():
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = set()
    for _ in range(12):
        trial = study.ask()
        params = suggest(trial, SPACE, {})
        assert ("pe_dim" in params) == (params["pe"] == "rwse")
        seen.add(params["pe"])
        study.tell(trial, 0.0)
    assert seen == {"none", "rwse"}


def test_paper_defaults_are_restricted_to_the_space_and_its_conditions():
    defaults = {"pe": "none", "pe_dim": 16, "lr": 1e-3, "hidden": 64}
    assert default_params(SPACE, defaults, {}) == {"pe": "none", "lr": 1e-3}
    # pe_dim's default (16) is outside [4, 8]: left to the sampler
    assert default_params(SPACE, {**defaults, "pe": "rwse"}, {}) == {"pe": "rwse", "lr": 1e-3}


def test_solved_width_is_the_widest_model_within_the_budget():
    hp = {"layers": 2, "heads": 4}
    hidden, n = solve_hidden("gat", "csl", hp, 20_000)
    assert hidden % 4 == 0 and n <= 20_000
    ds = get_dataset("csl")
    wider = build_model("gat", ds.node_features, ds.num_classes, hidden=hidden + 4, layers=2, heads=4)
    assert count_parameters(wider) > 20_000
