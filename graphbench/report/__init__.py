"""Leaderboard reports from results CSVs: aggregation, statistics, tables, figures, HTML, provenance."""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use (PEP 562), so that `graphbench report --help` does not pay for pandas and matplotlib.
_LAZY = {"ReportError": "aggregate", "aggregate": "aggregate", "select_rows": "aggregate",
         "ReportResult": "build", "build_report": "build", "format_leaderboard": "build"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"graphbench.report.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'graphbench.report' has no attribute {name!r}")


__all__ = ["ReportError", "ReportResult", "aggregate", "build_report", "format_leaderboard", "select_rows"]
