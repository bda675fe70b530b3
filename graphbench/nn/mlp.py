"""Multi-layer perceptron and normalisation factory."""

from __future__ import annotations

import torch
from torch import nn

NORMS = ("batch", "layer", "none")


def make_norm(kind: str, dim: int) -> nn.Module:
    """``batch`` → BatchNorm1d, ``layer`` → LayerNorm, ``none`` → Identity."""
    if kind == "batch":
        return nn.BatchNorm1d(dim)
    if kind == "layer":
        return nn.LayerNorm(dim)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"unknown norm {kind!r}; choose one of {NORMS}")


class MLP(nn.Module):
    """``num_layers`` linear layers with norm, ReLU and dropout between them (none after the last).

    Shapes: ``[*, in_dim] -> [*, out_dim]``.
    """

    def __init__(self, in_dim: int, hidden: int, out_dim: int, num_layers: int = 2, *, norm: str = "none",
                 dropout: float = 0.0) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError("an MLP needs at least one layer")
        dims = [in_dim] + [hidden] * (num_layers - 1) + [out_dim]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims[:-1], dims[1:]))
        self.norms = nn.ModuleList(make_norm(norm, d) for d in dims[1:-1])
        self.dropout = nn.Dropout(dropout)

    def reset_parameters(self) -> None:
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, lin in enumerate(self.linears):
            x = lin(x)
            if i < len(self.norms):
                x = self.dropout(torch.relu(self.norms[i](x)))
        return x
