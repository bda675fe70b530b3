"""Path enumeration for path-based GNNs (PathNN): pure functions from a graph to its path sets."""

from graphbench.paths.enumerate import (
    DEFAULT_MAX_PATHS,
    PATH_KINDS,
    PathLimitError,
    PathSet,
    enumerate_many,
    enumerate_paths,
    graph_paths,
)

__all__ = ["DEFAULT_MAX_PATHS", "PATH_KINDS", "PathLimitError", "PathSet", "enumerate_many", "enumerate_paths",
           "graph_paths"]
