"""Shared fixtures. Real benchmark files are found through $GRAPHBENCH_SHARED_DATA (set by .ci/run).

Without it, tests that need the files skip with the reason; when $CI is set a missing folder is a failure, since
CI must exercise every real loader.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_ENV = "GRAPHBENCH_SHARED_DATA"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real benchmark files (../shared/datasets), or skip (fail in CI) when it is not available."""
    value = os.environ.get(SHARED_ENV)
    reason = None
    if not value:
        reason = f"${SHARED_ENV} is not set: point it at the shared benchmark files (../shared/datasets)"
    elif not Path(value, "README.md").exists():
        reason = f"${SHARED_ENV}={value} does not hold the shared benchmark files (no README.md there)"
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"in CI the real data must be present: {reason}")
        pytest.skip(reason)
    return Path(value)


@pytest.fixture(scope="session")
def _session_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("graphbench_cache")


@pytest.fixture(autouse=True)
def _isolated_data_root(tmp_path_factory, monkeypatch, _session_cache):
    """Keep tests from writing caches into the working tree's ./datasets, and processed-data caches out of the
    shared data folder (a test that loads from $GRAPHBENCH_SHARED_DATA would otherwise write its ``.cache`` there):
    one cache folder for the session, so tests still share processed datasets."""
    monkeypatch.setenv("GRAPHBENCH_DATA_ROOT", str(tmp_path_factory.mktemp("data_root")))
    monkeypatch.setenv("GRAPHBENCH_CACHE", str(_session_cache))
