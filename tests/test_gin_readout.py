"""GIN's all-layer readout (Xu et al. Eq. 4.2) keeps training where the last-layer sum readout + ReLU head dies.

Issue 9 point 6: at lr 0.01 / dropout 0.5 / sum readout (a point of Errica et al.'s grid) the old readout fed a
size-scaled sum into a ReLU MLP head whose units died, leaving a constant predictor. ``benchmarks/gin_readout.py``
shows the collapse on ENZYMES (best epoch 2, loss at ln 6, 6 of 64 head units alive) next to the fix.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from graphbench.models import build_model
from graphbench.train.config import TrainConfig
from graphbench.train.runner import get_dataset, resolve_hparams
from graphbench.train.seed import set_seed
from graphbench.train.trainer import Trainer

ERRICA_POINT = dict(hidden=64, layers=4, dropout=0.5, readout="sum", lr=0.01, batch_size=32, scheduler="step",
                    lr_step=50, lr_factor=0.5, epochs=30, patience=20)


def _fit(ds, fold: int, **extra) -> tuple[float, torch.nn.Module]:
    model_hp, train_hp = resolve_hparams("gin", {**ERRICA_POINT, **extra})
    set_seed(0)
    model = build_model("gin", ds.node_features, ds.num_classes, task_level="graph", **model_hp)
    res = Trainer(model, ds, ds.splits[fold], TrainConfig.from_dict(train_hp), seed=0).fit()
    return res.test_metric, model


@pytest.mark.data
def test_gin_at_lr001_dropout05_sum_readout_beats_the_majority_rate_on_every_fold(shared_data):
    torch.set_num_threads(1)
    ds = get_dataset("mutag", str(shared_data))
    majority = np.bincount(ds.labels.numpy()).max() / len(ds.labels)
    accs = [_fit(ds, fold)[0] for fold in (0, 1, 2)]  # GIN's defaults: all-layer readout, no residual
    assert min(accs) > majority, (accs, majority)


@pytest.mark.data
@pytest.mark.slow
def test_old_last_layer_readout_dies_on_enzymes_and_the_all_layer_readout_does_not(shared_data):
    torch.set_num_threads(1)
    ds = get_dataset("enzymes", str(shared_data))
    old, model = _fit(ds, 0, layer_readout="last", layer_dropout=True, residual=True)
    from dgl import batch

    from graphbench.nn.readout import readout

    g = batch([ds.graphs[int(i)] for i in ds.splits[0].test])
    with torch.no_grad():
        model.eval()
        pooled = readout(g, model.node_states(g, g.ndata["feat"]), model.readout_op)
        alive = (torch.relu(model.head.linears[0](pooled)) > 0).any(0).float().mean().item()
    new, _ = _fit(ds, 0)
    assert old < 0.25 and alive < 0.25  # near the majority rate 1/6, most head units dead
    assert new > 0.3
