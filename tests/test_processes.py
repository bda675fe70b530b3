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


FD_SCRIPT = """
import resource, sys
resource.setrlimit(resource.RLIMIT_NOFILE, (128, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
import tests.toy_inputs
from graphbench.data import load_dataset
from graphbench.transforms import resolve_chain
from graphbench.transforms.apply import compute
ds = load_dataset("toy-triangles", size=400)
out = compute(ds.graphs, resolve_chain(["triangles", {"name": "lappe", "k": 2}]), workers=2, progress=False)
print(len(out["g:num_nodes"]))
"""


def test_transform_workers_do_not_receive_the_graphs_as_shared_tensors():
    """The workers inherit the dataset; a chunk is sent as its bounds. Sent through the pool, every tensor of every
    graph became a shared-memory file descriptor and a dataset's worth exhausted the open-file limit (ogbg-molhiv's
    41k graphs at a limit of 20,000); here 400 graphs at a limit of 128."""
    import os
    import subprocess
    import sys

    from tests.helpers import ROOT

    env = {**os.environ, "PYTHONPATH": str(ROOT), "GRAPHBENCH_TRANSFORM_WORKERS": "2"}
    proc = subprocess.run([sys.executable, "-c", FD_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "400", proc.stderr[-2000:]
    assert "Too many open files" not in proc.stderr


def _sigterm_is_default(_: int) -> bool:
    import signal

    return signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_workers_drop_the_callers_signal_handlers():
    """A caller's SIGTERM handler (a sweep worker's) must not reach the pool's workers, or a pool shutdown that
    signals them can wait for ever (this hung the test suite once)."""
    import signal

    previous = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        with process_pool(2) as pool:
            assert pool.map_async(_sigterm_is_default, [0, 1]).get(timeout=60) == [True, True]
    finally:
        signal.signal(signal.SIGTERM, previous)
