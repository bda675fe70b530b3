"""Leaderboard reports from results CSVs: aggregation, statistics, tables, figures, HTML, provenance."""

from graphbench.report.aggregate import ReportError, aggregate, select_rows
from graphbench.report.build import ReportResult, build_report, format_leaderboard

__all__ = ["ReportError", "ReportResult", "aggregate", "build_report", "format_leaderboard", "select_rows"]
