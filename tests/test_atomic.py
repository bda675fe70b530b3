"""graphbench.atomic: a file is replaced whole, with the mode an ordinary open gives it, and leaves no debris."""

from __future__ import annotations

import os

import pytest

from graphbench import atomic


def test_write_text_replaces_the_file_with_the_umask_mode_and_leaves_no_temporary(tmp_path):
    old = os.umask(0o027)
    try:
        target = tmp_path / "a.json"
        target.write_text("old")
        atomic.write_text(target, "néw\n")
        assert target.read_bytes() == "néw\n".encode()  # UTF-8, the newline as given
        assert target.stat().st_mode & 0o777 == 0o640  # not mkstemp's 0600
    finally:
        os.umask(old)
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_its_temporary(tmp_path):
    target = tmp_path / "a.json"
    target.write_text("old")
    with pytest.raises(UnicodeEncodeError):
        atomic.write_text(target, "\udcff")  # a lone surrogate cannot be encoded
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]
