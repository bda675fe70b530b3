"""Files written whole or not at all: a temporary file beside the target, renamed over it.

A reader (another process, a resumed run) sees either the old file or the new one, never half of one, and two
writers never share a temporary name (``tempfile.mkstemp``). The file gets the permissions an ordinary ``open``
would give it (0666 minus the umask), so a shared folder stays readable by its other users. Used by the dataset
cache and by ``graphbench reproduce`` (its time, sweep and record files and the ledger).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def share(path: str | os.PathLike) -> None:
    """Give a file created by ``mkstemp`` (mode 0600) the mode an ordinary ``open`` would: 0666 minus the umask."""
    os.chmod(path, 0o666 & ~_umask())


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        share(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
