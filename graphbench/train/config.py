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
    "patience": HParam(int, 50, "early stopping: epochs without validation improvement", low=1),
    "scheduler": HParam(str, "plateau", "learning-rate schedule", choices=("plateau", "cosine", "step", "none")),
    "lr_factor": HParam(float, 0.5, "plateau / step: factor applied to the lr", low=0.01, high=0.99),
    "lr_step": HParam(int, 50, "step: epochs between lr reductions (Xu et al., Errica et al.: 50)", low=1),
    "lr_patience": HParam(int, 10, "plateau: epochs without improvement before reducing the lr", low=1),
    "min_lr": HParam(float, 1e-5, "plateau: training stops once the lr falls below this", low=0.0),
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
    patience: int = 50
    scheduler: str = "plateau"
    lr_factor: float = 0.5
    lr_patience: int = 10
    lr_step: int = 50
    min_lr: float = 1e-5
    grad_clip: float = 0.0
    pe: str = "none"
    pe_dim: int = 16
    transforms: list = field(default_factory=list)

    @classmethod
    def from_dict(cls, given: dict[str, Any]) -> TrainConfig:
        return cls(**validate(TRAIN_HPARAMS, given, what="the trainer"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
