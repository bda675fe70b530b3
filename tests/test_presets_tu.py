"""The TU presets of PathNN (``michel2023-tu*``) and PR-MPNN (``qian2024-tu``) and the published rows they reproduce
(docs/models/pathnn.md §6, docs/models/prmpnn.md §8)."""

from __future__ import annotations

import io
import re

import pytest

import graphbench.models  # noqa: F401  (registers the presets)
from graphbench.models import build_model, count_parameters
from graphbench.preset_counts import build_preset_model
from graphbench.presets import get_preset
from graphbench.published import published
from graphbench.reproduce import plan as plan_mod

PATHNN = ("pathnn-sp", "pathnn-sp-plus", "pathnn-ap")
PATH_TYPE = {"pathnn-sp": "shortest_path", "pathnn-sp-plus": "all_shortest_paths", "pathnn-ap": "all_simple_paths"}


def _tu_rows(models: tuple[str, ...], protocol: str) -> list[tuple[str, str, str, str]]:
    rows = published()
    rows = rows[rows["model"].isin(models) & (rows["protocol"] == protocol)]
    return [(r.model, r.preset, r.dataset, r.source) for r in rows.itertuples()]


PATHNN_ROWS = _tu_rows(PATHNN, "errica-10fold")
PRMPNN_ROWS = _tu_rows(("pr-mpnn",), "prmpnn-tu-10fold")


def test_every_tu_row_has_a_preset():
    """The 12 PathNN rows of the released TU logs and the 4 PR-MPNN TU rows all name a preset that ran there."""
    assert len(PATHNN_ROWS) == 12 and len(PRMPNN_ROWS) == 4
    for model, preset, dataset, _ in PATHNN_ROWS + PRMPNN_ROWS:
        assert isinstance(preset, str) and preset not in ("", "-"), (model, dataset)
        assert get_preset(model, preset).applies_to(dataset), (model, preset, dataset)


@pytest.mark.parametrize("row", PATHNN_ROWS, ids=[f"{r[0]}/{r[2]}" for r in PATHNN_ROWS])
def test_pathnn_tu_preset_is_the_run_that_wrote_the_rows_log(row):
    """Cutoff, batch size and path type are those in the row's log name (main_splits.py names its log
    ``cutoff_K_path_TYPE_bs_B_residuals``); the grid, schedule and stopping rule are main_splits.py's."""
    model, name, dataset, source = row
    log = re.search(r"PathNN_cutoff_(\d+)_path_(\w+?)_bs_(\d+)_residuals", source)
    assert log, source
    hp = get_preset(model, name).hparams
    assert hp["cutoff"] == int(log.group(1)) and log.group(2) == PATH_TYPE[model]
    assert hp["batch_size"] == int(log.group(3))
    assert hp["distance_encoding"] == (model == "pathnn-ap") and hp["residual"]
    preset = get_preset(model, name)
    assert preset.grid == {"dropout": [0.5, 0.0], "hidden": [64, 32]}
    assert (hp["dropout"], hp["hidden"]) == (0.5, 64)  # the grid's first point, the reference's tie winner
    assert (hp["readout"], hp["path_agg"], hp["head"]) == ("sum", "sum", "mlp")
    assert (hp["lr"], hp["weight_decay"], hp["scheduler"]) == (1e-3, 0.0, "none")
    assert (hp["epochs"], hp["patience"], hp["monitor"], hp["ties"]) == (500, 250, "val_metric", "later")


def _reference_patience(vals: list[float], patience: int = 250, epochs: int = 500) -> tuple[int, int]:
    """TUDatasets/utils.py Patience(use_loss=False) as main_splits.py drives it: an accuracy >= the best resets the
    counter and becomes the kept epoch; stop once the counter reaches ``patience``. Returns (epochs run, kept epoch),
    both 1-based."""
    best, counter, kept = -float("inf"), -1, 0
    for epoch in range(epochs):
        if vals[epoch] >= best:
            best, counter, kept = vals[epoch], 0, epoch + 1
        else:
            counter += 1
            if counter >= patience:
                return epoch + 1, kept
    return epochs, kept


@pytest.mark.parametrize("curve", ["tie-late", "peak-early", "never-stops"])
def test_pathnn_tu_stopping_and_kept_epoch_are_the_references(monkeypatch, curve):
    """On scripted validation accuracies the preset's trainer runs as many epochs and keeps the same epoch as the
    reference's Patience(250) (a tie moves the kept epoch later and restarts the count)."""
    from graphbench.data import load_dataset
    from graphbench.train.config import TrainConfig
    from graphbench.train.trainer import Trainer

    if curve == "tie-late":  # best 0.6 at epoch 40, equalled at epoch 140, lower otherwise
        vals = [0.6 if e in (40, 140) else 0.5 for e in range(1, 501)]
    elif curve == "peak-early":
        vals = [0.7 if e == 3 else 0.4 + 0.0001 * e for e in range(1, 501)]
    else:  # rises slowly to the end
        vals = [0.3 + 0.001 * e for e in range(1, 501)]
    preset = get_preset("pathnn-sp", "michel2023-tu")
    cfg = TrainConfig(**{k: v for k, v in preset.hparams.items() if k in TrainConfig.__dataclass_fields__})
    ds = load_dataset("csl")
    trainer = Trainer(build_model("gcn", ds.node_features, 10, hidden=4, layers=1), ds, ds.splits[0], cfg)
    script = iter(vals)
    monkeypatch.setattr(trainer, "_train_epoch", lambda opt, epoch: 1.0)
    monkeypatch.setattr(trainer, "evaluate_with_loss", lambda index: (next(script), 1.0))
    res = trainer.fit()
    assert (res.epochs, res.best_epoch) == _reference_patience(vals)


def test_prmpnn_tu_preset_is_the_proteins_config():
    """configs/proteins/edge_candidate/best_config.yaml of the backup branch, translated."""
    hp = get_preset("pr-mpnn", "qian2024-tu").hparams
    assert (hp["add_k"], hp["del_k"], hp["candidates"], hp["priors"], hp["samples"]) == (10, 10, 1024, 3, 5)
    assert (hp["up_layers"], hp["up_hidden"], hp["score_layers"]) == (8, 32, 2)
    assert (hp["layers"], hp["hidden"], hp["dropout"], hp["readout"], hp["head_layers"]) == (4, 32, 0.1, "mean", 4)
    assert (hp["lr_patience"], hp["lr_factor"], hp["plateau_mode"]) == (30, 0.5, "max")
    # early_stop.patience 50 / min_epochs 200 counted the reference's way (docs/models/prmpnn.md §6)
    assert (hp["patience"], hp["min_epochs"], hp["epochs"], hp["batch_size"]) == (51, 202, 1000, 128)
    net = build_preset_model(get_preset("pr-mpnn", "qian2024-tu"), "mutag")
    assert len(net.convs) == 4 and count_parameters(net) > count_parameters(
        build_preset_model(get_preset("pr-mpnn", "qian2024-tu"), "proteins"))  # MUTAG's bond encoders


@pytest.mark.parametrize("row", PATHNN_ROWS + PRMPNN_ROWS, ids=[f"{r[0]}/{r[2]}" for r in PATHNN_ROWS + PRMPNN_ROWS])
def test_reproduce_plans_every_tu_row(row):
    """`graphbench reproduce` plans each row: PathNN searches its 4-point grid inside every outer fold and re-trains
    3 times per fold (errica-10fold); PR-MPNN runs its one configuration once per fold (runs 10 over 10 folds)."""
    model, name, dataset, _ = row
    plan = plan_mod.make_plan(model, name, dataset)
    assert plan.per_fold and plan.preset.name == name
    if model == "pr-mpnn":
        assert (plan.trials, plan.final_seeds, plan.holdout) == (1, (0,), None)
        assert plan.sweep(plan_mod.Path("/tmp"))["models"][model] == {"preset": name}
    else:
        assert (plan.trials, plan.grid_size, plan.final_seeds, plan.holdout) == (4, 4, (0, 1, 2), 0.1)
        entry = plan.sweep(plan_mod.Path("/tmp"))["models"][model]
        assert entry == {"preset": name, "search_space": "preset"}
    assert any("preset deviations" in d for d in plan.differences)


@pytest.mark.data
def test_reproduce_dry_run_of_pathnn_sp_on_enzymes(shared_data, tmp_path):
    """The dry run prints the 10 per-fold studies of 4 grid points + 3 final runs and a measured CPU-hour bound."""
    from graphbench.reproduce.run import reproduce

    root = tmp_path / "data"  # the shared files linked in, the caches written here
    root.mkdir()
    for entry in shared_data.iterdir():
        (root / entry.name).symlink_to(entry)
    text = io.StringIO()
    assert reproduce("pathnn-sp", "michel2023-tu", "enzymes", out_dir=tmp_path / "out", ledger=None, quiet=True,
                     dry_run=True, data_root=str(root), threads=1, out=text) == 0
    shown = text.getvalue()
    assert "/fold0" in shown and "/fold9" in shown and "at most 70 runs" in shown
    assert "measured:" in shown and "CPU-hours" in shown
