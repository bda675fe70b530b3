"""What one family benchmark needs: graphbench's side (a registered model and its hyperparameters) and the
reference side (pre-processing, network, loss and prediction on PyG), on the same dataset."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from graphbench.data.base import GraphDataset


@dataclass(frozen=True)
class Reference:
    """The reference implementation's side, written on torch_geometric's public operators.

    ``preprocess(dataset)`` turns graphbench's dataset into the reference's inputs (a list of
    ``torch_geometric.data.Data``, with whatever the reference pre-computes: paths, product graphs, hop rings,
    rewired edges); it is timed as the reference's pre-processing. ``build(dataset, gb_model)`` returns the
    reference network with the same parameter count as ``gb_model`` (the harness prints both).
    ``loss(net, batch)`` is the training loss of one PyG batch and ``predict(net, batch)`` the network's output
    used for validation. ``follow_batch`` is passed to PyG's ``DataLoader``. ``source`` names the reference
    repository, commit and files whose structure this side follows.
    """

    preprocess: Callable[[GraphDataset], list]
    build: Callable[[GraphDataset, nn.Module], nn.Module]
    loss: Callable[[nn.Module, Any], torch.Tensor]
    predict: Callable[[nn.Module, Any], torch.Tensor]
    source: str
    follow_batch: tuple[str, ...] = ()


@dataclass(frozen=True)
class FamilyCase:
    """One row of the benchmark: graphbench's ``model`` with ``hparams`` (model and training keys, as a preset
    or run file gives them) against ``reference`` on ``dataset(data_root)``."""

    name: str
    model: str
    hparams: dict[str, Any]
    dataset: Callable[[str | None], GraphDataset]
    reference: Reference
    batch_size: int = 32
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
