"""Input encoders: raw node/edge features (dense, categorical or absent) plus optional positional encodings
mapped to the hidden width."""

from __future__ import annotations

import torch
from torch import nn

from graphbench.data.base import FeatureSpec


class FeatureEncoder(nn.Module):
    """Embed raw features of one kind into ``hidden`` dimensions.

    - dense ``[n, dim]`` floats: a linear map;
    - categorical ``[n, k]`` longs: the sum of one embedding table per column (OGB's AtomEncoder scheme);
    - none: one learned constant vector for every element (all nodes look alike: the 1-WL starting colouring).

    ``pe_dim > 0`` adds a linear map of a positional/structural encoding (``[n, pe_dim]``) to the result.
    """

    def __init__(self, spec: FeatureSpec, hidden: int, *, pe_dim: int = 0) -> None:
        super().__init__()
        self.spec = spec
        if spec.kind == "dense":
            self.dense = nn.Linear(spec.dim, hidden)
        elif spec.kind == "categorical":
            self.tables = nn.ModuleList(nn.Embedding(c, hidden) for c in spec.cardinalities)
        else:
            self.constant = nn.Parameter(torch.randn(hidden) * 0.1)
        self.pe = nn.Linear(pe_dim, hidden) if pe_dim > 0 else None

    def xavier_tables(self) -> None:
        """Xavier-uniform initialise each embedding table (categorical features), as OGB's ``AtomEncoder`` /
        ``BondEncoder`` do, which several reference implementations use; other kinds are left as they are."""
        for table in getattr(self, "tables", ()):
            nn.init.xavier_uniform_(table.weight)

    def forward(self, feat: torch.Tensor | None, num: int, pe: torch.Tensor | None = None) -> torch.Tensor:
        if self.spec.kind == "dense":
            h = self.dense(feat.reshape(num, -1).to(self.dense.weight.dtype))
        elif self.spec.kind == "categorical":
            cols = feat.reshape(num, -1)
            h = sum(table(cols[:, j]) for j, table in enumerate(self.tables))
        else:
            h = self.constant.expand(num, -1)
        if self.pe is not None:
            if pe is None:
                raise ValueError("this encoder was built with pe_dim > 0 but got no positional encoding")
            h = h + self.pe(pe)
        return h
