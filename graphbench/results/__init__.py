"""Standardized results: the schema, a concurrency-safe writer and a typed reader."""

from graphbench.results.reader import read_results, rows_frame
from graphbench.results.schema import COLUMN_NAMES, COLUMNS, SCHEMA_VERSION, SchemaError, validate_row
from graphbench.results.writer import append_row, append_rows, check_writable, repair

__all__ = ["COLUMNS", "COLUMN_NAMES", "SCHEMA_VERSION", "SchemaError", "append_row", "append_rows", "check_writable",
           "read_results", "repair", "rows_frame", "validate_row"]
