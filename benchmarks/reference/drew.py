"""DRew-GCN's reference side (Gutteridge et al., ICML 2023) on PyG, following ``BenGutteridge/DRew@0c5c1ca79c61``:

- pre-processing as ``lrgb/graphgps/make_k_hop_edges.py`` (``compute_k_hop_edges``): per graph the dense adjacency
  ``A`` (``to_dense_adj``), then for k = 2..K the next ring from the previous one, ``R_k = [A·R_{k−1} > 0]`` minus
  the diagonal and minus every earlier ring (clipped at 0), read back with ``dense_to_sparse``; the rings become
  one edge list whose ``edge_attr`` is the hop k (the reference writes them into the dataset's ``edge_index`` /
  ``edge_attr``);
- the network as ``lrgb/graphgps/stage/drew_gnn.py`` with ``stage/stage_inits.py`` (``init_DRewGCN``) and the
  GraphGym ``GeneralLayer`` of ``stage/example.py`` around ``layer/drew_gcnconv.py``: one module per (k, t),
  ``PyG GCNConv`` (no bias) → BatchNorm → ReLU → L2 on the edges ``edge_index[:, edge_attr == k]`` (the mask taken
  inside the layer loop, as the stage's ``A(k)``), ring k skipped for a batch without such pairs, ring k reading
  ``x^(t − max(0, k − ν))``, ``x^(t+1) = L2(x^(t) + ReLU(Σ_k ...))``; OGB atom encoder, mean pooling, GraphGym's
  graph head with one linear layer.

The diagonal is cleared with one ``fill_diagonal_`` where the reference loops over the nodes in Python (the same
matrices, less interpreter time on the reference side).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.reference.case import FamilyCase, Reference
from benchmarks.reference.molecules import (
    GRAPHS,
    SMALL_BATCH,
    atom_encoder,
    multilabel_loss,
    peptides_func,
    to_data,
)
from graphbench.data.base import GraphDataset
from graphbench.models.drew import DREW_GCN_HPARAMS  # noqa: F401  (registers drew-gcn)
from graphbench.presets import get_preset

SOURCE = ("BenGutteridge/DRew@0c5c1ca79c61: lrgb/graphgps/make_k_hop_edges.py, stage/drew_gnn.py, "
          "stage/stage_inits.py, stage/example.py (GeneralLayer), layer/drew_gcnconv.py")


def k_hop_edges(edge_index: torch.Tensor, num_nodes: int, k_max: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(edge_index [2, P], hop [P])``: ring 1 (the input edges as given) then rings 2..k_max from dense matrix
    powers of the adjacency, as ``compute_k_hop_edges``."""
    from torch_geometric.utils import dense_to_sparse, to_dense_adj

    rings = [edge_index]
    ring = to_dense_adj(edge_index, max_num_nodes=num_nodes).float()  # [1, n, n]
    adj = ring.to_sparse()
    seen = [ring]
    for _ in range(2, k_max + 1):
        nxt = torch.bmm(adj, ring)
        nxt[0].fill_diagonal_(0.0)
        nxt = (nxt > 0).float()
        for earlier in seen:
            nxt -= earlier
        ring = (nxt > 0).float()
        seen.append(ring)
        rings.append(dense_to_sparse(ring)[0])
    hops = torch.cat([torch.full((r.shape[1],), k, dtype=torch.long) for k, r in enumerate(rings, 1)])
    return torch.cat(rings, dim=1), hops


def preprocess(dataset: GraphDataset, k_max: int) -> list:
    """The dataset as PyG graphs whose ``edge_index`` holds rings 1..k_max and ``edge_attr`` their hop."""
    out = []
    for data in to_data(dataset):
        data.edge_index, data.edge_attr = k_hop_edges(data.edge_index, data.num_nodes, k_max)
        out.append(data)
    return out


class GCNModule(nn.Module):
    """GraphGym's ``GeneralLayer`` around ``GCNConv`` (``drew_gcnconv``): conv without bias (BatchNorm follows) →
    BatchNorm → ReLU → L2."""

    def __init__(self, dim: int, *, l2norm: bool) -> None:
        from torch_geometric.nn import GCNConv

        super().__init__()
        self.conv = GCNConv(dim, dim, bias=False)
        self.post = nn.Sequential(nn.BatchNorm1d(dim), nn.ReLU())
        self.l2norm = l2norm

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        h = self.post(self.conv(x, edge_index))
        return F.normalize(h, p=2, dim=1) if self.l2norm else h


class DRewGCNRef(nn.Module):
    """Atom encoder → DRew stage (``W_kt`` per (k, t)) → mean pooling → linear head."""

    def __init__(self, dataset: GraphDataset, hidden: int, layers: int, nu: float, k_max: int, l2norm: bool) -> None:
        super().__init__()
        self.encoder = atom_encoder(dataset, hidden)
        self.layers, self.nu, self.k_max, self.l2norm = layers, nu, k_max, l2norm
        self.W_kt = nn.ModuleDict({f"k={k}, t={t}": GCNModule(hidden, l2norm=l2norm)
                                   for t in range(layers) for k in self.neighbourhoods(t)})
        self.head = nn.Linear(hidden, dataset.num_classes)

    def neighbourhoods(self, t: int) -> list[int]:
        """The rings layer t aggregates (``get_k_neighbourhoods``)."""
        return list(range(1, min(t + 1, self.k_max) + 1))

    def forward(self, batch) -> torch.Tensor:
        from torch_geometric.nn import global_mean_pool

        x = self.encoder(batch.x)
        states = []
        for t in range(self.layers):
            states.append(x)
            acc = torch.zeros_like(x)
            for k in self.neighbourhoods(t):
                ring = batch.edge_index[:, batch.edge_attr == k]
                if ring.shape[1] > 0:
                    acc = acc + self.W_kt[f"k={k}, t={t}"](states[t - int(max(k - self.nu, 0))], ring)
            x = states[t] + torch.relu(acc)
            if self.l2norm:
                x = F.normalize(x, p=2, dim=-1)
        return self.head(global_mean_pool(x, batch.batch, size=batch.num_graphs))


def _case(preset: str) -> FamilyCase:
    hp = dict(get_preset("drew-gcn", preset).hparams)
    layers, k_max = int(hp["layers"]), int(hp.get("k_max", 0)) or int(hp["layers"])
    nu = math.inf if int(hp["nu"]) == -1 else float(hp["nu"])

    def build(dataset: GraphDataset, gb_model: nn.Module) -> nn.Module:
        return DRewGCNRef(dataset, int(hp["hidden"]), layers, nu, min(k_max, layers), bool(hp["l2norm"]))

    ref = Reference(preprocess=lambda ds: preprocess(ds, min(k_max, layers)), build=build,
                    loss=lambda net, b: multilabel_loss(net(b), b.y), predict=lambda net, b: net(b), source=SOURCE)
    return FamilyCase(f"drew-gcn/{preset}", "drew-gcn", hp, peptides_func, ref, batch_size=SMALL_BATCH,
                      notes="the reference skips ring k for a batch without pairs k apart; graphbench always runs "
                            "it (the same outputs on Peptides, whose batches hold every ring up to 23)",
                      extra={"graphs": GRAPHS})


def cases() -> list[FamilyCase]:
    """DRew-GCN at its Peptides-func preset (23 layers × 42, ν = 1: 276 ring modules, rings 1..23)."""
    return [_case("gutteridge2023")]
