"""Worker processes for the data pipeline (SMILES parsing, transform chains).

Workers are forked from the caller, so they start at once with everything the caller imported and registered
(including transforms registered in a user's own script), and a script needs no ``if __name__ == "__main__"`` guard
(the ``spawn`` and ``forkserver`` start methods re-import the calling script in every worker).

Forking a process that has run OpenMP code is the known hazard: the child inherits GNU OpenMP's thread-pool state
but not its threads, and its first parallel region with more than one thread waits forever (scikit-learn and joblib
document it; DGL links the system's libgomp, PyTorch its own copy). Each worker therefore sets both libraries to
one thread before it runs anything: a one-thread parallel region never touches the inherited pool. The test suite
hung on this once; ``tests/test_processes.py`` reproduces it.
"""

from __future__ import annotations

import multiprocessing as mp
from multiprocessing.pool import Pool


def _init_worker() -> None:
    import dgl
    import torch

    torch.set_num_threads(1)  # PyTorch's OpenMP runtime
    dgl.utils.set_num_threads(1)  # DGL's (the system libgomp): both before any parallel region runs in the child


def process_pool(workers: int) -> Pool:
    """A pool of ``workers`` forked processes, each single-threaded (see the module docstring for why).

    Use it as a context manager: ``with process_pool(2) as pool: pool.imap(fn, chunks)``.
    """
    return mp.get_context("fork").Pool(workers, initializer=_init_worker)
