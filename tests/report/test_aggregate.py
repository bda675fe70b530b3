from __future__ import annotations

import math

import pytest

from graphbench.report import ReportError, format_leaderboard, select_rows
from graphbench.report.aggregate import aggregate, fewer_runs_flags, missing_runs
from graphbench.report.stats import average_ranks
from graphbench.report.tables import dataset_tables, overall_table, to_latex, to_markdown
from graphbench.results import read_results
from tests.report.fixtures import make_row, write


def _summary(path):
    sel = select_rows(read_results(path))
    return sel, aggregate(sel.counted)


def test_aggregate_known_means_and_unbiased_std(known_file):
    sel, s = _summary(known_file)
    assert sel.stage == "final"
    got = s.set_index(["dataset", "entry"])
    assert got.loc[("A", "gin"), "test_mean"] == pytest.approx(0.82)
    assert got.loc[("A", "gin"), "test_std"] == pytest.approx(0.02)  # ddof=1: sqrt(0.0008/2)
    assert got.loc[("A", "mlp"), "test_std"] == pytest.approx(0.01)
    assert got.loc[("B", "gin"), "test_std"] == pytest.approx(math.sqrt(0.0002))
    assert got.loc[("B", "mlp"), "test_std"] == pytest.approx(0.0)
    assert got.loc[("A", "gin"), "val_mean"] == pytest.approx(0.83)
    assert got.loc[("A", "gin"), "n_runs"] == 3  # the failed and the search rows are not counted
    assert got.loc[("A", "gin"), "num_params"] == 3000
    assert set(s["ddof"]) == {1}


def test_failed_rows_are_listed_not_averaged(known_file):
    sel, _ = _summary(known_file)
    assert len(sel.not_ok) == 1 and sel.not_ok["status"].iloc[0] == "failed"
    miss = missing_runs(sel.counted, sel.not_ok)
    assert miss.empty  # seed 3 was run by nobody else; the failure is listed through not_ok


def test_average_ranks_respect_direction(known_file):
    _, s = _summary(known_file)
    rs = average_ranks(s)
    assert rs.ranks.loc["A"].to_dict() == {"gcn": 2.0, "gin": 1.0, "mlp": 3.0}
    assert rs.ranks.loc["B"].to_dict() == {"gcn": 1.0, "gin": 2.0, "mlp": 3.0}  # MAE: lower is better
    assert rs.average.to_dict() == {"gcn": 1.5, "gin": 1.5, "mlp": 3.0}
    assert rs.wins.to_dict() == {"gcn": 1, "gin": 1, "mlp": 0}


def test_ties_share_the_average_rank(tmp_path):
    rows = [make_row("A", m, v) for m, v in (("a", 0.9), ("b", 0.9), ("c", 0.5))]
    _, s = _summary(write(tmp_path / "r.csv", rows))
    assert average_ranks(s).ranks.loc["A"].to_dict() == {"a": 1.5, "b": 1.5, "c": 3.0}


def test_best_bold_second_underlined_direction_aware(known_file):
    _, s = _summary(known_file)
    tables = {t.title.split()[0]: t for t in dataset_tables(s)}
    md_b = to_markdown(tables["B"])
    assert "**0.2100 ± 0.0141**" in md_b and "<u>0.3100 ± 0.0141</u>" in md_b
    rows_b = [r[1].text for r in tables["B"].rows]
    assert rows_b == ["gcn", "gin", "mlp"]  # sorted best first, lower MAE first
    tex = to_latex(tables["A"])
    assert r"\toprule" in tex and r"\bottomrule" in tex and r"\textbf{0.8200 $\pm$ 0.0200}" in tex
    assert r"\underline{0.7200 $\pm$ 0.0200}" in tex
    rs = average_ranks(s)
    ov = to_markdown(overall_table(s, rs.average, rs.wins))
    assert "**1.50**" in ov and "<u>3.00</u>" in ov


def test_falls_back_to_run_rows_and_says_so(tmp_path):
    p = write(tmp_path / "r.csv", [make_row("A", "gin", 0.5, stage="run")])
    sel = select_rows(read_results(p))
    assert sel.stage == "run" and "No rows with stage 'final'" in sel.notes[0]


def test_fewer_runs_flagged(tmp_path):
    rows = [make_row("A", "gin", 0.5 + s / 100, seed=s) for s in range(3)]
    rows += [make_row("A", "gcn", 0.4, seed=0)]
    sel, s = _summary(write(tmp_path / "r.csv", rows))
    flags = fewer_runs_flags(s)
    assert flags.to_dict("records") == [{"dataset": "A", "entry": "gcn", "n_runs": 1, "max_runs": 3}]
    miss = missing_runs(sel.counted, sel.not_ok)
    assert sorted(miss["seed"]) == [1, 2] and set(miss["status"]) == {"missing"}


def test_incompatible_protocols_refused(tmp_path):
    write(tmp_path / "a.csv", [make_row("A", "gin", 0.5, metric="accuracy")])
    write(tmp_path / "b.csv", [make_row("A", "gcn", 0.5, metric="rocauc")])
    with pytest.raises(ReportError, match="mixes metrics"):
        select_rows(read_results([tmp_path / "a.csv", tmp_path / "b.csv"]))
    write(tmp_path / "c.csv", [make_row("A", "gcn", 0.5, split="public")])
    with pytest.raises(ReportError, match="split protocols"):
        select_rows(read_results([tmp_path / "a.csv", tmp_path / "c.csv"]))


def test_mixed_schema_versions_refused(tmp_path):
    from graphbench.report import build_report

    good = write(tmp_path / "a.csv", [make_row("A", "gin", 0.5)])
    bad = tmp_path / "old.csv"
    lines = good.read_text().splitlines()
    bad.write_text(lines[0] + "\n" + "9" + lines[1][1:] + "\n")  # schema_version is the first column
    with pytest.raises(ReportError, match="schema"):
        build_report([good, bad], tmp_path / "out", figures=False)


def test_several_configs_split_or_refused(tmp_path):
    rows = [make_row("A", "gin", 0.5, hparams={"h": 1}), make_row("A", "gin", 0.6, hparams={"h": 2})]
    df = read_results(write(tmp_path / "r.csv", rows))
    sel = select_rows(df)
    assert sorted(sel.counted["entry"].str.split("@").str[0]) == ["gin", "gin"]
    assert sel.counted["entry"].nunique() == 2 and "several configurations" in sel.notes[0]
    with pytest.raises(ReportError, match="several configurations"):
        select_rows(df, configs="refuse")


def test_format_leaderboard(known_file):
    text = format_leaderboard(read_results(known_file))
    assert "A (accuracy ↑)" in text and "B (mae ↓)" in text
    assert "0.8200 ± 0.0200" in text and "1 run(s) failed or pruned" in text
    assert format_leaderboard(read_results([])).startswith("(no leaderboard")
