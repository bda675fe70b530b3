"""Schema v3 (cpu_model, cpu_capability, isa_pin): v2 files are still read, with the new columns empty."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from graphbench.results import SchemaError, append_row, read_results
from graphbench.results.schema import COLUMN_NAMES, COLUMNS_BY_VERSION, SCHEMA_VERSION, validate_row
from tests.helpers import fake_row


def _write_v2(path, n: int = 2) -> None:
    cols = COLUMNS_BY_VERSION[2]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        for seed in range(n):
            row = validate_row(fake_row(seed=seed))
            w.writerow({**{c: row[c] for c in cols}, "schema_version": "2"})


def test_v3_adds_the_cpu_columns_at_the_end():
    assert SCHEMA_VERSION == 3
    assert COLUMN_NAMES[-3:] == ("cpu_model", "cpu_capability", "isa_pin")
    assert COLUMNS_BY_VERSION[2] == COLUMN_NAMES[:-3]


def test_a_v2_file_is_read_with_the_cpu_columns_empty_and_not_appended_to(tmp_path):
    old = tmp_path / "old.csv"
    _write_v2(old)
    df = read_results(old)
    assert len(df) == 2 and df["cpu_capability"].isna().all() and df["isa_pin"].isna().all()
    with pytest.raises(SchemaError, match="different header"):
        append_row(old, fake_row(cpu_model="x", cpu_capability="AVX2", isa_pin="avx2"))
    new = tmp_path / "new.csv"
    append_row(new, fake_row(cpu_model="AMD EPYC", cpu_capability="AVX2", isa_pin="avx2"))
    both = read_results([old, new])
    assert list(both["cpu_capability"].fillna("")) == ["", "", "AVX2"]
    assert pd.isna(both["isa_pin"].iloc[0]) and both["isa_pin"].iloc[2] == "avx2"


def test_a_v2_header_with_v3_rows_is_refused(tmp_path):
    bad = tmp_path / "bad.csv"
    _write_v2(bad)
    lines = bad.read_text().splitlines()
    lines[1] = "3" + lines[1][1:]  # schema_version is the first column
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(SchemaError, match="version-2 header"):
        read_results(bad)
