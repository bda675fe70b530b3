"""Worker processes for the data pipeline (SMILES parsing, transform chains).

Workers are forked from the caller, so they start at once with everything the caller imported and registered
(including transforms registered in a user's own script), and a script needs no ``if __name__ == "__main__"`` guard
(the ``spawn`` and ``forkserver`` start methods re-import the calling script in every worker).

Forking a process that runs threads has two known hazards, and each worker removes both before it runs anything:

- GNU OpenMP: the child inherits the thread pool's state but not its threads, and its first parallel region with
  more than one thread waits forever (scikit-learn and joblib document it; DGL links the system's libgomp, PyTorch
  its own copy). Each worker sets both libraries to one thread: a one-thread region never touches the pool.
- Signal handlers: a worker inherits the caller's, e.g. a sweep worker's SIGTERM handler. Each worker restores
  the defaults, so that the pool can always stop it.

The pool is closed and joined when the work is done (workers leave on the pool's sentinel, no signal needed); it
is terminated only when the caller fails. The test suite hung on the first hazard once and on a pool shutdown once;
``tests/test_processes.py`` reproduces the first.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool


def _init_worker() -> None:
    import dgl
    import torch

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    torch.set_num_threads(1)  # PyTorch's OpenMP runtime
    dgl.utils.set_num_threads(1)  # DGL's (the system libgomp): both before any parallel region runs in the child


@contextmanager
def process_pool(workers: int) -> Iterator[Pool]:
    """A pool of ``workers`` forked processes, each single-threaded with default signal handlers (see the module
    docstring): ``with process_pool(2) as pool: pool.imap(fn, chunks)``. Leaving the block normally closes the
    pool and waits for its workers to finish; an exception terminates them."""
    pool = mp.get_context("fork").Pool(workers, initializer=_init_worker)
    try:
        yield pool
    except BaseException:
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
