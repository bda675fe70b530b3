"""Trainer protocol: determinism, selection on validation, failures recorded, runs go on."""

from __future__ import annotations

import json

import pytest
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


# -- selection and stopping options (issue 19: Errica et al.'s Patience stopper, PR-MPNN's min_epochs, FoSR's
# -- plateau on the training loss), each on a scripted validation sequence so that a wrong rule gives another epoch


def _scripted_fit(monkeypatch, vals, losses=None, train_losses=None, **cfg):
    """Fit a small GCN on CSL with the validation metric (and loss) of epoch ``e`` replaced by ``vals[e - 1]``
    (``losses[e - 1]``); returns the result and a snapshot of one weight after every epoch."""
    from graphbench.data import load_dataset
    from graphbench.models import build_model
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer

    ds = load_dataset("csl")
    torch.manual_seed(0)
    model = build_model("gcn", ds.node_features, 10, hidden=8, layers=1)
    seen = {"epoch": 0}
    losses = losses or [1.0] * len(vals)

    def scripted(self, index):
        seen["epoch"] += 1
        e = seen["epoch"] - 1
        return vals[e], losses[e]

    monkeypatch.setattr(Trainer, "evaluate_with_loss", scripted)
    if train_losses is not None:
        it = iter(train_losses)
        monkeypatch.setattr(Trainer, "_train_epoch", lambda self, opt, epoch: next(it))
    snapshots = {}

    def snapshot(epoch, val):
        snapshots[epoch] = model.convs[0].weight.detach().clone()

    config = TrainConfig(**{"epochs": len(vals), "lr": 0.05, "batch_size": 64, **cfg})
    res = Trainer(model, ds, ds.splits[0], config, epoch_callback=snapshot).fit()
    return res, model, snapshots


def test_ties_later_takes_the_later_epoch_and_earlier_keeps_the_first(monkeypatch):
    vals = [0.5, 0.7, 0.6, 0.7, 0.6, 0.65]
    res, model, snaps = _scripted_fit(monkeypatch, vals, patience=10)
    assert res.best_epoch == 2 and res.epochs == 6
    torch.testing.assert_close(model.convs[0].weight, snaps[2])  # the kept state is epoch 2's
    res, model, snaps = _scripted_fit(monkeypatch, vals, patience=10, ties="later")
    assert res.best_epoch == 4  # Errica et al.'s Patience: val_acc >= best
    torch.testing.assert_close(model.convs[0].weight, snaps[4])
    assert not torch.equal(snaps[2], snaps[4])


def test_ties_later_resets_the_patience_count(monkeypatch):
    # best 0.7 at epoch 2, equalled at epochs 4 and 6: with patience 3 the earlier rule stops at epoch 5
    vals = [0.5, 0.7, 0.6, 0.7, 0.6, 0.7, 0.6, 0.6, 0.6, 0.6]
    assert _scripted_fit(monkeypatch, vals, patience=3)[0].epochs == 5
    res = _scripted_fit(monkeypatch, vals, patience=3, ties="later")[0]
    assert (res.best_epoch, res.epochs) == (6, 9)


def test_improve_rel_needs_a_one_percent_gain_and_keep_last_scores_the_stopping_epoch(monkeypatch):
    # FoSR's / BORF's stopper: only a validation accuracy above 1.01 x the best resets the patience count, and the
    # state scored is the one training stopped with. 0.70 -> 0.705 is a gain of 0.7 %: not an improvement.
    vals = [0.5, 0.70, 0.705, 0.706, 0.69, 0.70, 0.69]
    res = _scripted_fit(monkeypatch, vals, patience=3)[0]
    assert (res.best_epoch, res.epochs) == (4, 7)  # any strict improvement counts
    res, model, snaps = _scripted_fit(monkeypatch, vals, patience=3, improve_rel=0.01)
    assert (res.best_epoch, res.epochs) == (2, 5)
    torch.testing.assert_close(model.convs[0].weight, snaps[2])
    res, model, snaps = _scripted_fit(monkeypatch, vals, patience=3, improve_rel=0.01, keep="last")
    assert (res.best_epoch, res.epochs) == (5, 5)
    torch.testing.assert_close(model.convs[0].weight, snaps[5])  # the last epoch's state, not epoch 2's
    assert not torch.equal(snaps[2], snaps[5])


def test_monitor_val_loss_selects_and_stops_on_the_validation_loss(monkeypatch):
    vals = [0.5, 0.9, 0.6, 0.6, 0.6, 0.6, 0.6, 0.6]
    losses = [1.0, 0.8, 0.5, 0.7, 0.9, 0.4, 0.9, 0.9]
    res, model, snaps = _scripted_fit(monkeypatch, vals, losses, patience=2)
    assert (res.best_epoch, res.epochs) == (2, 4)  # the accuracy's best
    res, model, snaps = _scripted_fit(monkeypatch, vals, losses, patience=2, monitor="val_loss")
    assert (res.best_epoch, res.epochs) == (3, 5)  # the loss's minimum, and patience counts from it
    torch.testing.assert_close(model.convs[0].weight, snaps[3])
    # a tie of the loss counts only with ties="later"
    tied = [1.0, 0.5, 0.6, 0.5, 0.9, 0.9, 0.9, 0.9]
    assert _scripted_fit(monkeypatch, vals, tied, patience=3, monitor="val_loss")[0].best_epoch == 2
    assert _scripted_fit(monkeypatch, vals, tied, patience=3, monitor="val_loss", ties="later")[0].best_epoch == 4


def test_min_epochs_prevents_an_earlier_stop(monkeypatch):
    vals = [0.9] + [0.1] * 9
    assert _scripted_fit(monkeypatch, vals, patience=2)[0].epochs == 3
    res = _scripted_fit(monkeypatch, vals, patience=2, min_epochs=7)[0]
    assert (res.best_epoch, res.epochs) == (1, 7)


def test_plateau_on_the_training_loss_and_forced_mode(monkeypatch):
    rising = [0.1 * e for e in range(1, 7)]  # the validation metric improves every epoch
    flat = [1.0] * 6
    plateau = dict(scheduler="plateau", lr_patience=1, lr_factor=0.5, patience=10, min_lr=0.0, lr=0.08)
    res = _scripted_fit(monkeypatch, rising, train_losses=flat, **plateau)[0]
    assert [h["lr"] for h in res.history] == [0.08] * 6  # on the metric: no plateau
    res = _scripted_fit(monkeypatch, rising, train_losses=flat, plateau_on="train_loss", **plateau)[0]
    # torch's ReduceLROnPlateau: the first value is the best, 2 bad epochs > patience 1 reduce, then cooldown 0
    assert [h["lr"] for h in res.history] == [0.08, 0.08, 0.08, 0.04, 0.04, 0.02]
    falling = [1.0 - 0.1 * e for e in range(6)]
    res = _scripted_fit(monkeypatch, rising, train_losses=falling, plateau_on="train_loss", **plateau)[0]
    assert [h["lr"] for h in res.history] == [0.08] * 6  # 'auto' minimises a loss: it improves every epoch
    res = _scripted_fit(monkeypatch, rising, train_losses=falling, plateau_on="train_loss", plateau_mode="max",
                        **plateau)[0]
    assert res.history[-1]["lr"] < 0.08  # forced 'max' reads the falling loss as a plateau


def test_lr_floor_holds_the_lr_and_training_goes_on(monkeypatch):
    rising = [0.1 * e for e in range(1, 9)]
    flat = [1.0] * 8
    plateau = dict(scheduler="plateau", lr_patience=0, lr_factor=0.5, patience=20, lr=0.08, plateau_on="train_loss")
    stopped = _scripted_fit(monkeypatch, rising, train_losses=flat, min_lr=0.03, **plateau)[0]
    assert len(stopped.history) < 8  # min_lr stops the run once the lr falls below it
    floored = _scripted_fit(monkeypatch, rising, train_losses=flat, min_lr=0.0, lr_floor=0.03, **plateau)[0]
    lrs = [h["lr"] for h in floored.history]
    assert len(lrs) == 8 and min(lrs) == pytest.approx(0.03) and lrs[-1] == pytest.approx(0.03)


def test_iters_per_epoch_draws_that_many_random_batches():
    from graphbench.data import load_dataset
    from graphbench.models import build_model
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer

    ds = load_dataset("csl")
    model = build_model("gcn", ds.node_features, 10, hidden=8, layers=1)
    split = ds.splits[0]
    trainer = Trainer(model, ds, split, TrainConfig(batch_size=7, iters_per_epoch=5))
    batches = list(trainer._loader(split.train, shuffle=True))
    assert len(batches) == 5 and all(b.graph.batch_size == 7 for b, _ in batches)
    one_pass = Trainer(model, ds, split, TrainConfig(batch_size=7))._loader(split.train, shuffle=True)
    assert len(list(one_pass)) == -(-len(split.train) // 7)
    # each draw is 7 distinct positions of the training part (without replacement), drawn anew per batch
    draws = list(trainer._loader(split.train, shuffle=True).batch_sampler)
    assert all(len(set(d)) == 7 and 0 <= min(d) and max(d) < len(split.train) for d in draws)
    assert len({tuple(d) for d in draws}) == 5
