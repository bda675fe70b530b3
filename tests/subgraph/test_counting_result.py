"""Issue 14, result 2 in miniature: GIN cannot count triangles, a node-based subgraph GNN can.

The graphs are disjoint unions of cycles, all 2-regular: graphs with the same number of nodes are 1-WL-equivalent
(every node has the same colour at every round), so any GIN gives them the same output whatever its weights,
although their triangle counts differ (two triangles vs a hexagon: 2 vs 0). The best any 1-WL-bounded model can
do on the set is therefore the sum, per node count, of the absolute deviations from the group's median: an exact
floor (0.75 here). The weakest subgraph GNN of the SSWL hierarchy (the registered ``swl``: {uL}, distance
encoding; built and batched as the trainer does) fits the same counts far below that floor after 200 full-batch
Adam steps (MAE < 0.004 for each of seeds 0-7 in a check; asserted < 0.1 × floor).
"""

from __future__ import annotations

import dgl
import networkx as nx
import numpy as np
import pytest
import torch

from graphbench.data.base import GraphDataset, Split
from graphbench.data.synthetic.counting import count_substructures
from graphbench.models import build_model
from graphbench.train.runner import resolve_hparams
from graphbench.transforms.apply import prepare
from graphbench.transforms.base import pe_width
from graphbench.transforms.batch import Collator
from graphbench.transforms.config import run_steps


def cycle_union(*lengths: int) -> nx.Graph:
    return nx.disjoint_union_all([nx.cycle_graph(k) for k in lengths])


# 1-WL-equivalent groups (same node count, all 2-regular) with different triangle counts.
GROUPS = [[(3, 3), (6,)], [(3, 5), (8,), (4, 4)], [(3, 3, 3), (3, 6), (9,)]]


def dataset() -> tuple[list[dgl.DGLGraph], torch.Tensor, list[int]]:
    graphs, ys, group = [], [], []
    for gi, members in enumerate(GROUPS):
        for lengths in members:
            g = cycle_union(*lengths)
            ys.append(count_substructures(nx.to_numpy_array(g, dtype=np.int64))["triangle"])
            graphs.append(dgl.from_networkx(g))
            group.append(gi)
    return graphs, torch.tensor(ys, dtype=torch.float64).view(-1, 1), group


def registered(name: str, graphs: list[dgl.DGLGraph], y: torch.Tensor, **hparams):
    """A registered model and the batch of ``graphs`` exactly as the trainer builds them (the model's input
    transforms, the dataset's feature specs, the trainer's collator), in float64."""
    idx = np.arange(len(graphs))
    ds = GraphDataset("cycle-unions", graphs, y.float(), "graph", "regression", "mae",
                      [Split("unused", idx[:-2], idx[-2:-1], idx[-1:])], num_classes=1)
    model_hp, train_hp = resolve_hparams(name, hparams)
    steps = run_steps(name, model_hp, train_hp)
    ds = prepare(ds, steps, use_cache=False, workers=1)
    model = build_model(name, ds.node_features, 1, task_level="graph", edge_dim=ds.edge_features,
                        pe_dim=pe_width(steps), **model_hp).double()
    collator = Collator.for_outputs(getattr(ds, "outputs", {}), getattr(model, "extras", {}), ds.graphs[0])
    batch = collator.batch(ds.graphs, getattr(ds, "extras", None) if collator.extras else None)
    return model, batch


def wl_floor(y: torch.Tensor, group: list[int]) -> float:
    """Lowest MAE of any function constant on each group (the group median)."""
    total = 0.0
    for gi in set(group):
        vals = y[[i for i, g in enumerate(group) if g == gi]].view(-1)
        total += float((vals - vals.median()).abs().sum())
    return total / len(y)


def fit(model, forward, y: torch.Tensor, steps: int, lr: float = 1e-2) -> float:
    """Full-batch Adam on the squared error with cosine decay (reliable across seeds); returns the final MAE."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.mse_loss(forward(), y).backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        return float((forward() - y).abs().mean())


def test_triangle_counts_are_as_claimed():
    graphs, y, group = dataset()
    assert y.view(-1).tolist() == [2, 0, 1, 0, 0, 3, 1, 0]
    floor = wl_floor(y, group)
    assert floor == pytest.approx(0.75)


def test_gin_is_stuck_at_the_1wl_floor_and_a_subgraph_gnn_is_not():
    torch.manual_seed(0)
    graphs, y, group = dataset()
    floor = wl_floor(y, group)
    gin, gin_batch = registered("gin", graphs, y, hidden=16, layers=3, norm="none")
    gin_mae = fit(gin, lambda: gin(gin_batch), y, steps=100)
    with torch.no_grad():
        out = gin(gin_batch).view(-1)
    for gi in set(group):  # identical outputs inside each 1-WL class, after training
        idx = [i for i, k in enumerate(group) if k == gi]
        assert torch.allclose(out[idx], out[idx[0]].expand(len(idx)), atol=1e-9)
    assert gin_mae >= floor - 1e-6

    swl, swl_batch = registered("swl", graphs, y, hidden=16, layers=2, norm="none", policy="distance")
    swl_mae = fit(swl, lambda: swl(swl_batch), y, steps=200)
    assert swl_mae < 0.1 * floor, (swl_mae, floor)
