"""Expressiveness runs record each category as it completes and resume without repeating finished ones (issue 21).

A run stopped part-way (a time limit, Ctrl-C) keeps every finished category in the results file; the same command
then evaluates only the others, and the rows are the ones a whole run writes.
"""

from __future__ import annotations

import pytest

from graphbench.expressiveness import protocol as protocol_module
from graphbench.expressiveness import runner as runner_module
from graphbench.expressiveness.runner import run as run_protocol
from graphbench.results import read_results
from tests.data.test_brec import tiny_pairs, write_brec

HP = {"hidden": 8, "layers": 2, "pe": "rwse"}
ORDER = ["basic", "regular", "strongly-regular", "extension", "cfi", "4-vertex-condition", "distance-regular"]


@pytest.fixture
def brec_root(tmp_path):
    write_brec(tmp_path / "data" / "expressiveness" / "BREC", tiny_pairs())
    return str(tmp_path / "data")


def _recording(monkeypatch, stop_at: str | None = None) -> list[str]:
    """Record the categories ``evaluate`` is called on; raise KeyboardInterrupt (a time limit) at ``stop_at``."""
    seen: list[str] = []
    real = protocol_module.evaluate

    def evaluate(model, pairs, **kw):
        category = pairs.category_order()
        seen.extend(category)
        if stop_at in category:
            raise KeyboardInterrupt
        return real(model, pairs, **kw)

    monkeypatch.setattr(runner_module, "evaluate", evaluate)
    return seen


def _verdicts(path) -> dict[str, tuple[int, int, int]]:
    df = read_results(path)
    return {c: (p, d, f) for c, p, d, f in zip(df["expr_category"], df["expr_pairs"], df["expr_distinguished"],
                                                df["expr_reliability_failures"], strict=True)}


def test_interrupted_run_keeps_finished_categories_and_a_rerun_does_only_the_rest(tmp_path, brec_root, monkeypatch):
    whole = tmp_path / "whole.csv"
    run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=whole)

    out = tmp_path / "r.csv"
    seen = _recording(monkeypatch, stop_at="extension")
    with pytest.raises(KeyboardInterrupt):
        run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=out)
    assert seen == ORDER[:4]
    assert read_results(out)["expr_category"].tolist() == ORDER[:3]  # each category written as it completed

    seen = _recording(monkeypatch)
    skipped = []
    new = run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=out,
                       on_skip=lambda m, p, s, cats: skipped.extend(cats))
    assert skipped == ORDER[:3]
    assert seen == ORDER[3:]  # finished categories are not evaluated again
    assert [r["expr_category"] for r in new] == ORDER[3:]
    df = read_results(out)
    assert df["expr_category"].tolist() == ORDER  # one row per category, none twice
    assert _verdicts(out) == _verdicts(whole)  # a category alone gives the verdicts of the whole run

    seen = _recording(monkeypatch)
    assert run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=out) == []
    assert seen == []


def test_other_settings_or_fewer_pairs_or_a_failed_category_are_not_skipped(tmp_path, brec_root, monkeypatch):
    out = tmp_path / "r.csv"
    run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=out, max_pairs=1)
    seen = _recording(monkeypatch)
    run_protocol(["gin"], ["brec"], hparams={**HP, "hidden": 16}, data_root=brec_root, results=out, max_pairs=1)
    assert seen == ORDER  # other hyperparameters: another configuration
    seen = _recording(monkeypatch)
    run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=out, seeds=[1], max_pairs=1)
    assert seen == ORDER  # another seed

    failing = tmp_path / "f.csv"
    real = protocol_module.evaluate

    def evaluate(model, pairs, **kw):
        if pairs.category_order() == ["cfi"]:
            raise RuntimeError("boom")
        return real(model, pairs, **kw)

    monkeypatch.setattr(runner_module, "evaluate", evaluate)
    run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=failing)
    df = read_results(failing)
    assert df["status"].tolist() == ["ok"] * 4 + ["failed"] * 3  # cfi and every category after it
    assert "boom" in df["error"].iloc[4]
    seen = _recording(monkeypatch)
    run_protocol(["gin"], ["brec"], hparams=HP, data_root=brec_root, results=failing)
    assert seen == ORDER[4:]  # failed categories run again
