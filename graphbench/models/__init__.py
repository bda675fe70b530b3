"""Model registry entries. Importing this package registers the built-in models; ``build_model`` builds one."""

from __future__ import annotations

from typing import Any

from torch import nn

from graphbench.hparams import validate
from graphbench.models import drew, gat, gcn, gin, laser, omega, pathnn, prmpnn, relational_gcn, relational_gin, sage  # noqa: F401,E501  (registration side effect)
from graphbench.models.base import COMMON_HPARAMS, MessagePassingNet
from graphbench.registry import MODELS


def model_hparams(name: str, given: dict[str, Any] | None = None) -> dict[str, Any]:
    """The model's declared hyperparameters with ``given`` applied and validated."""
    entry = MODELS.get(name)
    resolved = validate(entry.meta.get("hparams", COMMON_HPARAMS), given or {}, what=f"model {entry.name!r}")
    if "check" in entry.meta:
        entry.meta["check"](resolved)
    return resolved


def build_model(name: str, in_dim, out_dim: int, *, task_level: str = "graph", edge_dim=None, pe_dim: int = 0,
                **hparams: Any) -> nn.Module:
    """Build the registered model ``name`` with validated hyperparameters (defaults for those not given)."""
    entry = MODELS.get(name)
    levels = entry.meta.get("task_levels", ("graph", "node"))
    if task_level not in levels:
        raise ValueError(f"model {entry.name!r} supports {', '.join(levels)}-level tasks, not {task_level!r}")
    resolved = model_hparams(name, hparams)
    # edge features reach a model that can read them, unless its edge_features hparam (EDGE_FEATURES_HPARAM) is off
    if not entry.meta.get("edge_features", False) or not resolved.pop("edge_features", True):
        edge_dim = None
    return entry.obj(in_dim, out_dim, task_level=task_level, edge_dim=edge_dim, pe_dim=pe_dim, **resolved)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


__all__ = ["MODELS", "MessagePassingNet", "build_model", "count_parameters", "model_hparams"]

# subgraph GNNs (issue 14), one file per family; registration side effect
from graphbench.models import kl_gnn, spen, sswl  # noqa: E402, F401
