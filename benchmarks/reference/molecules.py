"""What the molecule references (DRew, LASER, PR-MPNN on Peptides-func) share: the dataset, its graphs as PyG
``Data`` and OGB's atom / bond encoders, written here on torch and PyG (never imported by graphbench).

The LRGB references all read Peptides-func through OGB's ``smiles2graph`` graphs (9 categorical atom columns, 3
bond columns) and embed them with OGB's ``AtomEncoder`` / ``BondEncoder``: one embedding table per column, summed,
Xavier-uniform initialised. graphbench's loader builds the same graphs, so both sides of a benchmark read the same
tensors.
"""

from __future__ import annotations

import torch
from torch import nn

from graphbench.data import load_dataset
from graphbench.data.base import GraphDataset

#: graphs per case (of 15 535; the harness draws them from the official split in its proportions)
GRAPHS = 500
#: batch size of the cases whose training step materialises per-edge tensors for many edge sets (DRew's 276 ring
#: convolutions over all pairs up to 23 hops apart, PR-MPNN's 5 sampled graphs with every candidate edge): at the
#: presets' 128 graphs one step holds 7-12 GB on either side, too much for a shared machine; both sides use this
SMALL_BATCH = 32


def peptides_func(data_root: str | None) -> GraphDataset:
    """LRGB Peptides-func through graphbench's loader (the presets' dataset); one function object, so the harness
    loads and subsamples it once for every case that names it."""
    return load_dataset("peptides-func", data_root)


def to_data(dataset: GraphDataset, *, edge_features: bool = False, coalesced: bool = False) -> list:
    """Every graph of ``dataset`` as a ``torch_geometric.data.Data`` (``x`` the atom columns, ``edge_index``, ``y``
    of shape ``[1, tasks]``; ``edge_attr`` the bond columns with ``edge_features``). ``coalesced`` sorts the edges
    by (source, target) as ``torch_geometric.utils.coalesce`` does (with their bond columns)."""
    from torch_geometric.data import Data
    from torch_geometric.utils import coalesce

    out = []
    for g, y in zip(dataset.graphs, dataset.labels):
        src, dst = g.edges()
        edge_index = torch.stack([src, dst]).long()
        edge_attr = g.edata["feat"] if edge_features else None
        if coalesced:
            if edge_attr is None:
                edge_index = coalesce(edge_index, num_nodes=g.num_nodes())
            else:
                edge_index, edge_attr = coalesce(edge_index, edge_attr, g.num_nodes(), reduce="max")
        data = Data(x=g.ndata["feat"], edge_index=edge_index, y=y.reshape(1, -1), num_nodes=g.num_nodes())
        if edge_attr is not None:
            data.edge_attr = edge_attr
        out.append(data)
    return out


class ColumnEncoder(nn.Module):
    """OGB's ``AtomEncoder`` / ``BondEncoder``: ``Σ_c Emb_c(x[:, c])`` over the categorical columns, every table
    Xavier-uniform initialised (``cardinalities`` from the dataset's feature spec)."""

    def __init__(self, cardinalities: tuple[int, ...], dim: int) -> None:
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(c, dim) for c in cardinalities)
        for t in self.tables:
            nn.init.xavier_uniform_(t.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = 0
        for c, table in enumerate(self.tables):
            out = out + table(x[:, c])
        return out


def atom_encoder(dataset: GraphDataset, dim: int) -> ColumnEncoder:
    """OGB's AtomEncoder for ``dataset``'s node columns."""
    return ColumnEncoder(tuple(dataset.node_spec.cardinalities), dim)


def bond_encoder(dataset: GraphDataset, dim: int) -> ColumnEncoder:
    """OGB's BondEncoder for ``dataset``'s edge columns."""
    return ColumnEncoder(tuple(dataset.edge_spec.cardinalities), dim)


def multilabel_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """GraphGym's / the references' multi-label loss on Peptides-func: BCE with logits over the labelled entries."""
    y = y.float()
    mask = ~torch.isnan(y)
    return nn.functional.binary_cross_entropy_with_logits(out[mask], y[mask])
