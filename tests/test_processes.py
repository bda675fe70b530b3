"""The data pipeline's worker processes survive a parent that has used DGL's OpenMP thread pool.

With the ``fork`` start method a child inherits GNU OpenMP's pool state but not its threads, and its first parallel
region waits forever (this hung the test suite once); :func:`graphbench.processes.process_pool` sets every worker to
one OpenMP thread before it runs anything.
"""

import dgl
import torch

from graphbench.processes import process_pool


def _dgl_sum(n: int) -> float:
    g = dgl.rand_graph(n, 5 * n)
    return float(dgl.ops.copy_u_sum(g, torch.ones(n, 4)).sum())


def test_workers_run_dgl_kernels_after_the_parent_used_openmp():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert _dgl_sum(100_000) == 4 * 5 * 100_000  # the parent's OpenMP pool is now running
        with process_pool(2) as pool:
            result = pool.map_async(_dgl_sum, [1000, 2000]).get(timeout=60)  # a forked child hangs here
    finally:
        torch.set_num_threads(threads)
    assert result == [4 * 5 * 1000, 4 * 5 * 2000]
