"""Append rows to a results CSV safely.

Every append takes an exclusive ``fcntl.flock`` on the results file itself (opened without truncation; created
empty when absent), so rows from concurrent processes (sweep workers sharing one file) never interleave and none
is lost, and no lock file is left beside the results. Where ``fcntl`` is missing (Windows) the lock is the
``filelock`` package's, on a hidden ``.<file>.lock`` in the same folder. The row is encoded first and written with a
single ``write`` on a file opened for appending, then flushed and fsynced. A writer killed mid-write can at worst
leave an unterminated last line; the next append (or :func:`repair`) moves such a fragment to ``<file>.partial``
before writing, so a results file always parses. A file with another header is never appended to.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

from graphbench.results.schema import COLUMN_NAMES, SCHEMA_VERSION, SchemaError, validate_row

LOCK_TIMEOUT_S = 120.0


def _encode(rows: Iterable[dict[str, str]], header: bool) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMN_NAMES, lineterminator="\n")
    if header:
        w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created empty if absent; its folder must exist) for the block."""
    if fcntl is None:
        from filelock import FileLock

        with FileLock(str(path.with_name(f".{path.name}.lock")), timeout=LOCK_TIMEOUT_S):
            yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + LOCK_TIMEOUT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"could not lock {path} for {LOCK_TIMEOUT_S:.0f} s (another process "
                                       "holds it)") from None
                time.sleep(0.01)
        yield
    finally:
        os.close(fd)  # releases the lock


def _repair_unlocked(path: Path) -> int:
    """Cut an unterminated trailing fragment (a writer killed mid-row) off ``path``; returns bytes moved."""
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return 0
        # Walk back to the last newline; the fragment after it is kept aside, never silently dropped.
        pos, chunk = size, 4096
        fragment_start = 0
        while pos > 0:
            step = min(chunk, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            nl = block.rfind(b"\n")
            if nl >= 0:
                fragment_start = pos + nl + 1
                break
        f.seek(fragment_start)
        fragment = f.read()
        with open(str(path) + ".partial", "ab") as side:
            side.write(fragment + b"\n")
        f.truncate(fragment_start)
        f.flush()
        os.fsync(f.fileno())
    return len(fragment)


def _check_header(path: Path) -> None:
    try:
        with open(path, encoding="utf-8", newline="") as f:
            header = next(csv.reader(f), None)
    except UnicodeDecodeError:
        header = ["<not text>"]
    if header is not None and tuple(header) != COLUMN_NAMES:
        raise SchemaError(
            f"{path} has a different header (another schema version or not a graphbench results file); "
            f"write to a new file instead (this is schema version {SCHEMA_VERSION})"
        )


def check_writable(path: str | os.PathLike) -> None:
    """Raise :class:`SchemaError` (or ``OSError``) now if rows could not be appended to ``path`` later: an existing
    file with another header, or a folder that cannot be created. Run before any training, so that no run's work
    is thrown away at the end."""
    path = Path(path)
    if path.is_dir():
        raise SchemaError(f"results path {path} is a folder; give a CSV file name")
    if path.exists() and path.stat().st_size > 0:
        _check_header(path)
    else:  # nothing is created here: the first append makes the folder
        existing = path.parent.absolute()
        while not existing.exists():
            existing = existing.parent
        if not existing.is_dir() or not os.access(existing, os.W_OK):
            raise PermissionError(f"cannot write results to {path}: {existing} is not a writable folder")


def append_rows(path: str | os.PathLike, rows: Iterable[dict[str, Any]]) -> int:
    """Validate ``rows`` and append them to the CSV at ``path`` (created with a header if absent)."""
    path = Path(path)
    valid = [validate_row(r) for r in rows]  # validate everything before touching the file
    if not valid:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with _lock(path):
        exists = path.exists() and path.stat().st_size > 0
        if exists:
            _repair_unlocked(path)
            exists = path.stat().st_size > 0
        if exists:
            _check_header(path)
        data = _encode(valid, header=not exists)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, data)
            while written < len(data):  # os.write may be partial for huge buffers
                written += os.write(fd, data[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
    return len(valid)


def append_row(path: str | os.PathLike, row: dict[str, Any]) -> None:
    append_rows(path, [row])


def repair(path: str | os.PathLike) -> int:
    """Under the lock, move an unterminated trailing fragment to ``<file>.partial``; returns bytes moved."""
    path = Path(path)
    if not path.exists():
        return 0
    with _lock(path):
        return _repair_unlocked(path)
