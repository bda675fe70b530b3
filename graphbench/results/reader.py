"""Read results CSVs into one tidy pandas DataFrame, typed per the schema."""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from graphbench.results.schema import (
    COLUMN_NAMES,
    COLUMNS,
    COLUMNS_BY_VERSION,
    COLUMNS_V1,
    READABLE_VERSIONS,
    SCHEMA_VERSION,
    SchemaError,
    validate_row,
)

_PANDAS_DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean", "json": "string"}

#: The columns of schema version 1, in order. Files of that version are read with the later columns empty.
V1_COLUMNS: tuple[str, ...] = COLUMNS_V1


class BadRowWarning(UserWarning):
    """Rows of a results file that could not be read (a value of the wrong type) were skipped; the message names
    the file, the rows and the values."""


_KIND = {"int": "an integer", "float": "a number", "bool": "true or false"}


def _bad_rows(df: pd.DataFrame) -> dict[int, str]:
    """Row index -> why, for rows whose value in a typed column cannot be read as that type."""
    bad: dict[int, str] = {}
    for col in COLUMNS:
        if col.name not in df.columns or col.dtype in ("str", "json"):
            continue
        text = df[col.name]
        filled = text != ""
        if col.dtype == "bool":
            wrong = filled & ~text.isin(["true", "false"])
        else:
            num = pd.to_numeric(text.where(filled), errors="coerce")
            wrong = filled & num.isna()
            if col.dtype == "int":
                wrong |= filled & num.notna() & (num != num.round())
        for i in df.index[wrong]:
            bad.setdefault(int(i), f"column {col.name!r} holds {text[i]!r}, not {_KIND[col.dtype]}")
    return bad


def read_results(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """Read one or several results files; adds a ``source`` column naming the file of each row.

    Raises :class:`SchemaError` for a file whose header or schema version differs from this graphbench's,
    instead of mixing incompatible rows; files of an older schema version are read with the columns added since
    empty.
    An unterminated last line (a writer killed mid-row) is ignored. A row with an unreadable value (e.g. ``x`` in a
    number column) is skipped with a :class:`BadRowWarning` naming the file, the line and the value; the skipped
    rows are listed in ``df.attrs["skipped_rows"]`` so that reports can say what they did not count.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    frames, skipped = [], []
    for p in map(Path, paths):
        if not p.exists():
            raise FileNotFoundError(f"results file {p} does not exist")
        raw = p.read_bytes()
        if raw and not raw.endswith(b"\n"):
            raw = raw[: raw.rfind(b"\n") + 1]
        if not raw.strip():
            continue
        try:
            df = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise SchemaError(f"{p} is not a readable results CSV ({type(exc).__name__}: {exc})") from None
        version = next((v for v, cols in COLUMNS_BY_VERSION.items() if tuple(df.columns) == cols), None)
        if version is None:
            missing = sorted(set(COLUMN_NAMES) - set(df.columns))
            extra = sorted(set(df.columns) - set(COLUMN_NAMES))
            raise SchemaError(f"{p} does not follow results schema v{SCHEMA_VERSION} "
                              f"(missing {missing}, unexpected {extra})")
        for name in COLUMN_NAMES[len(df.columns):]:
            df[name] = ""
        versions = set(df["schema_version"])
        if versions != {str(version)}:
            raise SchemaError(f"{p} holds schema version(s) {sorted(versions)} under a version-"
                              f"{version} header; this graphbench reads "
                              f"v{', v'.join(map(str, READABLE_VERSIONS))}, one version per file")
        bad = _bad_rows(df)
        if bad:
            lines = [f"{p}: line {i + 2} (run_id {df.at[i, 'run_id'] or '?'}): {why}" for i, why in sorted(bad.items())]
            skipped += lines
            warnings.warn(f"skipped {len(bad)} unreadable row(s) of {p}:\n  " + "\n  ".join(lines[:20]),
                          BadRowWarning, stacklevel=2)
            df = df.drop(index=list(bad))
        df["source"] = str(p)
        frames.append(df)
    if not frames:
        out = _typed(pd.DataFrame({c: pd.Series(dtype=str) for c in (*COLUMN_NAMES, "source")}))
    else:
        out = _typed(pd.concat(frames, ignore_index=True))
    out.attrs["skipped_rows"] = skipped
    return out


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
