"""Results schema, safe concurrent appends, crash tolerance, and the documented schema."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from graphbench.results import COLUMN_NAMES, SchemaError, append_row, append_rows, read_results, validate_row
from graphbench.results.schema import schema_markdown
from tests.helpers import ROOT, fake_row


def test_round_trip_keeps_types_and_values(tmp_path):
    path = tmp_path / "r.csv"
    rows = [fake_row(seed=s, test_metric=0.5 + s / 10, error=None) for s in range(3)]
    rows.append(fake_row(seed=9, status="failed", error='ValueError: "quoted", with comma\nand newline',
                         test_metric=None, val_metric=None))
    append_rows(path, rows)
    df = read_results(path)
    assert list(df.columns[:-1]) == list(COLUMN_NAMES) and len(df) == 4
    assert df["seed"].tolist() == [0, 1, 2, 9]
    assert df["test_metric"].iloc[:3].tolist() == pytest.approx([0.5, 0.6, 0.7])
    assert df["test_metric"].isna().iloc[3] and not df["git_dirty"].iloc[0]
    assert df["error"].iloc[3] == 'ValueError: "quoted", with comma\nand newline'


@pytest.mark.parametrize("bad, message", [
    ({"status": "great"}, "status"),
    ({"seed": 1.5}, "'seed'"),
    ({"model": None}, "'model' is required"),
    ({"bogus": 1}, "unknown result columns"),
    ({"direction": "up"}, "direction"),
])
def test_invalid_rows_are_refused_with_the_column(bad, message):
    with pytest.raises(SchemaError, match=message):
        validate_row(fake_row(**bad))


def test_nothing_is_written_when_any_row_is_invalid(tmp_path):
    path = tmp_path / "r.csv"
    append_row(path, fake_row())
    before = path.read_bytes()
    with pytest.raises(SchemaError):
        append_rows(path, [fake_row(), fake_row(status="bad")])
    assert path.read_bytes() == before


def test_a_file_with_another_header_is_never_appended_to(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(SchemaError, match="different header"):
        append_row(path, fake_row())
    assert path.read_text() == "a,b\n1,2\n"
    with pytest.raises(SchemaError):
        read_results(path)


def test_other_schema_versions_are_refused_by_the_reader(tmp_path):
    path = tmp_path / "r.csv"
    append_row(path, fake_row())
    text = path.read_text().splitlines()
    text[1] = "9" + text[1][1:]
    path.write_text("\n".join(text) + "\n")
    with pytest.raises(SchemaError, match="schema version"):
        read_results(path)


def test_a_write_killed_mid_row_leaves_a_parseable_file_and_is_repaired(tmp_path):
    path = tmp_path / "r.csv"
    append_rows(path, [fake_row(seed=0), fake_row(seed=1)])
    with open(path, "ab") as f:  # what a SIGKILL in the middle of a write can leave
        f.write(b"1,deadbeef,2026-01-01T00:00:00+00:00,2026-01-0")
    assert read_results(path)["seed"].tolist() == [0, 1]
    append_row(path, fake_row(seed=2))
    assert read_results(path)["seed"].tolist() == [0, 1, 2]
    assert Path(str(path) + ".partial").read_text().startswith("1,deadbeef")


def _writer(path: str, worker: int, n: int) -> None:
    for i in range(n):
        append_row(path, fake_row(seed=worker * 1000 + i, error="x" * 5000))  # long rows: beyond one pipe buffer


def test_concurrent_appends_from_several_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "r.csv")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    df = read_results(path)
    assert len(df) == 160 and df["run_id"].is_unique
    assert sorted(df["seed"].tolist()) == sorted(w * 1000 + i for w in range(4) for i in range(40))
    assert (df["error"] == "x" * 5000).all()  # no interleaved row


def test_docs_results_schema_matches_the_code():
    doc = (ROOT / "docs" / "results-schema.md").read_text()
    assert schema_markdown() in doc


def test_in_memory_rows_get_the_same_types_as_a_read_file(tmp_path):
    from graphbench.results import rows_frame

    rows = [fake_row(seed=1), fake_row(seed=2, status="failed", test_metric=None, error="boom")]
    path = tmp_path / "r.csv"
    append_rows(path, rows)
    from_file, in_memory = read_results(path), rows_frame(rows, source=str(path))
    assert (from_file.dtypes == in_memory.dtypes).all()
    assert from_file.drop(columns="source").equals(in_memory.drop(columns="source"))
