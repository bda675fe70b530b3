"""Worker processes for the data pipeline (SMILES parsing, transform chains).

The pools are started by a fork server, never by forking the calling process. The caller may be running threads
(PyTorch's and DGL's OpenMP pools, tqdm's monitor, a sweep's heartbeat), and a child forked from such a process
inherits their locks but not the threads: GNU OpenMP in particular (which DGL links) then waits forever in the
child's first parallel region (the hazard scikit-learn and joblib document for ``fork``). The fork server is a
fresh, single-threaded process that imports :data:`PRELOAD` once and forks each worker from itself, so a worker
starts in milliseconds with the libraries already loaded.

Work sent to a pool must be picklable: module-level functions and plain data (DGL graphs pickle). A worker imports
the module of each function it receives, so a transform registered in a user's own module is registered in the
worker as well.
"""

from __future__ import annotations

import importlib
import multiprocessing as mp
from collections.abc import Iterable
from multiprocessing.pool import Pool

PRELOAD = ["graphbench.transforms.apply"]


def _init_worker(modules: tuple[str, ...]) -> None:
    import torch

    torch.set_num_threads(1)
    for name in modules:  # e.g. the module that registered a transform the work refers to by name
        importlib.import_module(name)


def process_pool(workers: int, *, modules: Iterable[str] = ()) -> Pool:
    """A pool of ``workers`` single-threaded processes from the fork server; each imports ``modules`` first.

    Use it as a context manager (``with process_pool(2) as pool: pool.imap(fn, chunks)``).
    """
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # takes effect when the server starts (once per process)
    return ctx.Pool(workers, initializer=_init_worker, initargs=(tuple(modules),))
