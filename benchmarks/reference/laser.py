"""LASER-GCN's reference side (Barbero et al., ICLR 2024) on PyG, following ``Fedzbar/laser-release@4e8f16f84000``:

- pre-processing as ``laser/rewiring/dynamic/laser_global.py`` (``LaserGlobalTransform`` with ``fast=True``,
  ``rewiring_level="orbit"``, ``shuffle=True``): the graph through networkx (``to_networkx(to_undirected=True)``),
  the dense ``A + I``, the "fast" distance labels built **in place on that same matrix** (so later reachability
  products read the partly labelled matrix, the released aliasing), its lower triangle, the connectivity
  ``M = (labelled matrix)^8``; then per radius r = 2..L and node i the orbit ``{j : D[i, j] = r}``, a budget
  ``max(min_additions, round(ρ·|orbit|))`` and the least connected nodes by ``argpartition`` of M plus N(0, 1e-7)
  noise, each choice one edge ``i → j`` with snapshot label r; the input edges (from ``from_networkx``) are
  snapshot 1;
- the network as ``laser/network/dynamic_gnn.py`` (``GNN`` with ``DynamicGNNStackStage``): OGB atom encoder, layers
  0..L−2 one ``GCNConv`` (no bias) on all edges, the last layer one ``GCNConv`` per snapshot on the edges with that
  label (``get_snapshot_edge_index``, cached on the batch) summed, each layer BatchNorm → ReLU → L2, the stage's
  final L2, mean pooling, GraphGym's graph head with one linear layer.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.reference.case import FamilyCase, Reference
from benchmarks.reference.molecules import GRAPHS, atom_encoder, multilabel_loss, peptides_func, to_data
from graphbench.data.base import GraphDataset
from graphbench.models.laser import HPARAMS  # noqa: F401  (registers laser-gcn)
from graphbench.presets import get_preset

SOURCE = ("Fedzbar/laser-release@4e8f16f84000: laser/rewiring/dynamic/laser_global.py (LaserGlobalTransform), "
          "laser/rewiring/transform.py (get_snapshot_edge_index), laser/network/dynamic_gnn.py")


def laser_rewire(data, *, num_snapshots: int, rho: float, min_additions: int, rng: np.random.Generator):
    """``(edge_index, edge_weights)`` of LASER's released transform for one PyG graph (see the module docstring)."""
    from torch_geometric.utils import from_networkx, to_networkx

    g = to_networkx(data, to_undirected=True)
    n = g.number_of_nodes()
    import networkx as nx

    a = nx.adjacency_matrix(g).toarray() + np.eye(n)
    a[a == 2] = 1
    # the released "fast" distances: the label matrix *is* the adjacency, updated in place
    labels, reach, nxt = a, a, a @ a
    for r in range(2, num_snapshots + 1):
        nxt[nxt != 0] = 1
        reach[reach != 0] = 1
        labels += r * (nxt - reach)
        reach, nxt = nxt, nxt @ a
    dist = np.tril(labels)
    mu = np.linalg.matrix_power(a, 8)
    edge_index = from_networkx(g).edge_index
    weights = [torch.ones(edge_index.shape[1])]
    parts = [edge_index]
    for r in range(2, num_snapshots + 1):
        added = []
        for i in range(n):
            orbit = dist[i] == r
            orbit[i] = False
            conn = mu[i][orbit]
            budget = max(min_additions, round(conn.shape[0] * rho))
            conn = conn + rng.normal(0.0, 1e-7, conn.shape[0])  # uniform tie-breaking
            pick = np.arange(conn.shape[0]) if conn.shape[0] <= budget else np.argpartition(conn, budget)[:budget]
            added.extend((i, int(j)) for j in np.flatnonzero(orbit)[pick])
        new = torch.tensor(added, dtype=torch.long).reshape(-1, 2).T
        parts.append(new)
        weights.append(torch.full((new.shape[1],), float(r)))
    return torch.cat(parts, dim=1).long(), torch.cat(weights)


def preprocess(dataset: GraphDataset, hp: dict, seed: int = 0) -> list:
    """The dataset as PyG graphs with LASER's rewired ``edge_index`` and snapshot labels ``edge_weights``."""
    rng = np.random.default_rng(seed)
    out = []
    for data in to_data(dataset):
        data.edge_index, data.edge_weights = laser_rewire(
            data, num_snapshots=int(hp["num_snapshots"]), rho=float(hp["rho"]),
            min_additions=int(hp["min_additions"]), rng=rng)
        out.append(data)
    return out


def snapshot_edges(batch, snapshot: int) -> torch.Tensor:
    """The batch's edges of ``snapshot`` (1-based), computed once per batch (``get_snapshot_edge_index``)."""
    store = batch.__dict__.setdefault("_snapshots", {})
    if snapshot not in store:
        store[snapshot] = batch.edge_index[:, batch.edge_weights == snapshot]
    return store[snapshot]


class DynamicLayer(nn.Module):
    """``DynamicGeneralLayer``: one ``GCNConv`` per snapshot (one on all edges when ``snapshots == 1``), summed, then
    BatchNorm → ReLU → L2."""

    def __init__(self, dim: int, snapshots: int) -> None:
        from torch_geometric.nn import GCNConv

        super().__init__()
        self.snapshots = snapshots
        self.convs = nn.ModuleList(GCNConv(dim, dim, bias=False) for _ in range(snapshots))
        self.post = nn.Sequential(nn.BatchNorm1d(dim), nn.ReLU())

    def forward(self, x: torch.Tensor, batch) -> torch.Tensor:
        xs = []
        for s, conv in enumerate(self.convs):
            edges = batch.edge_index if self.snapshots == 1 else snapshot_edges(batch, s + 1)
            if edges.shape[0] == 0:
                continue
            xs.append(conv(x, edges))
        return F.normalize(self.post(torch.stack(xs, dim=-1).sum(dim=-1)), p=2, dim=1)


class LaserGCNRef(nn.Module):
    """Atom encoder → L dynamic layers (the last one relational over the snapshots) → L2 → mean pool → linear."""

    def __init__(self, dataset: GraphDataset, hidden: int, layers: int, snapshots: int) -> None:
        super().__init__()
        self.encoder = atom_encoder(dataset, hidden)
        self.layers = nn.ModuleList(DynamicLayer(hidden, 1 if i < layers - 1 else snapshots) for i in range(layers))
        self.head = nn.Linear(hidden, dataset.num_classes)

    def forward(self, batch) -> torch.Tensor:
        from torch_geometric.nn import global_mean_pool

        x = self.encoder(batch.x)
        for layer in self.layers:
            x = layer(x, batch)
        x = F.normalize(x, p=2, dim=-1)
        return self.head(global_mean_pool(x, batch.batch, size=batch.num_graphs))


def _case(preset: str) -> FamilyCase:
    hp = dict(get_preset("laser-gcn", preset).hparams)

    def build(dataset: GraphDataset, gb_model: nn.Module) -> nn.Module:
        return LaserGCNRef(dataset, int(hp["hidden"]), int(hp["layers"]), int(hp["num_snapshots"]))

    ref = Reference(preprocess=lambda ds: preprocess(ds, hp), build=build,
                    loss=lambda net, b: multilabel_loss(net(b), b.y), predict=lambda net, b: net(b), source=SOURCE)
    return FamilyCase(f"laser-gcn/{preset}", "laser-gcn", hp, peptides_func, ref, batch_size=int(hp["batch_size"]),
                      extra={"graphs": GRAPHS})


def cases() -> list[FamilyCase]:
    """LASER-GCN at its Peptides preset (5 layers × 250, 3 snapshots, ρ = 0.5, the released transform's reading)."""
    return [_case("laser2024-lrgb")]
