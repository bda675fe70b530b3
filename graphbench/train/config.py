"""Training hyperparameters (the trainer's half of a run's configuration)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from graphbench.hparams import HParam, validate
from graphbench.transforms.config import TRANSFORMS_HPARAM

TRAIN_HPARAMS: dict[str, HParam] = {
    "epochs": HParam(int, 100, "maximum training epochs", low=1),
    "lr": HParam(float, 1e-3, "Adam learning rate", low=0.0, high=10.0, low_open=True),
    "weight_decay": HParam(float, 0.0, "Adam weight decay (L2)", low=0.0),
    "batch_size": HParam(int, 32, "graphs per mini-batch (graph-level tasks)", low=1),
    "iters_per_epoch": HParam(int, 0, "graph tasks: mini-batches per epoch, each batch_size training graphs drawn "
                              "at random anew (Xu et al.'s GIN code: 50); 0: one shuffled pass over the training set",
                              low=0),
    "patience": HParam(int, 50, "early stopping: epochs without validation improvement", low=1),
    "monitor": HParam(str, "val_metric", "what selects the kept epoch and drives early stopping: the validation "
                      "metric, or the validation loss (Errica et al.'s second early stopper)",
                      choices=("val_metric", "val_loss")),
    "ties": HParam(str, "earlier", "a monitored value equal to the best: keep the earlier epoch, or count it as an "
                   "improvement and take the later one (Errica et al.'s Patience stopper: val_acc >= best)",
                   choices=("earlier", "later")),
    "min_epochs": HParam(int, 0, "early stopping never stops before this many epochs (PR-MPNN: 250)", low=0),
    "improve_rel": HParam(float, 0.0, "an improvement must beat the best monitored value by this fraction (FoSR's and "
                          "BORF's stopper: 0.01, a validation accuracy 1% above the best); 0: any strict improvement",
                          low=0.0, high=1.0),
    "keep": HParam(str, "best", "the state scored at the end: the best monitored epoch's, or the last epoch's (FoSR's "
                   "and BORF's code report the accuracies of the epoch training stops at)", choices=("best", "last")),
    "scheduler": HParam(str, "plateau", "learning-rate schedule", choices=("plateau", "cosine", "step", "none")),
    "lr_factor": HParam(float, 0.5, "plateau / step: factor applied to the lr", low=0.01, high=0.99),
    "lr_step": HParam(int, 50, "step: epochs between lr reductions (Xu et al., Errica et al.: 50)", low=1),
    "lr_patience": HParam(int, 10, "plateau: epochs without improvement before reducing the lr", low=1),
    "plateau_on": HParam(str, "val_metric", "plateau: the quantity the schedule watches (FoSR: the training loss)",
                         choices=("val_metric", "val_loss", "train_loss")),
    "plateau_mode": HParam(str, "auto", "plateau: 'auto' minimises losses and follows the metric's direction; "
                           "'min' / 'max' force torch's mode (PathNN's Peptides code steps 'min' on AP, a metric "
                           "to maximise)", choices=("auto", "min", "max")),
    "min_lr": HParam(float, 1e-5, "plateau: training stops once the lr falls below this (0: never)", low=0.0),
    "lr_floor": HParam(float, 0.0, "plateau: the lr is never reduced below this and training goes on (torch's "
                       "ReduceLROnPlateau min_lr; GraphGym's configs, DRew, LASER: 1e-5)", low=0.0),
    "grad_clip": HParam(float, 0.0, "clip the gradient norm to this value (0: off)", low=0.0),
    "pe": HParam(str, "none", "positional/structural encoding added to the input (appended to the transform chain)",
                 choices=("none", "rwse", "lappe")),
    "pe_dim": HParam(int, 16, "width of the encoding: RWSE walk steps, LapPE eigenvectors", low=1),
    "transforms": TRANSFORMS_HPARAM,
}


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 100
    lr: float = 1e-3
    weight_decay: float = 0.0
    batch_size: int = 32
    iters_per_epoch: int = 0
    patience: int = 50
    monitor: str = "val_metric"
    ties: str = "earlier"
    min_epochs: int = 0
    improve_rel: float = 0.0
    keep: str = "best"
    scheduler: str = "plateau"
    lr_factor: float = 0.5
    lr_patience: int = 10
    plateau_on: str = "val_metric"
    plateau_mode: str = "auto"
    lr_step: int = 50
    min_lr: float = 1e-5
    lr_floor: float = 0.0
    grad_clip: float = 0.0
    pe: str = "none"
    pe_dim: int = 16
    transforms: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, given: dict[str, Any]) -> TrainConfig:
        return cls(**validate(TRAIN_HPARAMS, given, what="the trainer"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
