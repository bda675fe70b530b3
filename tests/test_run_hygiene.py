"""Run hygiene: results files checked before training, unreadable rows named and skipped, version-1 files read,
threads / dataset options / split source recorded on every row."""

from __future__ import annotations

import csv
import json
import time

import pytest
import torch

from graphbench import api
from graphbench.results import SchemaError, append_row, read_results
from graphbench.results.reader import V1_COLUMNS, BadRowWarning
from tests.helpers import fake_row, run_cli


def test_a_results_file_of_another_schema_is_refused_before_any_training(tmp_path, monkeypatch):
    bad = tmp_path / "old.csv"
    bad.write_text("a,b\n1,2\n")
    trained = []
    monkeypatch.setattr(api, "run_one", lambda *a, **k: trained.append(1) or {})
    with pytest.raises(SchemaError, match="different header"):
        api.run(["gin"], ["csl"], folds=[0], hparams={"epochs": 1}, results=bad)
    assert not trained and bad.read_text() == "a,b\n1,2\n"


def test_cli_refuses_a_mismatched_results_file_at_once(tmp_path):
    (tmp_path / "old.csv").write_text("a,b\n1,2\n")
    t0 = time.perf_counter()
    proc = run_cli("run", "--model", "gin", "--dataset", "csl", "--epochs", "40", "--results", "old.csv",
                   cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "different header" in proc.stderr and "epoch" not in proc.stderr
    assert time.perf_counter() - t0 < 120


def test_an_unreadable_value_names_file_and_line_and_the_row_is_skipped(tmp_path):
    path = tmp_path / "r.csv"
    for seed in range(3):
        append_row(path, fake_row(seed=seed))
    lines = path.read_text().splitlines()
    header = lines[0].split(",")
    cells = next(csv.reader([lines[2]]))
    cells[header.index("test_metric")] = "x"
    lines[2] = ",".join(f'"{c}"' if "," in c or '"' in c else c for c in cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.warns(BadRowWarning, match=r"r\.csv: line 3 .*'test_metric' holds 'x'"):
        df = read_results(path)
    assert sorted(df["seed"].tolist()) == [0, 2]
    assert len(df.attrs["skipped_rows"]) == 1 and "line 3" in df.attrs["skipped_rows"][0]


def test_version_1_files_are_read_with_the_new_columns_empty(tmp_path):
    path = tmp_path / "v1.csv"
    row = fake_row(schema_version=1)
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(V1_COLUMNS)
        w.writerow(["1" if c == "schema_version" else ("" if row.get(c) is None else
                    ("true" if row[c] is True else "false" if row[c] is False else row[c])) for c in V1_COLUMNS])
    df = read_results(path)
    assert len(df) == 1 and df["schema_version"].iloc[0] == 1 and df["threads"].isna().all()
    assert df["test_metric"].iloc[0] == pytest.approx(0.7)


def test_rows_record_threads_dataset_options_and_split_source(tmp_path):
    before = torch.get_num_threads()
    try:
        df = api.run(["gcn"], ["csl"], folds=[0], hparams={"epochs": 1, "hidden": 8}, threads=1,
                     dataset_options={"seed": 3}, results=tmp_path / "r.csv")
        assert df["threads"].tolist() == [1] and torch.get_num_threads() == 1
        assert json.loads(df["dataset_options"].iloc[0]) == {"seed": 3}
        read = read_results(tmp_path / "r.csv")
        assert read["threads"].tolist() == [1] and json.loads(read["dataset_options"].iloc[0]) == {"seed": 3}
        other = api.run(["gcn"], ["csl"], folds=[0], hparams={"epochs": 1, "hidden": 8}, threads=1, results=None)
        assert other["config_hash"].iloc[0] != df["config_hash"].iloc[0]  # differ only in the dataset option
        assert other["dataset_options"].iloc[0] == "{}"
    finally:
        torch.set_num_threads(before)


def test_default_threads_is_one_for_small_graphs():
    from graphbench.data import load_dataset
    from graphbench.train.runner import default_threads

    assert default_threads(load_dataset("csl")) == 1
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        api.plan_runs(["gin"], ["csl"], threads=0)
