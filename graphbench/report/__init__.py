"""Leaderboard reports from results CSVs: aggregation, statistics, tables, figures, HTML, provenance."""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use (PEP 562), so that `graphbench report --help` does not pay for pandas and matplotlib.
# The function ``aggregate`` is not re-exported here: it shares its name with the submodule
# ``graphbench.report.aggregate``, which the import system binds on this package once it is imported, so the
# package attribute could be either. Import it as ``from graphbench.report.aggregate import aggregate``.
_LAZY = {"ReportError": "aggregate", "select_rows": "aggregate",
         "ReportResult": "html", "build_report": "build", "format_leaderboard": "build"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"graphbench.report.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'graphbench.report' has no attribute {name!r}")


__all__ = ["ReportError", "ReportResult", "build_report", "format_leaderboard", "select_rows"]
