"""Trainer protocol: determinism, selection on validation, failures recorded, runs go on."""

from __future__ import annotations

import json

import torch
from torch import nn

import graphbench.api as gb
from graphbench.models.base import COMMON_HPARAMS, MessagePassingNet
from graphbench.registry import MODELS


def test_same_seed_same_numbers_different_seed_different_numbers():
    kw = dict(folds=[0], results=None, hparams={"epochs": 4, "hidden": 16, "pe": "rwse"}, deterministic=True)
    a, b = gb.run("gcn", "csl", seeds=[3], **kw), gb.run("gcn", "csl", seeds=[3], **kw)
    c = gb.run("gcn", "csl", seeds=[4], **kw)
    cols = ["train_metric", "val_metric", "test_metric", "best_epoch", "num_params"]
    assert a[cols].equals(b[cols])
    assert a["config_hash"].iloc[0] == c["config_hash"].iloc[0]  # seed is not part of the configuration
    assert json.loads(a["hparams"].iloc[0])["hidden"] == 16


def test_test_metric_comes_from_the_best_validation_epoch():
    from graphbench.data import load_dataset
    from graphbench.models import build_model
    from graphbench.train.config import TrainConfig
    from graphbench.train.runner import add_positional_encoding
    from graphbench.train.trainer import Trainer

    ds = load_dataset("csl")
    ds = add_positional_encoding(ds, "rwse", 8)
    torch.manual_seed(0)
    model = build_model("gin", ds.node_features, 10, hidden=16, layers=2, pe_dim=8)
    res = Trainer(model, ds, ds.splits[1], TrainConfig(epochs=12, lr=0.01, pe="rwse", pe_dim=8)).fit()
    vals = [h["val"] for h in res.history]
    assert res.best_epoch == 1 + vals.index(max(vals))  # first epoch reaching the best validation score
    assert res.val_metric == max(vals)


class _Exploding(MessagePassingNet):
    def make_conv(self, layer: int) -> nn.Module:
        return nn.Identity()

    def apply_conv(self, conv, graph, h, e):
        return h * float("nan")


def test_nan_loss_is_recorded_as_failed_and_the_next_run_goes_on(tmp_path):
    MODELS.add("exploding-test", _Exploding, override=True, hparams=COMMON_HPARAMS)
    path = tmp_path / "r.csv"
    df = gb.run(["exploding-test", "gcn"], "csl", folds=[0], hparams={"epochs": 2}, results=path)
    assert df["status"].tolist() == ["failed", "ok"]
    assert "loss became nan" in df["error"].iloc[0]
    stored = gb.read_results(path)
    assert stored["status"].tolist() == ["failed", "ok"] and stored["test_metric"].isna().iloc[0]
