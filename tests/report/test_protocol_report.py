"""Issue 9 in reports: the protocol of every table, the optimistic flag, superseded finals, schema v1 files,
per-fold configurations, what was counted and what was not, Optuna figures without final queues."""

from __future__ import annotations

import csv

import pytest

from graphbench.report import build_report, select_rows
from graphbench.report.aggregate import ReportError
from graphbench.results import read_results
from graphbench.results.reader import V1_COLUMNS

from .fixtures import make_row, write


def _grid(protocol: str, **kw) -> list[dict]:
    rows = []
    for d in ("A", "B"):
        for i, m in enumerate(("gin", "gcn", "sage")):
            for f in range(3):
                rows.append(make_row(d, m, 0.6 + 0.05 * i + 0.01 * f, split=f"fold{f}", protocol=protocol,
                                     study=f"s/{m}/{d}", selection_trials=4, **kw))
    return rows


def test_select_once_tables_are_flagged_optimistic_and_provenance_names_the_protocol(tmp_path):
    res = build_report([write(tmp_path / "r.csv", _grid("select-once"))], tmp_path / "out", figures=False)
    md = res.markdown.read_text()
    assert "optimistic protocol (select-once)" in md and "OPTIMISTIC" in md
    assert "Selection protocol per dataset: A: **select-once** (optimistic)" in md
    assert "OPTIMISTIC" in res.latex.read_text()
    ok = build_report([write(tmp_path / "p.csv", _grid("per-fold"))], tmp_path / "out2", figures=False)
    text = ok.markdown.read_text()
    assert "OPTIMISTIC" not in text and "A: **per-fold**" in text


def test_mixed_protocols_on_one_dataset_are_refused(tmp_path):
    rows = _grid("per-fold") + [make_row("A", "gat", 0.7, split="fold0", protocol="select-once")]
    with pytest.raises(ReportError, match="selection protocols"):
        select_rows(read_results(write(tmp_path / "r.csv", rows)))


def test_per_fold_configurations_are_one_entry_and_superseded_rows_are_not_counted(tmp_path):
    rows = []
    for f in range(3):  # one configuration per outer fold: one entry 'gin', not three
        rows.append(make_row("A", "gin", 0.7, split=f"fold{f}", hparams={"hidden": 16 * (f + 1)},
                             protocol="per-fold", study=f"s/gin/A/fold{f}", selection_trials=4))
    rows.append(make_row("A", "gin", 0.1, split="fold0", hparams={"hidden": 999}, seed=5, protocol="per-fold",
                         study="s/gin/A/fold0", selection_trials=2))  # an earlier selection of fold 0's study
    rows.append(make_row("A", "gin", None, split="fold0", stage="search", protocol="per-fold",
                         study="s/gin/A/fold0", trial=0))
    sel = select_rows(read_results(write(tmp_path / "r.csv", rows)))
    assert set(sel.counted["entry"]) == {"gin"} and len(sel.counted) == 3
    assert len(sel.superseded) == 1 and sel.other_stages == {"search": 1}
    res = build_report([tmp_path / "r.csv"], tmp_path / "out", figures=False)
    md = res.markdown.read_text()
    assert "Counted: 3 ok row(s) of stage 'final'. Not counted: 0 failed/pruned row(s)" in md
    assert "1 superseded row(s), and 1 search row(s)" in md and "No failed, pruned or missing runs" not in md


def test_schema_v1_files_are_read_with_empty_new_columns_and_flagged(tmp_path):
    path = tmp_path / "v1.csv"
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=V1_COLUMNS, lineterminator="\n")
        w.writeheader()
        for m, v in (("gin", 0.8), ("gcn", 0.7)):
            row = make_row("A", m, v, schema_version=1)
            w.writerow({k: ("" if row.get(k) is None else str(row[k]).lower() if isinstance(row[k], bool)
                            else row[k]) for k in V1_COLUMNS})
    df = read_results(path)
    assert len(df) == 2 and df["protocol"].isna().all() and df["selection_trials"].isna().all()
    sel = select_rows(df)
    assert set(sel.counted["protocol"]) == {"select-once (v1)"}
    md = build_report([path], tmp_path / "out", figures=False).markdown.read_text()
    assert "OPTIMISTIC" in md


def test_optuna_figures_leave_out_final_queues(tmp_path):
    import optuna

    from graphbench.report.figures import optuna_figures

    url = tmp_path / "s.journal"
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(url)))
    search = optuna.create_study(study_name="s/gin/A/fold0", storage=storage)
    search.optimize(lambda t: t.suggest_float("lr", 0.0, 1.0), n_trials=3)
    queue = optuna.create_study(study_name="s/gin/A/fold0/final-1s-abc", storage=storage)
    queue.set_user_attr("gb.enqueued", True)
    queue.optimize(lambda t: t.suggest_int("seed", 0, 9) * 0.1, n_trials=3)
    paths, notes = optuna_figures(str(url), tmp_path / "figs")
    assert paths and not any("final" in p.name for p in paths)
    assert any("final-run queue" in n for n in notes)
