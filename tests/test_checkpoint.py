"""Epoch checkpoints: a run killed mid-training resumes where it stopped and ends with the uninterrupted row."""

from __future__ import annotations

import pytest

from graphbench.train.runner import RunSpec, run_one

# Dropout, shuffled batches and a step schedule: a resume that lost any random generator, the optimiser's moments
# or the schedule's position would end with other numbers.
HP = {"epochs": 9, "hidden": 16, "layers": 2, "dropout": 0.5, "batch_size": 16, "lr": 0.01, "pe": "rwse",
      "pe_dim": 8, "scheduler": "step", "lr_step": 3, "lr_factor": 0.5, "patience": 100}
COLS = ("train_metric", "val_metric", "test_metric", "best_epoch", "epochs", "status")


def _spec(checkpoint=None, **hp) -> RunSpec:
    return RunSpec("gin", "csl", seed=3, fold=1, hparams={**HP, **hp}, threads=1,
                   checkpoint=None if checkpoint is None else str(checkpoint), checkpoint_every_s=0.0)


def _kill_at(epoch: int):
    def callback(e: int, val: float) -> None:
        if e == epoch:
            raise KeyboardInterrupt  # what SIGINT / the sweep's SIGTERM handler raise inside a run
    return callback


def _interrupted(path, epoch: int, **hp) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_one(_spec(path, **hp), epoch_callback=_kill_at(epoch))


def test_a_run_killed_mid_training_resumes_from_its_checkpoint_with_the_uninterrupted_row(tmp_path, capfd):
    import torch

    whole = run_one(_spec())
    path = tmp_path / "run.pt"
    _interrupted(path, 6)
    saved = torch.load(path, weights_only=False)
    assert saved["epoch"] == 5 and len(saved["history"]) == 5  # the last finished epoch before the kill
    assert saved["scheduler"]["last_epoch"] == 5
    resumed = run_one(_spec(path))
    assert "resuming from the checkpoint" in capfd.readouterr().err
    assert {c: resumed[c] for c in COLS} == {c: whole[c] for c in COLS}
    assert whole["status"] == "ok" and resumed["epochs"] == 9
    assert not path.exists()  # the run ended: nothing left to resume
    # The row's total time counts the time before the kill: at least the five epochs' training time.
    assert resumed["total_time_s"] >= saved["train_time"]


def test_an_ended_run_leaves_no_checkpoint_and_a_second_run_starts_over(tmp_path):
    path = tmp_path / "run.pt"
    first = run_one(_spec(path))
    assert not path.exists()
    again = run_one(_spec(path))
    assert {c: again[c] for c in COLS} == {c: first[c] for c in COLS}


def test_a_checkpoint_of_another_network_or_an_unreadable_one_is_ignored_and_the_run_starts_over(tmp_path, capfd):
    whole = run_one(_spec())
    path = tmp_path / "run.pt"
    _interrupted(path, 4, hidden=8)  # another width: its state does not load into this run's model
    row = run_one(_spec(path))
    assert "does not fit this run" in capfd.readouterr().err
    assert {c: row[c] for c in COLS} == {c: whole[c] for c in COLS}
    path.write_bytes(b"not a checkpoint")
    row = run_one(_spec(path))
    assert "unreadable checkpoint" in capfd.readouterr().err
    assert {c: row[c] for c in COLS} == {c: whole[c] for c in COLS} and not path.exists()


def test_a_run_killed_after_its_early_stop_resumes_without_training_another_epoch(tmp_path, monkeypatch):
    """Killed between the epoch where patience stops it and its final evaluation: the resumed run must not train
    the epoch the uninterrupted run never trained (the checkpoint is written after the stopping checks)."""
    from graphbench.train.trainer import Trainer

    hp = {"epochs": 40, "patience": 2}
    whole = run_one(_spec(**hp))
    assert whole["epochs"] < 40  # patience ended it
    path = tmp_path / "run.pt"
    evaluate = Trainer.evaluate

    def killed_once(self, index):
        monkeypatch.setattr(Trainer, "evaluate", evaluate)
        raise KeyboardInterrupt
    monkeypatch.setattr(Trainer, "evaluate", killed_once)  # only called after the epoch loop
    with pytest.raises(KeyboardInterrupt):
        run_one(_spec(path, **hp))
    resumed = run_one(_spec(path, **hp))
    assert {c: resumed[c] for c in COLS} == {c: whole[c] for c in COLS}
