"""Results appends lock the results file itself: no `.lock` file is left beside it, and concurrent writers (sweep
workers sharing one file) still never interleave or lose a row (issue 21)."""

from __future__ import annotations

import multiprocessing as mp

import pytest

from graphbench.results import read_results
from graphbench.results import writer as writer_module
from graphbench.results.writer import append_row, append_rows, repair
from tests.helpers import fake_row as make_row


def _writer(path: str, worker: int, n: int) -> None:
    for i in range(n):
        append_row(path, make_row(seed=1000 * worker + i))


def test_no_lock_file_beside_the_results_after_appends_and_repair(tmp_path):
    out = tmp_path / "results" / "quick.csv"
    append_rows(out, [make_row(seed=0), make_row(seed=1)])
    repair(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["quick.csv"]  # nothing else, hidden or not
    assert len(read_results(out)) == 2


def test_concurrent_processes_append_every_row_once(tmp_path):
    out = tmp_path / "shared.csv"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(out), w, 40)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    df = read_results(out)
    assert sorted(df["seed"]) == sorted(1000 * w + i for w in range(4) for i in range(40))
    assert out.read_text().count("schema_version") == 1  # one header
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.csv"]


def test_the_lock_is_exclusive(tmp_path, monkeypatch):
    out = tmp_path / "r.csv"
    append_row(out, make_row(seed=0))
    monkeypatch.setattr(writer_module, "LOCK_TIMEOUT_S", 0.2)
    with writer_module._lock(out):  # another open file description: flock conflicts even within one process
        with pytest.raises(TimeoutError, match="could not lock"):
            append_row(out, make_row(seed=1))
    append_row(out, make_row(seed=2))
    assert list(read_results(out)["seed"]) == [0, 2]
