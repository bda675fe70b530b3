"""PathNN's own "iso" expressiveness test (Michel et al., ICML 2023, synthetic/main.py; docs/models/pathnn.md §5)
on SR25, EXP, CSL and wl-pairs: an untrained model (float64, eval mode, ``--seeds``) embeds every graph once; a pair of
non-isomorphic graphs counts as *separated* when its embeddings differ by more than ``--tol`` (the paper's 1e-5,
L2). Complements ``graphbench expressiveness`` (BREC's RPC with 4q relabelled copies per pair), whose all-copies
batch does not fit in memory for AP at K >= 4 on SR25 (25 nodes, 12-regular: 36.6k paths per graph at K = 4,
333k at K = 5).

Each graph goes through the trainer's pipeline: the model's ``input_transforms`` (the ``paths`` transform), the
Collator, ``model(batch)``. As a check that a separation is not numerical noise, each graph is also embedded under
``--copies`` random relabellings: the largest deviation from the original embedding (``invariance``) must be far
below ``--tol`` for SP+ / AP (SP's one-path-per-pair choice depends on the node order, so it may not be).

The reference's synthetic configs normalise node states before each layer (``--l2-norm``, PathNN's ``l2_norm``);
without it the sums over thousands of AP paths saturate the LSTM and separate fewer pairs.

    OMP_NUM_THREADS=1 PYTHONPATH=. python benchmarks/pathnn_iso.py --dataset sr25 --l2-norm \
        --models pathnn-sp:3 pathnn-sp-plus:3 pathnn-ap:3 pathnn-ap:4 pathnn-ap:5 gin
"""

from __future__ import annotations

import argparse
import time

import dgl
import numpy as np
import torch

from graphbench.expressiveness.pairs import load_pairs
from graphbench.models import build_model
from graphbench.registry import MODELS
from graphbench.transforms import Collator
from graphbench.transforms.apply import apply_steps, chain_outputs
from graphbench.transforms.base import resolve_step


def relabel(g: dgl.DGLGraph, rng: np.random.Generator) -> dgl.DGLGraph:
    perm = torch.from_numpy(rng.permutation(g.num_nodes()))
    s, d = g.edges()
    order = torch.from_numpy(rng.permutation(g.num_edges()))
    out = dgl.graph((perm[s][order], perm[d][order]), num_nodes=g.num_nodes())
    inv = torch.argsort(perm)
    for k, v in g.ndata.items():
        out.ndata[k] = v[inv]
    for k, v in g.edata.items():
        out.edata[k] = v[order]
    return out


def embedder(name: str, cutoff: int | None, ds, hidden: int, seed: int, max_paths: int, l2_norm: bool = False):
    hp = {"hidden": hidden}
    if cutoff is not None:
        hp.update(cutoff=cutoff, max_paths=max_paths, l2_norm=l2_norm)
    torch.manual_seed(seed)
    model = build_model(name, ds.node_spec, 16, task_level="graph", edge_dim=ds.edge_spec, **hp)
    model = model.double().eval()
    extra = getattr(MODELS.get(name).obj, "input_transforms", None)
    steps = [resolve_step(e) for e in extra(hp)] if callable(extra) else []
    collator = Collator.for_outputs(chain_outputs(steps), getattr(model, "extras", {}))

    @torch.no_grad()
    def embed(g: dgl.DGLGraph) -> torch.Tensor:
        g2, x = apply_steps(g, steps) if steps else (g, {})
        for data in (g2.ndata, g2.edata):
            for k, v in list(data.items()):
                if v.dtype.is_floating_point:
                    data[k] = v.double()
        return model(collator.batch([g2], [x] if steps else None))[0]

    return embed


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="sr25")
    p.add_argument("--data-root", default=None)
    p.add_argument("--models", nargs="+", default=["pathnn-sp:3", "pathnn-sp-plus:3", "pathnn-ap:3", "pathnn-ap:4",
                                                  "gin"], help="MODEL or MODEL:CUTOFF")
    p.add_argument("--hidden", type=int, default=16)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--tol", type=float, default=1e-5)
    p.add_argument("--copies", type=int, default=2)
    p.add_argument("--max-pairs", type=int, default=None)
    p.add_argument("--max-paths", type=int, default=2_000_000, help="the paths transform's cap per graph (SR25 "
                   "AP at K = 5 has 391k paths per graph)")
    p.add_argument("--l2-norm", action="store_true", help="PathNN's l2_norm (the synthetic reference's configs "
                   "turn it on)")
    a = p.parse_args()
    torch.set_num_threads(1)
    ds = load_pairs(a.dataset, a.data_root, max_pairs=a.max_pairs)  # the protocol's pairs (CSL: across classes)
    pairs = [tuple(map(int, pr)) for pr in ds.pairs]
    used = sorted({i for pr in pairs for i in pr})
    rng = np.random.default_rng(0)
    print(f"{a.dataset}: {len(pairs)} pairs over {len(used)} graphs; separated = ||z1 - z2|| > {a.tol}")
    print(f"{'model':<16} {'K':>2} {'seed':>4} {'separated':>10} {'failure rate':>12} {'invariance':>11} "
          f"{'min gap':>9} {'time s':>7}")
    for spec in a.models:
        name, _, k = spec.partition(":")
        for seed in a.seeds:
            t0 = time.perf_counter()
            embed = embedder(name, int(k) if k else None, ds, a.hidden, seed, a.max_paths, a.l2_norm)
            z = {i: embed(ds.graphs[i]) for i in used}
            inv = max((float((embed(relabel(ds.graphs[i], rng)) - z[i]).norm()) for i in used
                       for _ in range(a.copies)), default=0.0)
            gaps = np.array([float((z[i] - z[j]).norm()) for i, j in pairs])
            sep = int((gaps > a.tol).sum())
            print(f"{name:<16} {k or '-':>2} {seed:>4} {sep:>5}/{len(pairs):<4} {1 - sep / len(pairs):>12.3f} "
                  f"{inv:>11.1e} {gaps.min():>9.1e} {time.perf_counter() - t0:>7.1f}", flush=True)


if __name__ == "__main__":
    main()
