"""``graphbench reproduce``: a paper's table row as a resumable per-fold sweep, recorded in a ledger."""

from __future__ import annotations

import io
import json
import shlex

import pandas as pd
import pytest

from graphbench.presets import PRESETS, Preset
from graphbench.reproduce import ledger as ledger_mod
from graphbench.reproduce import plan as plan_mod
from graphbench.reproduce import run as run_mod
from graphbench.reproduce.run import reproduce

FAKE = Preset("test-two-point", "gin", "a test's fake paper", "GIN with a two-point grid and a 2-epoch schedule",
              {"hidden": 8, "layers": 2, "epochs": 2, "patience": 2, "batch_size": 64, "scheduler": "none"},
              datasets=("csl",), grid={"hidden": [8, 16]}, reference="none (test)", params_missing="a test preset")


@pytest.fixture
def fake_paper(monkeypatch):
    """A fake preset of gin with a published 10-fold grid-search number on CSL."""
    PRESETS[("gin", FAKE.name)] = FAKE
    row = pd.DataFrame([{"model": "gin", "preset": FAKE.name, "dataset": "csl", "metric": "accuracy",
                         "value": 0.5, "std": 0.1, "runs": 10, "protocol": "errica-10fold", "source": "a test",
                         "certainty": "paper-table", "note": ""}])
    monkeypatch.setattr(plan_mod, "published", lambda model=None, dataset=None: row[
        (row["model"] == model) & ((row["dataset"] == dataset) if dataset else True)].reset_index(drop=True))
    yield FAKE
    del PRESETS[("gin", FAKE.name)]


def test_plan_searches_the_grid_per_fold_with_erricas_final_phase(fake_paper):
    p = plan_mod.make_plan("gin", FAKE.name, "csl")
    assert p.per_fold and p.space == {"hidden": {"type": "categorical", "choices": [8, 16]}}
    assert p.trials == p.grid_size == 2
    assert p.final_seeds == (0, 1, 2) and p.holdout == 0.1
    capped = plan_mod.make_plan("gin", FAKE.name, "csl", trials=1, seeds=1)
    assert capped.trials == 1 and capped.final_seeds == (0,)
    assert any("only the preset point of the grid" in d for d in capped.differences)
    assert any("1 of the paper's 3 repetitions" in d for d in capped.differences)


def test_unknown_table_row_names_the_published_rows(fake_paper):
    with pytest.raises(plan_mod.ReproductionError, match="no published number for gin preset test-two-point on "
                                                         "mutag"):
        plan_mod.make_plan("gin", FAKE.name, "mutag")


def test_reproduce_end_to_end_records_and_resumes(fake_paper, tmp_path):
    out, led = tmp_path / "repro", tmp_path / "ledger.csv"
    text = io.StringIO()
    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, seeds=1, quiet=True, dry_run=True,
                     out=text) == 0
    shown = text.getvalue()
    assert "/fold0" in shown and "/fold4" in shown  # one study per outer fold
    assert "measured:" in shown and "CPU-hours" in shown
    assert not out.exists()  # a dry run writes nothing

    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, seeds=1, quiet=True, out=io.StringIO()) == 0
    rows = pd.read_csv(out / f"gin-{FAKE.name}-csl.csv")
    assert set(rows["stage"]) == {"search", "final"}
    assert (rows["stage"] == "search").sum() == 5 * 2 and (rows["stage"] == "final").sum() == 5
    assert rows.loc[rows["stage"] == "search", "test_metric"].isna().all()  # search never scores the test part
    search = rows[rows["stage"] == "search"]
    # the whole grid (sampler type grid): both configurations exactly once in every fold, not two TPE draws
    for fold, g in search.groupby("fold"):
        assert sorted(json.loads(h)["hidden"] for h in g["hparams"]) == [8, 16], fold
    df = ledger_mod.read_ledger(led)
    assert len(df) == 1
    rec = df.iloc[0]
    for col in ledger_mod.COLUMNS:
        if col not in ("note", "within"):
            assert rec[col] == rec[col] and rec[col] != "", col  # every field filled
    assert rec["status"] == "reproduced" and rec["ours_runs"] == 5
    finals = rows[rows["stage"] == "final"]["test_metric"]
    assert rec["ours_mean"] == pytest.approx(finals.mean())
    assert rec["gap"] == pytest.approx(finals.mean() - 0.5)
    assert rec["within"] == (abs(rec["gap"]) <= rec["tolerance"])
    assert "1 of the paper's 3 repetitions" in rec["protocol_differences"]
    assert shlex.split(rec["command"])[:3] == ["graphbench", "reproduce", "gin"]

    # the same command again resumes: no run is repeated, the record is replaced, the time adds up
    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, seeds=1, quiet=True, out=io.StringIO()) == 0
    again = pd.read_csv(out / f"gin-{FAKE.name}-csl.csv")
    assert len(again) == len(rows)
    df2 = ledger_mod.read_ledger(led)
    assert len(df2) == 1 and df2.iloc[0]["cpu_hours"] >= rec["cpu_hours"]


def test_shipped_ledger_is_valid_and_its_commands_parse():
    from graphbench.cli import build_parser

    df = ledger_mod.read_ledger()
    parser = build_parser("reproduce")
    for command in df["command"]:
        args = parser.parse_args(shlex.split(command)[1:])
        assert args.command == "reproduce"
        plan_mod.make_plan(args.model, args.preset, args.dataset, trials=args.trials, seeds=args.seeds)


def test_ledger_refuses_a_number_on_a_not_yet_reproduced_row(tmp_path):
    row = {c: "" for c in ledger_mod.COLUMNS} | {"model": "gin", "preset": "p", "dataset": "d",
                                                  "status": "not yet reproduced", "ours_mean": "0.5",
                                                  "command": "graphbench reproduce gin --preset p --dataset d"}
    with pytest.raises(ValueError, match="has no number"):
        ledger_mod.write_row(tmp_path / "l.csv", row)
    assert not (tmp_path / "l.csv").exists()  # nothing written


def test_reproductions_finishing_at_once_never_drop_each_others_ledger_rows(tmp_path):
    """Three processes each add 15 rows to one ledger at once (as reproductions run side by side and finish
    together): every row is there, and the file is a valid ledger."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    led = tmp_path / "l.csv"
    code = ("import sys\n"
            "from graphbench.reproduce import ledger\n"
            "for k in range(15):\n"
            "    p = f'p{sys.argv[1]}-{k}'\n"
            "    ledger.write_row(sys.argv[2], {'model': 'gin', 'preset': p, 'dataset': 'd', 'status': "
            "'not yet reproduced', 'command': f'graphbench reproduce gin --preset {p} --dataset d'})\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i), str(led)], env=env) for i in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    assert sorted(ledger_mod.read_ledger(led)["preset"]) == sorted(f"p{i}-{k}" for i in range(3) for k in range(15))


def test_docs_page_is_generated_from_the_shipped_ledger():
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "reproductions.md"
    assert page.read_text(encoding="utf-8") == ledger_mod.ledger_markdown(), \
        "docs/reproductions.md is stale: regenerate it with python -m graphbench.reproduce.ledger docs"


def test_record_plan_adds_a_not_yet_row_with_the_measured_cost(fake_paper, tmp_path):
    led = tmp_path / "ledger.csv"
    text = io.StringIO()
    assert reproduce("gin", FAKE.name, "csl", out_dir=tmp_path / "r", ledger=led, quiet=True, record_plan=True,
                     out=text) == 0
    row = ledger_mod.read_ledger(led).iloc[0]
    assert row["status"] == "not yet reproduced" and pd.isna(row["ours_mean"])
    assert row["cpu_hours"] > 0 and "CPU s per training epoch (1 thread" in row["note"]
    assert ledger_mod.ledger_table(ledger_mod.read_ledger(led)).iloc[0]["CPU hours"].startswith("≤ ")
    assert row["grid_size"] == 2 and row["configs_per_study"] == 2
    shown = ledger_mod.reproduced_lookup(ledger_mod.read_ledger(led))[("gin", FAKE.name, "csl")]
    assert shown.startswith("not yet (") and "CPU-h planned" in shown


def test_published_shows_the_reproduction_or_not_reproduced(tmp_path, capsys):
    from graphbench.cli import main

    led = tmp_path / "ledger.csv"
    row = {c: "" for c in ledger_mod.COLUMNS} | {
        "model": "gcn", "preset": "kipf2017", "dataset": "cora", "metric": "accuracy", "status": "reproduced",
        "ours_mean": 0.811, "ours_std": 0.006, "ours_runs": 100, "paper_value": 0.815, "gap": -0.004,
        "tolerance": 0.006, "within": True, "command": "graphbench reproduce gcn --preset kipf2017 --dataset cora"}
    ledger_mod.write_row(led, row)
    assert main(["published", "gcn", "--ledger", str(led)]) == 0
    out = capsys.readouterr().out
    kipf = next(line for line in out.splitlines() if "kipf2017" in line and " cora " in line)
    assert "0.811 ± 0.006 (-0.004, within std)" in kipf
    citeseer = next(line for line in out.splitlines() if "kipf2017" in line and "citeseer" in line)
    assert "not reproduced" in citeseer  # in no ledger


def test_report_shows_the_ledger_rows_of_its_models_and_datasets_with_the_figure(tmp_path, monkeypatch):
    from graphbench.report import build_report
    from tests.report.fixtures import make_row, write

    led = tmp_path / "ledger.csv"
    base = {c: "" for c in ledger_mod.COLUMNS}
    ledger_mod.write_row(led, base | {
        "model": "gin", "preset": "p", "dataset": "ds_a", "metric": "accuracy", "status": "reproduced",
        "ours_mean": 0.70, "ours_std": 0.02, "ours_runs": 10, "paper_value": 0.80, "paper_std": 0.01, "gap": -0.10,
        "tolerance": 0.022, "within": False, "command": "graphbench reproduce gin --preset p --dataset ds_a"})
    ledger_mod.write_row(led, base | {
        "model": "gcn", "preset": "q", "dataset": "elsewhere", "metric": "accuracy", "status": "not yet reproduced",
        "command": "graphbench reproduce gcn --preset q --dataset elsewhere"})
    original = ledger_mod.read_ledger
    monkeypatch.setattr(ledger_mod, "read_ledger", lambda path=None: original(path or led))  # as if shipped
    rows = [make_row("ds_a", m, v, seed=s) for m, v in (("gin", 0.8), ("gcn", 0.7)) for s in range(2)]
    res = build_report([write(tmp_path / "r.csv", rows)], tmp_path / "o", figures=True)
    md = res.markdown.read_text()
    assert "Reproduction ledger" in md and "0.700 ± 0.020" in md and "**no**" in md
    assert "elsewhere" not in md  # only the ledger rows of this report's models and datasets
    assert (tmp_path / "o" / "figures" / "reproductions.png").stat().st_size > 1000
    fig = ledger_mod.gap_plot(ledger_mod.read_ledger())
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()][0] == "y = x"
    assert any(t.get_text() == "outside combined std" for t in ax.get_legend().get_texts())



def test_gap_figure_labels_stay_inside_the_axes_and_never_overlap():
    """Crowded points (six rows within a few hundredths, one at the right edge whose leftward label crosses them):
    every label is drawn inside the axes and no two labels' rendered boxes overlap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    points = [(0.70, 0.71), (0.71, 0.70), (0.69, 0.70), (0.72, 0.69), (0.70, 0.69), (0.71, 0.72), (0.98, 0.71),
              (0.45, 0.44), (0.86, 0.86)]
    df = pd.DataFrame([{"model": f"model{i}", "preset": "some-paper2023", "dataset": "a-dataset",
                        "status": "reproduced", "ours_mean": y, "ours_std": 0.03, "paper_value": x, "paper_std": 0.02,
                        "within": True}
                       for i, (x, y) in enumerate(points)])
    fig = ledger_mod.gap_plot(df)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    frame = ax.get_window_extent(renderer)
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == len(points)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 for b in boxes)
    assert not [(i, j) for i, a in enumerate(boxes) for j, b in enumerate(boxes) if i < j and a.overlaps(b)]


def test_random_split_protocol_plans_one_study_per_seeded_split_and_a_capped_run_completes_later(monkeypatch,
                                                                                                tmp_path):
    """BORF's protocol (100 random 60/20/20 node splits, one run each): one study per split, the loader's seeded
    random splits, and ``--splits`` runs the first N of the same studies (so the uncapped command resumes them)."""
    row = pd.DataFrame([{"model": "gin", "preset": FAKE.name, "dataset": "csl", "metric": "accuracy",
                         "value": 0.5, "std": 0.1, "runs": 100, "protocol": "borf-random-splits", "source": "a test",
                         "certainty": "paper-table", "note": ""}])
    PRESETS[("gin", FAKE.name)] = FAKE
    monkeypatch.setattr(plan_mod, "published", lambda model=None, dataset=None: row)
    try:
        full = plan_mod.make_plan("gin", FAKE.name, "csl")
        capped = plan_mod.make_plan("gin", FAKE.name, "csl", splits=3)
    finally:
        del PRESETS[("gin", FAKE.name)]
    assert full.per_fold and full.final_seeds == (0,) and full.holdout is None
    assert full.dataset_options == {"random_splits": 100, "train_fraction": 0.6, "val_fraction": 0.2}
    assert full.sweep(tmp_path)["protocol"]["final"]["folds"] == "all"
    assert capped.sweep(tmp_path)["protocol"]["final"]["folds"] == [0, 1, 2]
    assert capped.sweep(tmp_path)["dataset_options"] == full.sweep(tmp_path)["dataset_options"]  # same studies
    assert any("3 of the paper's 100 random splits" in d for d in capped.differences)
    assert any("seeded" in d for d in full.differences)


def test_random_splits_dataset_option_draws_reproducible_disjoint_splits():
    from graphbench.data import load_dataset

    a = load_dataset("csl", random_splits=5, train_fraction=0.6, val_fraction=0.2)
    b = load_dataset("csl", random_splits=5, train_fraction=0.6, val_fraction=0.2)
    n = len(a.labels)
    assert [s.name for s in a.splits] == [f"random{k}" for k in range(5)]
    for sa, sb in zip(a.splits, b.splits):
        for part in ("train", "val", "test"):
            assert list(getattr(sa, part)) == list(getattr(sb, part))  # seeded: the same on every load
        parts = [set(map(int, sa.train)), set(map(int, sa.val)), set(map(int, sa.test))]
        assert sum(map(len, parts)) == n and len(set().union(*parts)) == n  # a partition of the examples
        assert abs(len(parts[0]) - 0.6 * n) <= 1 and abs(len(parts[2]) - 0.2 * n) <= 1
    assert list(a.splits[0].test) != list(a.splits[1].test)  # a fresh split per trial
    assert "random" in a.meta["split_source"]
    with pytest.raises(ValueError, match="only apply with random_splits"):
        load_dataset("csl", train_fraction=0.5)


def test_reproduce_at_the_preset_point_runs_no_search(fake_paper, tmp_path):
    out, led = tmp_path / "repro", tmp_path / "ledger.csv"
    text = io.StringIO()
    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, trials=1, seeds=1, quiet=True,
                     dry_run=True, out=text) == 0
    assert "at most 5 runs" in text.getvalue()  # 5 folds × 1 final run, no search run
    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, trials=1, seeds=1, quiet=True,
                     out=io.StringIO()) == 0
    rows = pd.read_csv(out / f"gin-{FAKE.name}-csl.csv")
    assert (rows["stage"] == "final").all() and sorted(rows["fold"]) == [0, 1, 2, 3, 4]
    assert (rows["selection_trials"] == 0).all()
    assert {json.loads(h)["hidden"] for h in rows["hparams"]} == {FAKE.hparams["hidden"]}  # the preset point
    rec = ledger_mod.read_ledger(led).iloc[0]
    assert rec["status"] == "reproduced" and rec["ours_runs"] == 5
    assert "only the preset point of the grid, run with no search" in rec["protocol_differences"]


def test_an_unread_published_row_is_reproduced_and_recorded_without_a_gap(fake_paper, tmp_path, monkeypatch, capsys):
    row = pd.DataFrame([{"model": "gin", "preset": FAKE.name, "dataset": "csl", "metric": "accuracy",
                         "value": float("nan"), "std": float("nan"), "runs": 10, "protocol": "errica-10fold",
                         "source": "a test's paper, Table 1", "certainty": "unread", "note": "unread: a test"}])
    monkeypatch.setattr(plan_mod, "published", lambda model=None, dataset=None: row)
    out, led = tmp_path / "repro", tmp_path / "ledger.csv"
    text = io.StringIO()
    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, trials=1, seeds=1, quiet=True,
                     out=text) == 0
    assert "paper  not read" in text.getvalue() and "gap " not in text.getvalue()
    rec = ledger_mod.read_ledger(led).iloc[0]
    assert rec["status"] == "reproduced" and rec["ours_runs"] == 5 and 0 <= rec["ours_mean"] <= 1
    assert pd.isna(rec["paper_value"]) and pd.isna(rec["gap"]) and rec["within"] is None
    shown = ledger_mod.ledger_table(ledger_mod.read_ledger(led)).iloc[0]
    assert shown["paper"] == "not read" and shown["gap"] == "" and shown["within std"] == ""
    assert "paper's number not read" in ledger_mod.reproduced_lookup(ledger_mod.read_ledger(led))[
        ("gin", FAKE.name, "csl")]
    assert ledger_mod.gap_plot(ledger_mod.read_ledger(led)) is None  # no point without the paper's number


def test_a_preset_stopping_on_patience_alone_is_costed_by_one_whole_measured_run(fake_paper, tmp_path, monkeypatch):
    # FoSR's code trains up to a million epochs and stops on its patience: the epoch bound would say thousands of
    # CPU-hours, so the plan times one whole run of split 0 instead and says it is an estimate
    monkeypatch.setitem(FAKE.hparams, "epochs", 1_000_000)
    led = tmp_path / "ledger.csv"
    text = io.StringIO()
    assert reproduce("gin", FAKE.name, "csl", out_dir=tmp_path / "r", ledger=led, quiet=True, record_plan=True,
                     trials=1, seeds=1, out=text) == 0
    assert "one whole run of split 0 to its stopping rule" in text.getvalue()
    row = ledger_mod.read_ledger(led).iloc[0]
    assert ledger_mod.ESTIMATE_MARK in row["note"]
    assert 0 < row["cpu_hours"] < 0.1  # 5 runs of a few stopped epochs, not 5 × 1e6 epochs
    assert ledger_mod.ledger_table(ledger_mod.read_ledger(led)).iloc[0]["CPU hours"].startswith("≈ ")


def test_record_only_records_a_stopped_run_as_partial_and_trains_nothing(fake_paper, tmp_path):
    """A run stopped after 2 of its 5 folds (here capped with splits=2) is recorded by --record-only as partial,
    from its rows, with the time its invocations used; no row is added and no invocation is counted."""
    out, led = tmp_path / "repro", tmp_path / "ledger.csv"
    with pytest.raises(ValueError, match="without --record-only first"):
        reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, trials=1, seeds=1, quiet=True,
                  record_only=True, out=io.StringIO())
    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, trials=1, seeds=1, splits=2, quiet=True,
                     out=io.StringIO()) == 0
    results, clock = out / f"gin-{FAKE.name}-csl.csv", out / f"gin-{FAKE.name}-csl.time.json"
    ran_at = str(pd.read_csv(results)["git_commit"].iloc[0])
    if len(ran_at) == 40:  # a git checkout: pretend another commit ran the rows than the one recording them
        results.write_text(results.read_text().replace(ran_at, "f" * 40))
    # and pretend a worker on another machine, with other kernels, ran the second row
    import csv

    table = list(csv.reader(results.open(newline="")))
    for col, value in (("cpu_model", "Another CPU"), ("cpu_capability", "OTHER")):
        table[2][table[0].index(col)] = value
    with results.open("w", newline="") as f:
        csv.writer(f).writerows(table)
    before, spent = pd.read_csv(results), json.loads(clock.read_text())
    assert spent["invocations"] == 1 and spent["cpu_s"] > 0
    assert reproduce("gin", FAKE.name, "csl", out_dir=out, ledger=led, trials=1, seeds=1, quiet=True,
                     record_only=True, out=io.StringIO()) == 0
    assert len(pd.read_csv(results)) == len(before) == 2  # nothing trained
    assert json.loads(clock.read_text()) == spent  # nothing counted
    rec = ledger_mod.read_ledger(led).iloc[0]
    assert rec["status"] == "partial" and rec["ours_runs"] == 2
    assert rec["cpu_hours"] == pytest.approx(spent["cpu_s"] / 3600)
    assert "2 of 5 final runs finished" in rec["note"]
    assert "kernel ISAs" in rec["note"] and "OTHER (1 runs)" in rec["note"] and "Another CPU (1 runs)" in rec["note"]
    assert "--record-only" not in rec["command"] and "--splits" not in rec["command"]
    if len(ran_at) == 40:
        assert rec["commit"] == "f" * 40  # the commit that ran the rows, not the one that recorded them


def test_the_clock_keeps_the_time_of_an_invocation_killed_without_warning(tmp_path):
    """The time file is rewritten while the run goes on: SIGKILL one whose CPU time is spent in a child process
    (as the sweep's workers) and the file still holds that time and the invocation."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    state = tmp_path / "run.time.json"
    state.write_text(json.dumps({"wall_s": 100.0, "cpu_s": 50.0, "invocations": 2}))  # two earlier invocations
    code = ("import subprocess, sys, time\n"
            "from pathlib import Path\n"
            "from graphbench.reproduce.run import Clock\n"
            f"with Clock(Path({str(state)!r}), every_s=0.1):\n"
            "    subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
            "    time.sleep(600)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env, start_new_session=True)
    try:
        t0 = time.monotonic()
        while time.monotonic() - t0 < 120:
            time.sleep(0.5)
            now = json.loads(state.read_text())
            if now["invocations"] == 3 and now["cpu_s"] - 50.0 >= 1.5:
                break
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    now = json.loads(state.read_text())
    assert now["invocations"] == 3 and now["cpu_s"] - 50.0 >= 1.5 and now["wall_s"] > 100.0


def test_two_invocations_at_once_each_keep_their_time_and_their_overlap_counts_once(tmp_path):
    """Running the same command beside a running one adds a worker: both processes write the one time file, and
    neither overwrites the other's time (with totals kept per file, the last writer's would win: 1 invocation)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    state = tmp_path / "run.time.json"
    state.write_text(json.dumps({"wall_s": 100.0, "cpu_s": 50.0, "invocations": 2}))  # from before the log
    code = ("import os, time\n"
            "from pathlib import Path\n"
            "from graphbench.reproduce.run import Clock\n"
            f"p = Path({str(state)!r})\n"
            "with Clock(p, every_s=0.05):\n"
            "    (p.parent / f'started-{os.getpid()}').touch()\n"
            "    t0, waited = time.process_time(), time.monotonic()\n"
            "    while time.process_time() - t0 < 0.5 or (len(list(p.parent.glob('started-*'))) < 2\n"
            "                                           and time.monotonic() - waited < 60):\n"
            "        pass\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    now = json.loads(state.read_text())
    assert now["invocations"] == 4
    runs = list(now["runs"].values())
    assert len(runs) == 2
    assert now["cpu_s"] == pytest.approx(50.0 + sum(r["cpu_s"] for r in runs)) and all(r["cpu_s"] >= 0.5 for r in runs)
    spans = [r["end"] - r["start"] for r in runs]
    assert 100.0 + max(spans) <= now["wall_s"] < 100.0 + sum(spans)  # they overlapped: counted once
    assert run_mod._totals(None, {"a": {"start": 0, "end": 10, "cpu_s": 1}, "b": {"start": 5, "end": 12, "cpu_s": 2},
                                  "c": {"start": 20, "end": 21, "cpu_s": 3}}) == {"wall_s": 13, "cpu_s": 6,
                                                                                  "invocations": 3}
