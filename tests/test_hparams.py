"""Hyperparameter declarations: coercion from CLI/YAML strings and the refusals that name the parameter."""

from __future__ import annotations

import pytest

from graphbench.hparams import HParam, HyperparameterError, validate

DECL = {"layers": HParam(int, 4, low=1), "lr": HParam(float, 1e-3, low=0.0), "residual": HParam(bool, True),
        "norm": HParam(str, "batch", choices=("batch", "none"))}


def test_defaults_and_string_values_are_coerced():
    assert validate(DECL, {}, what="m") == {"layers": 4, "lr": 1e-3, "residual": True, "norm": "batch"}
    got = validate(DECL, {"layers": "3", "lr": "0.01", "residual": "false", "norm": "none"}, what="m")
    assert got == {"layers": 3, "lr": 0.01, "residual": False, "norm": "none"}
    assert isinstance(got["layers"], int) and isinstance(validate(DECL, {"lr": 1}, what="m")["lr"], float)


@pytest.mark.parametrize("given, message", [
    ({"layers": 1.5}, "'layers' must be an integer"),
    ({"layers": True}, "'layers' must be an integer"),
    ({"layers": 0}, "'layers' must be >= 1"),
    ({"lr": "fast"}, "'lr' must be a number"),
    ({"lr": float("nan")}, "'lr' must be a number"),
    ({"residual": "maybe"}, "'residual' must be true or false"),
    ({"norm": 3}, "'norm' must be a string"),
    ({"layer": 3}, "no hyperparameter 'layer'. Did you mean 'layers'"),
])
def test_invalid_values_name_the_parameter_and_the_rule(given, message):
    with pytest.raises(HyperparameterError, match=message):
        validate(DECL, given, what="model 'm'")
