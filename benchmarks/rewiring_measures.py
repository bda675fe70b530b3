"""Rewiring measures and pre-processing cost (issue #13, results 3 and 4).

For each rewiring (LASER, GTR, FoSR, SDRF, BORF) on the same graphs: total effective resistance and spectral gap
(λ₂ of the normalised Laplacian) before and after, edges added/removed per graph, and pre-processing time per
graph; then time per graph against graph size on molecule-like graphs with a fitted exponent ``t ∝ n^b``.

Graph families: RingTransfer (n = 10, 20, 50; every graph of a set has the same ring), TreeNeighbourMatch
(depth 3–5; one tree per depth), the 10 CSL skip classes, generated molecule-like graphs (trees of max degree 4 with
5/6-ring closures, ZINC-sized: ~23 nodes), and, when ``$GRAPHBENCH_SHARED_DATA`` is set, real molecules from the
ogbg-molhiv SMILES and Peptides-func.

    python benchmarks/rewiring_measures.py            # ~ a few minutes on one core
    python benchmarks/rewiring_measures.py --quick    # fewer graphs and sizes

Single-threaded (BLAS and torch) so timings are comparable; all timings here are cold (the rewiring functions
called directly); ``benchmarks/rewiring_cache.py`` times the registered transforms cold vs read from the cache.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import math  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from graphbench.data.synthetic.csl import csl_graph  # noqa: E402
from graphbench.data.synthetic.long_range import ring_transfer, tree_neighbours_match  # noqa: E402
from graphbench.rewiring import (  # noqa: E402
    Rewiring,
    borf,
    fosr,
    gtr,
    laser,
    sdrf,
    spectral_gap,
    total_effective_resistance,
)

Edges = tuple[np.ndarray, np.ndarray, int]

#: One setting per method, from the papers' configs where they fit ZINC-sized graphs.
METHODS: dict[str, Callable[[Edges], Rewiring]] = {
    "LASER(L=3,rho=0.5)": lambda e: laser(e[:2], e[2], num_snapshots=3, rho=0.5, seed=0),
    "GTR(10)": lambda e: gtr(e[:2], e[2], num_edges=10),
    "FoSR(10)": lambda e: fosr(e[:2], e[2], num_edges=10, seed=0),
    "SDRF(10,tau=1,C+=0.5)": lambda e: sdrf(e[:2], e[2], loops=10, tau=1.0, removal_bound=0.5, seed=0),
    "BORF(2x+3-1)": lambda e: borf(e[:2], e[2], iterations=2, batch_add=3, batch_remove=1),
    "BORF(2x+3-0)": lambda e: borf(e[:2], e[2], iterations=2, batch_add=3, batch_remove=0),
}


def dgl_edges(g) -> Edges:
    s, d = g.edges()
    return s.numpy(), d.numpy(), g.num_nodes()


def molecule_like(n: int, rng: np.random.Generator) -> Edges:
    """A tree of max degree 4 (carbon-like valence) with about n/8 ring closures of length 5 or 6."""
    deg = np.zeros(n, dtype=int)
    parent = np.zeros(n, dtype=int)
    pairs = []
    for v in range(1, n):
        open_nodes = np.flatnonzero(deg[:v] < 3)
        u = int(rng.choice(open_nodes)) if open_nodes.size else int(rng.integers(v))
        pairs.append((u, v))
        deg[u] += 1
        deg[v] += 1
        parent[v] = u
    for _ in range(max(1, n // 8)):
        v = int(rng.integers(n))
        path = [v]
        while len(path) < int(rng.choice([5, 6])) and path[-1] != 0:
            path.append(int(parent[path[-1]]))
        a, b = path[0], path[-1]
        if len(path) >= 5 and deg[a] < 4 and deg[b] < 4 and (a, b) not in pairs and (b, a) not in pairs:
            pairs.append((a, b))
            deg[a] += 1
            deg[b] += 1
    e = np.asarray(pairs, dtype=np.int64)
    return np.concatenate([e[:, 0], e[:, 1]]), np.concatenate([e[:, 1], e[:, 0]]), n


def real_molecules(limit: int) -> dict[str, list[Edges]]:
    root = os.environ.get("GRAPHBENCH_SHARED_DATA")
    if not root:
        print("($GRAPHBENCH_SHARED_DATA not set: real molecules skipped)")
        return {}
    from graphbench.data.molecules import smiles_to_graphs

    out = {}
    hiv = Path(root, "molecules/HIV/HIV.csv")
    if hiv.exists():
        smiles = pd.read_csv(hiv).dropna(how="all")["smiles"].tolist()[:limit]
        graphs = smiles_to_graphs(smiles, workers=1)[0]
        out["molhiv (real)"] = [dgl_edges(g) for g in graphs if g.num_nodes() > 1]
    pep = Path(root, "molecules/peptides-func/raw/peptide_multi_class_dataset.csv.gz")
    if pep.exists():
        with gzip.open(pep, "rt") as f:
            smiles = pd.read_csv(f)["smiles"].tolist()[: max(3, limit // 20)]
        graphs = smiles_to_graphs(smiles, workers=1)[0]
        out["peptides-func (real)"] = [dgl_edges(g) for g in graphs]
    return out


def families(quick: bool) -> dict[str, list[Edges]]:
    fam: dict[str, list[Edges]] = {}
    for n in (10, 20, 50):
        fam[f"RingTransfer n={n}"] = [dgl_edges(ring_transfer(n, num_graphs=1)[0][0])]
    for depth in (3, 4, 5):
        fam[f"TreeNeighbourMatch d={depth}"] = [dgl_edges(tree_neighbours_match(depth, max_examples=1)[0][0])]
    skips = (2, 3, 4, 5, 6, 9, 11, 12, 13, 16)
    fam["CSL (10 classes)"] = [dgl_edges(csl_graph(41, s)) for s in skips]
    rng = np.random.default_rng(0)
    fam["molecule-like n~23"] = [molecule_like(int(rng.integers(18, 29)), rng) for _ in range(8 if quick else 30)]
    fam.update(real_molecules(30 if quick else 100))
    return fam


def measure(e: Edges) -> tuple[float, float]:
    """(R_tot, λ₂); R_tot is inf and λ₂ is 0 for a disconnected graph."""
    return total_effective_resistance(e[:2], e[2]), spectral_gap(e[:2], e[2])


def timed(fn: Callable[[Edges], Rewiring], e: Edges, repeats: int) -> tuple[Rewiring, float]:
    """Result and the best of ``repeats`` cold runs (the machine is shared: the minimum is the least noisy)."""
    best, out = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn(e)
        best = min(best, time.perf_counter() - t0)
    return out, best


def fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.4g}"


def quality_table(fam: dict[str, list[Edges]]) -> pd.DataFrame:
    rows = []
    for name, graphs in fam.items():
        base = [measure(e) for e in graphs]
        for method, fn in METHODS.items():
            res, times = [], []
            for e in graphs:
                rw, t = timed(fn, e, 1)
                times.append(t)
                res.append((rw.num_added, rw.num_removed, *measure((rw.src, rw.dst, rw.num_nodes))))
            added, removed, r_after, gap_after = (np.array(c, dtype=float) for c in zip(*res))
            r_before = np.array([b[0] for b in base])
            gap_before = np.array([b[1] for b in base])
            ratio = np.where(np.isfinite(r_after), r_after / r_before, np.inf)
            rows.append({
                "graphs": name, "method": method, "n": np.mean([e[2] for e in graphs]),
                "added/graph": added.mean(), "removed/graph": removed.mean(),
                "R_tot before": np.median(r_before), "R_tot after": np.median(r_after),
                "R_tot after/before": np.median(ratio), "R lowered (%)": 100 * np.mean(ratio < 1 - 1e-12),
                "gap before": np.median(gap_before), "gap after": np.median(gap_after),
                "gap raised (%)": 100 * np.mean(gap_after > gap_before + 1e-12),
                "connected after (%)": 100 * np.mean(gap_after > 0),
                "ms/graph": 1000 * np.mean(times),
            })
    return pd.DataFrame(rows)


def scaling_table(sizes: list[int], per_size: int, repeats: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    graphs = {n: [molecule_like(n, rng) for _ in range(per_size)] for n in sizes}
    rows = []
    for method, fn in METHODS.items():
        fn(graphs[sizes[0]][0])  # warm-up (imports, first-call overheads)
        ts = np.array([np.mean([timed(fn, e, repeats)[1] for e in graphs[n]]) for n in sizes])
        b_all = np.polyfit(np.log(sizes), np.log(ts), 1)[0]
        b_top = np.polyfit(np.log(sizes[-3:]), np.log(ts[-3:]), 1)[0]
        rows.append({"method": method, **{f"n={n} (ms)": 1000 * t for n, t in zip(sizes, ts)},
                     "b (all sizes)": b_all, f"b (n>={sizes[-3]})": b_top})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer graphs and sizes")
    args = ap.parse_args()
    torch.set_num_threads(1)
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    t0 = time.perf_counter()
    fam = families(args.quick)
    for fn in METHODS.values():  # warm-up so the first family's timings hold no first-call overhead
        fn(next(iter(fam.values()))[0])
    q = quality_table(fam)
    print("\n== Total effective resistance (median over graphs) and spectral gap, before → after ==")
    print(q.to_string(index=False, float_format=fmt))
    sizes = [16, 32, 64, 128, 256] if args.quick else [16, 32, 64, 128, 256, 512]
    s = scaling_table(sizes, 2 if args.quick else 3, 2)
    print("\n== Pre-processing time per graph vs size (molecule-like graphs, cold, 1 thread); t ∝ n^b ==")
    print(s.to_string(index=False, float_format=fmt))
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
