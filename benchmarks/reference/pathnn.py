"""PathNN-SP+ and PathNN-AP: the reference side, following ``gasmichel/PathNNs_expressive@2b8eb712``'s benchmark
code (``benchmarks/preprocess_data.py`` ``PathTransform`` and ``benchmarks/utils.py`` ``fast_generate_paths2`` for
the pre-processing, ``benchmarks/model_ogb.py`` ``EdgePathNN`` / ``EdgePathConv`` for the network), written here
on torch / PyG operators (docs/models/pathnn.md describes the model; docs/benchmarks.md the benchmark).

Pre-processing as the reference's, graph by graph in Python: the graph goes to networkx (the reference converts
PyG → networkx → igraph; igraph is not installed here, so networkx's own path generators do the enumeration); the
full distance matrix; for AP every simple path of 1 … K−1 edges starting at each node (``all_simple_paths`` with the
other nodes as targets) with each node's distance to the start; for SP+ every shortest path between each pair
``n1 < n2`` at distance ≤ K−1, stored in both directions. Paths are flipped so that the start (the anchor) is
last; ``path_2`` is the edge list itself (``edge_index.T.flip(1)``); the edge ids along each path come from a dense
``n × n`` table of edge ids (the reference's ``get_edge_indices``). Batching offsets ``path_*`` by the graph's
nodes and ``edge_indices_*`` by its edges (the reference's ``ModifData.__inc__``).

Network (the reference's ``EdgePathNN``): OGB's ``AtomEncoder`` / ``BondEncoder`` (Xavier-uniform tables), one
LSTM shared by the K−1 layers; layer i reads the paths of i+1 nodes: tokens ``[h ‖ DE ‖ e]`` (a zero edge vector at
the first step), dropout, the LSTM's last hidden state, a scatter-sum onto the anchors, ``BN(h + m)``, dropout, the
2 × (Linear → BN → ReLU) MLP; pooling, Linear → ReLU → dropout → Linear.
"""

from __future__ import annotations

import re

import networkx as nx
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.reference.case import FamilyCase, Reference
from graphbench.data import load_dataset
from graphbench.data.base import GraphDataset

SOURCE = ("gasmichel/PathNNs_expressive@2b8eb712: benchmarks/preprocess_data.py (PathTransform, get_edge_indices), "
          "benchmarks/utils.py (fast_generate_paths2, ModifData), benchmarks/model_ogb.py (EdgePathNN, EdgePathConv)")


# -- pre-processing ---------------------------------------------------------------------------------------------------
def _path_data():
    from torch_geometric.data import Data

    class PathData(Data):
        """The reference's ``ModifData``: ``path_*`` hold node ids, ``edge_indices_*`` edge ids."""

        def __inc__(self, key, value, *args, **kwargs):
            if "index" in key or "path" in key:
                return self.num_nodes
            if "indices" in key:
                return self.num_edges
            return 0

        def __cat_dim__(self, key, value, *args, **kwargs):
            return 1 if "index" in key and "indices" not in key else 0

    return PathData


def generate_paths(graph: nx.Graph, cutoff: int, path_type: str) -> tuple[list[list], list[list]]:
    """Per number of nodes 2 … cutoff (index 0 … cutoff−2), the paths starting at each node (AP) or between each
    pair in both directions (SP+), start first; for AP also each path node's distance to the start."""
    n = graph.number_of_nodes()
    dist = np.full((n, n), np.inf)
    for a, row in nx.all_pairs_shortest_path_length(graph):
        for b, d in row.items():
            dist[a, b] = d
    paths: list[list] = [[] for _ in range(cutoff - 1)]
    dists: list[list] = [[] for _ in range(cutoff - 1)]
    for n1 in range(n):
        if path_type == "all_simple_paths":
            targets = set(range(n)) - {n1}
            for path in nx.all_simple_paths(graph, n1, targets, cutoff=cutoff - 1):
                paths[len(path) - 2].append(path)
                dists[len(path) - 2].append([dist[n1, v] for v in path])
        else:
            for n2 in np.where((dist[n1] <= cutoff - 1) & (dist[n1] > 0))[0]:
                if n2 <= n1:
                    continue
                for path in nx.all_shortest_paths(graph, n1, int(n2)):
                    paths[len(path) - 2].append(path)
                    paths[len(path) - 2].append(path[::-1])
    return paths, dists


def edge_indices(num_nodes: int, edge_index: torch.Tensor, paths: torch.Tensor) -> torch.Tensor:
    """Edge id of each consecutive pair of a path, from a dense ``n × n`` table (the reference's way)."""
    table = torch.zeros(num_nodes, num_nodes, dtype=torch.long)
    table[edge_index[0], edge_index[1]] = torch.arange(edge_index.shape[1])
    cols = [table[paths[:, i], paths[:, i + 1]].unsqueeze(1) for i in range(paths.shape[1] - 1)]
    return torch.cat(cols, -1) if cols else torch.zeros(paths.shape[0], 0, dtype=torch.long)


def preprocess(dataset: GraphDataset, cutoff: int, path_type: str) -> list:
    """The reference's ``PathTransform`` on every graph of ``dataset`` (a list of PyG data objects)."""
    PathData = _path_data()
    out = []
    for g, y in zip(dataset.graphs, dataset.labels):
        s, d = g.edges()
        edge_index = torch.stack([s, d])
        n = g.num_nodes()
        fields = {"x": g.ndata["feat"], "edge_index": edge_index, "edge_attr": g.edata["feat"],
                  "y": y.reshape(1, -1), "num_nodes": n}
        p2 = edge_index.T.flip(1)
        fields["path_2"] = p2
        fields["edge_indices_2"] = edge_indices(n, edge_index, p2)
        nxg = nx.Graph()
        nxg.add_nodes_from(range(n))
        nxg.add_edges_from(zip(s.tolist(), d.tolist()))
        if path_type == "all_simple_paths":
            fields["sp_dists_2"] = torch.cat([torch.ones(len(s), 1), torch.zeros(len(s), 1)], dim=1).long()
        paths, dists = generate_paths(nxg, cutoff, path_type)
        for j in range(1, cutoff - 1):
            p = torch.tensor(paths[j], dtype=torch.long).view(-1, j + 2).flip(1)
            fields[f"path_{j + 2}"] = p
            fields[f"edge_indices_{j + 2}"] = edge_indices(n, edge_index, p)
            if path_type == "all_simple_paths":
                fields[f"sp_dists_{j + 2}"] = (torch.tensor(dists[j]).long().flip(1) if len(dists[j]) else
                                               torch.empty(0, j + 2, dtype=torch.long))
        out.append(PathData(**fields))
    return out


# -- network ---------------------------------------------------------------------------------------------------------
class EdgePathConv(nn.Module):
    """One layer: LSTM over the paths' tokens, scatter onto the anchors, ``BN(h + m)``, dropout, MLP."""

    def __init__(self, hidden: int, lstm: nn.LSTM, path_agg: str, residual: bool, dropout: float) -> None:
        super().__init__()
        self.hidden, self.lstm, self.path_agg, self.residual, self.dropout = hidden, lstm, path_agg, residual, dropout
        self.mlp = nn.Sequential(nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU())
        self.bn = nn.BatchNorm1d(hidden) if path_agg == "sum" else nn.Identity()

    def forward(self, x, paths, edge_attr, dist_emb=None):
        from torch_geometric.utils import scatter

        edge_attr = torch.cat([torch.zeros(paths.shape[0], 1, self.hidden), edge_attr], dim=1)
        tokens = x[paths]
        tokens = torch.cat([tokens, dist_emb, edge_attr] if dist_emb is not None else [tokens, edge_attr], dim=-1)
        tokens = F.dropout(tokens, p=self.dropout, training=self.training)
        _, (h, _) = self.lstm(tokens)
        m = scatter(h.squeeze(0), paths[:, -1], dim=0, dim_size=x.shape[0], reduce=self.path_agg)
        h = self.bn(x + m if self.residual else m)
        return self.mlp(F.dropout(h, p=self.dropout, training=self.training))


class EdgePathNN(nn.Module):
    """The reference's ``EdgePathNN`` with OGB's atom and bond encoders."""

    def __init__(self, hidden: int, cutoff: int, out_dim: int, *, encode_distances: bool, readout: str,
                 path_agg: str, residual: bool, dropout: float) -> None:
        super().__init__()
        from ogb.graphproppred.mol_encoder import AtomEncoder, BondEncoder

        self.cutoff, self.dropout, self.encode_distances, self.readout = cutoff, dropout, encode_distances, readout
        self.atom_encoder, self.bond_encoder = AtomEncoder(hidden), BondEncoder(hidden)
        self.distance_encoder = nn.Embedding(cutoff, hidden) if encode_distances else None
        self.lstm = nn.LSTM(hidden * (3 if encode_distances else 2), hidden, num_layers=1, batch_first=True)
        self.convs = nn.ModuleList(EdgePathConv(hidden, self.lstm, path_agg, residual, dropout)
                                   for _ in range(cutoff - 1))
        self.linear1, self.linear2 = nn.Linear(hidden, hidden), nn.Linear(hidden, out_dim)
        for table in [*self.atom_encoder.atom_embedding_list, *self.bond_encoder.bond_embedding_list]:
            nn.init.xavier_uniform_(table.weight)
        if self.distance_encoder is not None:
            nn.init.xavier_uniform_(self.distance_encoder.weight)

    def forward(self, data) -> torch.Tensor:
        from torch_geometric.nn import global_add_pool, global_mean_pool

        h = self.atom_encoder(data.x)
        edge_attr = self.bond_encoder(data.edge_attr)
        for i, conv in enumerate(self.convs):
            dist = self.distance_encoder(data[f"sp_dists_{i + 2}"]) if self.encode_distances else None
            h = conv(h, data[f"path_{i + 2}"], edge_attr[data[f"edge_indices_{i + 2}"]], dist)
        pool = global_add_pool if self.readout == "sum" else global_mean_pool
        out = F.relu(self.linear1(pool(h, data.batch, size=data.num_graphs)))
        return self.linear2(F.dropout(out, p=self.dropout, training=self.training))


# -- cases -----------------------------------------------------------------------------------------------------------
def molhiv(root: str | None) -> GraphDataset:
    return load_dataset("ogbg-molhiv", root)


def loss(net: nn.Module, batch) -> torch.Tensor:
    """The reference's masked BCE-with-logits (ogbg-molhiv)."""
    out, y = net(batch), batch.y.float()
    mask = ~torch.isnan(y)
    return F.binary_cross_entropy_with_logits(out[mask], y[mask])


def predict(net: nn.Module, batch) -> torch.Tensor:
    return net(batch)


def state_map(state: dict) -> dict:
    """graphbench's PathNN state dict under this network's parameter names (the harness's ``--check`` loads it
    and compares the two networks' outputs)."""
    rules = ((r"^encoder\.tables\.", "atom_encoder.atom_embedding_list."),
             (r"^edge_encoder\.tables\.", "bond_encoder.bond_embedding_list."),
             (r"^path_layers\.distance_embedding", "distance_encoder"), (r"^path_layers\.lstm", "lstm"),
             (r"^path_layers\.convs", "convs"), (r"^head\.linears\.0\.", "linear1."),
             (r"^head\.linears\.1\.", "linear2."))
    return {rename(k, rules): v for k, v in state.items()}


def rename(key: str, rules) -> str:
    """``key`` after the ``(pattern, replacement)`` regular-expression ``rules``, applied in order."""
    for pattern, new in rules:
        key = re.sub(pattern, new, key)
    return key


def _reference(path_type: str, hp: dict) -> Reference:
    def build(dataset: GraphDataset, gb_model: nn.Module) -> nn.Module:
        return EdgePathNN(hp["hidden"], hp["cutoff"], dataset.num_classes, encode_distances=hp["distance_encoding"],
                          readout=hp["readout"], path_agg=hp["path_agg"], residual=True, dropout=hp["dropout"])

    return Reference(preprocess=lambda ds: preprocess(ds, hp["cutoff"], path_type), build=build, loss=loss,
                     predict=predict, source=SOURCE)


def cases() -> list[FamilyCase]:
    """PathNN-SP+ and PathNN-AP at the reference's ogbg-molhiv config (K = 3, hidden 128, mean readout, dropout 0.5)
    and at its ZINC config (K = 5, hidden 152 / 140, sum readout, no dropout) on ogbg-molhiv molecules."""
    out = []
    configs = (("molhiv", dict(cutoff=3, readout="mean", dropout=0.5, lr=5e-4), (128, 128)),
               ("zinc-config", dict(cutoff=5, readout="sum", dropout=0.0, lr=1e-3), (152, 140)))
    for tag, base, hiddens in configs:
        for (model, path_type, de), hidden in zip((("pathnn-sp-plus", "all_shortest_paths", False),
                                                   ("pathnn-ap", "all_simple_paths", True)), hiddens):
            hp = dict(base, hidden=hidden, path_agg="sum", residual=True, distance_encoding=de)
            out.append(FamilyCase(f"{model.replace('pathnn-', '')}-{tag}", model, hp, molhiv, _reference(path_type, hp),
                                  batch_size=128, extra={"graphs": 300, "state_map": state_map},
                                  notes="ogbg-molhiv molecules" + (" at the ZINC config's K and width"
                                                                   if tag == "zinc-config" else "")))
    return out
