"""Read results CSVs into one tidy pandas DataFrame, typed per the schema."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from graphbench.results.schema import COLUMN_NAMES, COLUMNS, COLUMNS_V1, SCHEMA_VERSION, SchemaError, validate_row

_PANDAS_DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean", "json": "string"}


def read_results(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Read one or several results files; adds a ``source`` column naming the file of each row.

    Raises :class:`SchemaError` for a file whose header or schema version differs from this graphbench's,
    instead of mixing incompatible rows. An unterminated last line (a writer killed mid-row) is ignored.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames = []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"results file {p} does not exist")
        raw = p.read_bytes()
        if raw and not raw.endswith(b"\n"):
            raw = raw[: raw.rfind(b"\n") + 1]
        if not raw.strip():
            continue
        import io

        df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
        if tuple(df.columns) == COLUMNS_V1 and set(df["schema_version"]) <= {"1"}:  # version 1: later columns empty
            for name in COLUMN_NAMES[len(COLUMNS_V1):]:
                df[name] = ""
            df = df[list(COLUMN_NAMES)]
        elif tuple(df.columns) != COLUMN_NAMES:
            missing = sorted(set(COLUMN_NAMES) - set(df.columns))
            extra = sorted(set(df.columns) - set(COLUMN_NAMES))
            raise SchemaError(f"{p} does not follow results schema v{SCHEMA_VERSION} "
                              f"(missing {missing}, unexpected {extra})")
        versions = set(df["schema_version"])
        if versions - {str(SCHEMA_VERSION), "1"}:
            raise SchemaError(f"{p} holds schema version(s) {sorted(versions)}; this graphbench reads "
                              f"v1 and v{SCHEMA_VERSION} only")
        df["source"] = str(p)
        frames.append(df)
    if not frames:
        return _typed(pd.DataFrame({c: pd.Series(dtype=str) for c in (*COLUMN_NAMES, "source")}))
    return _typed(pd.concat(frames, ignore_index=True))


def rows_frame(rows: Iterable[dict], *, source: str = "") -> pd.DataFrame:
    """In-memory rows (as written by the runner) as the same typed DataFrame :func:`read_results` returns."""
    df = pd.DataFrame([validate_row(r) for r in rows], columns=list(COLUMN_NAMES), dtype=str)
    df["source"] = source
    return _typed(df)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    for col in COLUMNS:
        s = df[col.name].replace("", pd.NA)
        if col.dtype == "bool":
            s = s.map({"true": True, "false": False}, na_action="ignore")
        df[col.name] = s.astype(_PANDAS_DTYPES[col.dtype])
    df["source"] = df["source"].astype("string")
    return df
