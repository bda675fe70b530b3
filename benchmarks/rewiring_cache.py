"""Rewiring pre-processing through the transform cache: cold vs cached, per graph (issue #13, result 4).

Each registered rewiring transform (``laser``, ``gtr``, ``fosr``, ``sdrf``, ``borf``) is applied to the same
ZINC-sized molecules with :func:`graphbench.transforms.apply.prepare`, the path every run takes:

- **cold**: a fresh cache folder — fingerprint the dataset, rewire every graph, pack and write the entry;
- **disk**: the in-process memo cleared — fingerprint, verify the entry's SHA-256 and unpack it (what a second
  process or a later run pays);
- **memo**: the same process asks again (what the runs of one sweep worker pay after the first).

Molecules are the first ``--graphs`` SMILES of ogbg-molhiv (``$GRAPHBENCH_SHARED_DATA/molecules/HIV/HIV.csv``;
~25 heavy atoms, ZINC-sized), or molecule-like random graphs of 18–28 nodes without the shared data.

    python benchmarks/rewiring_cache.py                 # 300 molecules, ~1-2 min on one core
    python benchmarks/rewiring_cache.py --graphs 100

Single-threaded, one worker process. The machine is shared: read the ratios (cold / disk) of one run.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import dgl  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from graphbench.data.base import GraphDataset, Split  # noqa: E402
from graphbench.transforms import resolve_chain  # noqa: E402
from graphbench.transforms.apply import clear_memo, prepare  # noqa: E402

CHAINS = {
    "laser (L=3, rho=0.5)": [{"name": "laser", "num_snapshots": 3, "rho": 0.5}],
    "gtr (10 edges)": [{"name": "gtr", "num_edges": 10}],
    "fosr (10 edges)": [{"name": "fosr", "num_edges": 10}],
    "sdrf (10 loops)": [{"name": "sdrf", "loops": 10}],
    "borf (2 x +3 -1)": [{"name": "borf", "iterations": 2, "batch_add": 3, "batch_remove": 1}],
}


def molecules(count: int) -> tuple[list[dgl.DGLGraph], str]:
    root = os.environ.get("GRAPHBENCH_SHARED_DATA")
    hiv = Path(root, "molecules/HIV/HIV.csv") if root else None
    if hiv is not None and hiv.exists():
        from graphbench.data.molecules import smiles_to_graphs

        smiles = pd.read_csv(hiv).dropna(how="all")["smiles"].tolist()[: int(count * 1.2)]
        graphs = [g for g in smiles_to_graphs(smiles, workers=1)[0] if g.num_nodes() > 1][:count]
        return graphs, "ogbg-molhiv molecules"
    sys.path.insert(0, str(Path(__file__).parent))
    from rewiring_measures import molecule_like

    rng = np.random.default_rng(0)
    graphs = []
    for _ in range(count):
        s, d, n = molecule_like(int(rng.integers(18, 29)), rng)
        g = dgl.graph((torch.from_numpy(s), torch.from_numpy(d)), num_nodes=n)
        g.ndata["feat"] = torch.ones(n, 1)
        graphs.append(g)
    return graphs, "molecule-like graphs (no shared data)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--graphs", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    graphs, what = molecules(args.graphs)
    n = len(graphs)
    ds = GraphDataset("rewiring-cache-bench", graphs, torch.zeros(n, dtype=torch.long), "graph", "multiclass",
                      "accuracy", [Split("fixed", range(n - 2), [n - 2], [n - 1])], num_classes=2)
    nodes = np.array([g.num_nodes() for g in graphs])
    print(f"{n} {what}: {nodes.mean():.1f} nodes on average (min {nodes.min()}, max {nodes.max()}), "
          f"{np.mean([g.num_edges() for g in graphs]) / 2:.1f} undirected edges\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, chain in CHAINS.items():
            steps = resolve_chain(chain)
            clear_memo()
            t0 = time.perf_counter()
            out = prepare(ds, steps, seed=0, root=tmp, workers=1, progress=False)
            cold = time.perf_counter() - t0
            clear_memo()
            t0 = time.perf_counter()
            again = prepare(ds, steps, seed=0, root=tmp, workers=1, progress=False)
            disk = time.perf_counter() - t0
            t0 = time.perf_counter()
            prepare(ds, steps, seed=0, root=tmp, workers=1, progress=False)
            memo = time.perf_counter() - t0
            assert all(torch.equal(a.edges()[0], b.edges()[0]) for a, b in zip(out.graphs, again.graphs))
            added = np.mean([(g.edata["etype"] > 0).sum().item() / 2 for g in out.graphs])
            rows.append({"rewiring": label, "added/graph": added, "cold ms/graph": 1000 * cold / n,
                         "disk ms/graph": 1000 * disk / n, "memo ms/graph": 1000 * memo / n,
                         "cold/disk": cold / disk})
    pd.set_option("display.width", 200)
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda x: f"{x:.3g}"))


if __name__ == "__main__":
    main()
