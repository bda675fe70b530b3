"""graphbench: a graph-learning benchmark suite (DGL + PyTorch) with standardized results and leaderboards."""

import os as _os

# DGL asks for a backend on first import and writes ~/.dgl/config.json; graphbench is PyTorch-only.
_os.environ.setdefault("DGLBACKEND", "pytorch")

__version__ = "0.1.0"
