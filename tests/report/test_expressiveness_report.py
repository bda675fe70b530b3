"""Expressiveness rows in reports: a models × categories table, kept out of the leaderboard."""

from __future__ import annotations

import json

from graphbench.report.build import build_report
from graphbench.report.expressiveness import expressiveness_table
from graphbench.report.tables import to_markdown
from graphbench.results import read_results
from tests.report.fixtures import make_row, write

QUICK = {"expr_mode": "quick", "expr_permutations": 32, "expr_alpha": 0.05}


def expr_row(dataset, category, model, distinguished, pairs, *, seed=0, fails=0, hp=None, status="ok"):
    hparams = {"hidden": 64, "pe": "none", **QUICK, **(hp or {})}
    return make_row(dataset, model, distinguished / pairs if status == "ok" else None, seed=seed, split="pairs",
                    fold=0, metric="distinguished_fraction", stage="expressiveness", status=status, hparams=hparams,
                    expr_category=category, expr_pairs=pairs,
                    expr_distinguished=distinguished if status == "ok" else None,
                    expr_reliability_failures=fails if status == "ok" else None, expr_threshold=72.338)


def rows():
    out = [make_row("A", "gin", 0.8, seed=s) for s in range(2)] + [make_row("A", "gcn", 0.7, seed=s)
                                                                     for s in range(2)]
    out += [expr_row("exp", "exp", "gin", 0, 600), expr_row("sr25", "sr25", "gin", 0, 105),
            expr_row("exp", "exp", "gin", 598, 600, hp={"pe": "rwse"}),
            expr_row("exp", "exp", "gin", 600, 600, hp={"pe": "rwse"}, seed=1),
            expr_row("sr25", "sr25", "gin", 0, 105, hp={"pe": "rwse"}, fails=2),
            expr_row("brec", "basic", "gcn", 3, 60), expr_row("brec", "cfi", "gcn", 1, 100),
            expr_row("exp", "exp", "gcn", 0, 600, status="failed")]
    return out


def test_table_is_models_by_categories_with_ranges_and_flags(tmp_path):
    df = read_results(write(tmp_path / "r.csv", rows()))
    table = expressiveness_table(df)
    assert table.header == ["Model", "mode", "exp", "sr25", "brec: basic", "brec: cfi", "brec: all",
                            "reliability fails", "seeds", "time (s)"]
    by_model = {r[0].text: [c.text for c in r[1:]] for r in table.rows}
    assert by_model["gin (pe=none)"][:3] == ["quick", "0/600", "0/105"]
    assert by_model["gin (pe=rwse)"][1:3] == ["598–600/600", "0/105 †"]  # range over seeds, † = reliability
    assert by_model["gin (pe=rwse)"][6:8] == ["2", "2"]
    assert by_model["gcn"][1:6] == ["failed", "–", "3/60", "1/100", "4/160"]
    md = to_markdown(table)
    assert "| gin (pe=rwse) | quick | 598–600/600 |" in md


def test_report_shows_the_table_and_keeps_the_leaderboard_clean(tmp_path):
    res = build_report(write(tmp_path / "r.csv", rows()), tmp_path / "rep", figures=False)
    md = res.markdown.read_text()
    assert "## Expressiveness" in md and "598–600/600" in md and "Expressiveness runs that failed" in md
    assert set(res.summary["dataset"]) == {"A"}  # expressiveness rows never enter the leaderboard
    assert "exp" not in set(res.summary["entry"]) and len(res.summary) == 2


def test_report_of_expressiveness_rows_only(tmp_path):
    only = [r for r in rows() if r["stage"] == "expressiveness"]
    res = build_report(write(tmp_path / "r.csv", only), tmp_path / "rep")
    md = res.markdown.read_text()
    assert "## Expressiveness" in md and "0/105 †" in md and res.html.exists() and res.latex.exists()
    assert "4/160" in res.latex.read_text()
    prov = md[md.index("## Provenance"):]
    assert "alpha = 0.05" in prov and json.dumps("expressiveness")[1:-1] in prov
