"""Locating raw files under the data root, and failing fast (never hanging, never prompting) when they are absent.

Every loader names the files it needs relative to ``root``. When some are missing, :func:`ensure_files` may
download them (only where a loader gives URLs, only with a short timeout, never when ``$GRAPHBENCH_OFFLINE`` is set);
otherwise, or when the download fails, it raises :class:`MissingDataError` naming the files, the folder they belong
in and where to get them.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import tempfile
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)

OFFLINE_ENV = "GRAPHBENCH_OFFLINE"
DOWNLOAD_TIMEOUT_S = 10.0


class MissingDataError(FileNotFoundError):
    """Raw files of a dataset are absent and could not be downloaded; the message says what to put where."""


def missing(root: Path, files: Sequence[str]) -> list[str]:
    """The entries of ``files`` (paths relative to ``root``) that do not exist."""
    return [f for f in files if not (Path(root) / f).exists()]


def _message(dataset: str, root: Path, absent: Sequence[str], source: str, reason: str) -> str:
    listed = "\n".join(f"  {Path(root) / f}" for f in absent)
    return (f"{dataset}: raw files not found ({reason}). Missing:\n{listed}\n"
            f"Get them from {source} and place them at exactly those paths (data root {root}; set it with "
            f"--data-root, data_root: in a run or sweep file, or $GRAPHBENCH_DATA_ROOT), then run again.")


def _reachable(url: str, timeout: float) -> bool:
    """Whether a TCP connection to the URL's host opens within ``timeout`` seconds (a cheap offline check)."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return Path(parsed.path).exists()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _merge(src: Path, dst: Path) -> None:
    """Move ``src``'s entries into ``dst``, recursing into folders both hold; existing files are kept."""
    dst.mkdir(parents=True, exist_ok=True)
    for entry in src.iterdir():
        target = dst / entry.name
        if entry.is_dir() and target.is_dir():
            _merge(entry, target)
        elif not target.exists():
            shutil.move(str(entry), target)


def download(url: str, dest: Path, *, timeout: float = DOWNLOAD_TIMEOUT_S) -> None:
    """Fetch ``url`` to ``dest`` atomically (temporary file, then rename). A ``.zip`` archive is extracted so that
    ``dest`` ends up where it belongs: the file named like ``dest`` is found in the archive, and the archive folder
    that corresponds to ``dest``'s folder — matching trailing folder names, as archives often wrap their files in
    a folder of their own (TU's ``MUTAG.zip`` holds ``MUTAG/MUTAG_A.txt``, OGB's ``pcba.zip`` holds
    ``pcba/raw/edge.csv.gz``) — is merged into it, siblings included. Raises ``OSError`` on any failure, after at
    most ``timeout`` seconds without progress."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (fixed https URLs from our tables)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, suffix=".part")
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(resp, out)
    if not (urlparse(url).path.endswith(".zip") and not dest.name.endswith(".zip")):  # "…/molecules.zip?dl=1"
        os.replace(tmp, dest)
        return
    try:
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".unpack-") as unpack:
            try:
                with zipfile.ZipFile(tmp) as zf:
                    zf.extractall(unpack)
            except zipfile.BadZipFile as exc:
                raise OSError(f"{url} is not a valid zip archive: {exc}") from None
            hits = sorted(Path(unpack).rglob(dest.name), key=lambda p: len(p.parts))
            src, dst = (hits[0].parent if hits else Path(unpack)), dest.parent
            while src != Path(unpack) and src.name == dst.name:  # e.g. pcba/raw ↔ ogbg_molpcba/raw: go up one
                src, dst = src.parent, dst.parent
            _merge(src, dst)
    finally:
        os.unlink(tmp)


def ensure_files(dataset: str, root: Path, files: Sequence[str], *, source: str,
                 urls: Mapping[str, str] | None = None, timeout: float = DOWNLOAD_TIMEOUT_S) -> Path:
    """Make sure ``root/f`` exists for every ``f`` in ``files``; return ``root``.

    Present files are never re-fetched and no connection is attempted when nothing is missing. Missing files with
    a URL in ``urls`` are downloaded (unless ``$GRAPHBENCH_OFFLINE`` is set); anything still missing raises
    :class:`MissingDataError` at once.
    """
    root = Path(root)
    absent = missing(root, files)
    if not absent:
        return root
    urls = dict(urls or {})
    if os.environ.get(OFFLINE_ENV):
        raise MissingDataError(_message(dataset, root, absent, source, f"${OFFLINE_ENV} is set, no download"))
    fetchable = [f for f in absent if f in urls]
    if not fetchable:
        raise MissingDataError(_message(dataset, root, absent, source, "no automatic download for these"))
    if not _reachable(urls[fetchable[0]], timeout=min(timeout, 5.0)):
        raise MissingDataError(_message(dataset, root, absent, source, "no network"))
    for f in fetchable:
        if (root / f).exists():  # an archive fetched for an earlier file may have brought it
            continue
        log.info("%s: downloading %s", dataset, urls[f])
        try:
            download(urls[f], root / f, timeout=timeout)
        except OSError as exc:
            raise MissingDataError(_message(dataset, root, absent, source, f"download failed: {exc}")) from exc
    still = missing(root, files)
    if still:
        raise MissingDataError(_message(dataset, root, still, source, "not provided by the download"))
    return root
