"""Checks that raw files are what their dataset says they are, before anything is built or cached.

* :func:`read_table` parses a comma-separated text file of numbers strictly: an empty file, a binary byte, a row
  with the wrong number of values, a value that is not a number, or a non-finite value is a :class:`DataFileError`
  naming the file and the line.
* :func:`check_counts` compares what was read with the published statistics on the dataset's card (graphs, nodes,
  edges, classes). A mismatch (a truncated or edited file) is refused with the file, the expected and the found
  counts — unless the dataset option ``accept_modified=True`` is given; then it is logged loudly and recorded in
  ``meta["modified"]``, which every results row carries (column ``dataset_modified``).
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)


class DataFileError(ValueError):
    """A raw data file is malformed or does not match its dataset's published statistics; the message names it."""


def read_table(path: Path, dtype: type = np.int64, columns: int | None = None) -> np.ndarray:
    """A ``[rows, columns]`` array from a text file of comma-separated numbers (``columns=None``: as in line 1).

    pandas' C parser reads well-formed files; anything it stumbles on (or a value it would read as NaN) goes to a
    strict line-by-line reader that names the first bad line.
    """
    path = Path(path)
    data = path.read_bytes()
    if data.isascii() and b"\x00" not in data and data.strip():
        import pandas as pd

        try:
            arr = pd.read_csv(io.BytesIO(data.rstrip() + b"\n"), header=None, sep=",", dtype=dtype,
                              skipinitialspace=True, skip_blank_lines=False).to_numpy()
        except (ValueError, TypeError, OverflowError, pd.errors.ParserError):
            arr = None
        if arr is not None and (columns is None or arr.shape[1] == columns) and (
                np.issubdtype(arr.dtype, np.integer) or np.isfinite(arr).all()):
            return arr
    return _read_table_strict(path, data, dtype, columns)


def _read_table_strict(path: Path, data: bytes, dtype: type, columns: int | None) -> np.ndarray:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise DataFileError(f"{path}: line {line} holds a byte that is not text (0x{data[exc.start]:02x}); the file "
                            "is corrupt — fetch it again") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise DataFileError(f"{path}: the file is empty — fetch it again")
    rows = [line.split(",") for line in lines]
    width = len(rows[0]) if columns is None else columns
    for i, row in enumerate(rows):
        if len(row) != width:
            raise DataFileError(f"{path}: line {i + 1} has {len(row)} value(s), expected {width} "
                                f"({lines[i][:60]!r}); the file is truncated or corrupt — fetch it again")
    try:
        arr = np.array(rows).astype(dtype)
    except ValueError:
        for i, row in enumerate(rows):
            try:
                np.array(row).astype(dtype)
            except ValueError:
                kind = "integer" if np.issubdtype(dtype, np.integer) else "number"
                raise DataFileError(f"{path}: line {i + 1} is not a row of {kind}s ({lines[i][:60]!r}); the file "
                                    "is corrupt — fetch it again") from None
        raise
    if not np.issubdtype(dtype, np.integer) and not np.isfinite(arr).all():
        i = int(np.nonzero(~np.isfinite(arr).all(axis=1))[0][0])
        raise DataFileError(f"{path}: line {i + 1} holds a value that is not finite ({lines[i][:60]!r})")
    return arr


def check_counts(dataset: str, found: Mapping[str, float], expected: Mapping[str, float], files: Sequence[Path],
                 *, accept_modified: bool = False, tolerance: Mapping[str, float] | None = None) -> str | None:
    """Refuse counts that differ from the published ones; return a description of the difference when
    ``accept_modified`` lets it through (None when everything matches).

    ``tolerance`` gives an absolute slack per count (e.g. totals derived from averages published to 2 decimals).
    """
    tolerance = tolerance or {}
    diffs = [f"{k}: expected {expected[k]:g}, found {found[k]:g}" for k in expected
             if k in found and not math.isclose(found[k], expected[k], abs_tol=tolerance.get(k, 0.0) + 1e-9)]
    if not diffs:
        return None
    names = ", ".join(str(f) for f in files)
    text = f"{dataset}: the raw files do not match the published statistics ({'; '.join(diffs)}). Files: {names}"
    if not accept_modified:
        raise DataFileError(f"{text}. They are truncated, corrupt or edited: fetch them again, or pass the dataset "
                            "option accept_modified=true to use them as they are (every result row then says so).")
    log.warning("%s — using them because accept_modified=true; result rows record this", text)
    return "; ".join(diffs)
