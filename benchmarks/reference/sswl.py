"""GNN-SSWL+ and SWL: the reference side, following ``subgraph23/SWL@68ac2fe1``'s code (``src/utils.py``
``subgraph`` for the product-graph pre-processing and ``aggregate`` for message passing, ``src/model.py`` ``Atom``,
``Bond``, ``Agg``, ``Pool``, ``GNN`` for the network, ``main_zinc.py`` for the schemes and the ZINC config), written
here on torch / PyG operators (docs/models/sswl.md describes the model; docs/benchmarks.md the benchmark).

Pre-processing as the reference's, graph by graph: pair-node ``u·n + v`` for every (root u, node v); the dense
adjacency and Floyd–Warshall on it (``n`` elementwise minimum passes over the ``n × n`` matrix) for the distance
``d(u, v)``; the typed index tensors of the scheme's aggregations (``uL``: ``(u, w) → (u, v)`` for every edge,
``vL``: ``(w, v) → (u, v)``, ``vv``: ``(v, v) → (u, v)``) and of the pooling aggregation ``uG`` (all ``n³`` pairs
``(u, w) → (u, v)``), with the edge attributes repeated per root. PyG's batching offsets every ``index_*`` by the
graph's pair-nodes.

Network (the reference's ``GNN``): ``h⁰ = AtomEncoder(x_v) + Embedding(min(d, max_dis))``; 6 ``Agg`` layers
``h ← ReLU(BN(Σ_a MLP_a((1 + ε_a)·h + Σ_src m_a)))`` with ``m = ReLU(h_src + BondEncoder_a(e))`` for ``uL`` / ``vL``
(gather, then PyG's scatter-sum); a last ``Agg([uG])`` without the self term (its ε exists but is unused, as in the
reference); global mean pool over the pair-nodes; Linear(d, 2d) → ReLU → Linear(2d, out).

Adaptation: the reference feeds ZINC's single atom / bond type column to OGB's encoders (``x[:, None]``); on
ogbg-molhiv the nine atom and three bond columns are fed as they are (OGB's encoders sum one table per column, as
graphbench's encoders do).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.reference.case import FamilyCase, Reference
from benchmarks.reference.pathnn import loss, molhiv, predict, rename
from graphbench.data.base import GraphDataset

SOURCE = ("subgraph23/SWL@68ac2fe1: src/utils.py (subgraph, aggregate), src/model.py (Atom, Bond, Agg, Pool, GNN), "
          "main_zinc.py (schemes, ZINC config: hidden 96, 6 layers, max_dis 5, batch 128, lr 1e-3)")
#: main_zinc.py's schemes: (layer aggregations, pooling aggregation) per model string.
SCHEMES = {"SSWL_P": (("uL", "vL", "vv"), "uG"), "SWL_VS": (("uL",), "uG")}


# -- pre-processing ---------------------------------------------------------------------------------------------------
def subgraph(graph, x: torch.Tensor, edge_attr: torch.Tensor, y: torch.Tensor, scheme: tuple[str, ...]):
    """The reference's ``subgraph(scheme)`` transform of one graph (a PyG ``Data`` on its ``n²`` pair-nodes)."""
    from torch_geometric.data import Data
    from torch_geometric.utils import to_dense_adj

    n = graph.num_nodes()
    s, d = graph.edges()
    edge_index = torch.stack([s, d])
    node = torch.arange(n * n).view(n, n)
    adj = to_dense_adj(edge_index, max_num_nodes=n).squeeze(0)
    spd = torch.where(~torch.eye(n, dtype=torch.bool) & (adj == 0), torch.full_like(adj, float("inf")), adj)
    for k in range(n):  # Floyd–Warshall
        spd = torch.minimum(spd, spd[:, [k]] + spd[[k], :])
    fields = {"x": x[None].expand(n, -1, -1).flatten(end_dim=1), "d": spd.clamp(max=1e9).to(torch.int64).flatten(),
              "y": y}
    if "uL" in scheme:
        fields["index_uL"] = (node[None, None, :, 0] + edge_index[:, :, None]).flatten(start_dim=1)
        fields["attrs_uL"] = edge_attr[:, None].expand(-1, n, -1).flatten(end_dim=1)
    if "vL" in scheme:
        fields["index_vL"] = (node[None, None, 0, :] + edge_index[:, :, None] * n).flatten(start_dim=1)
        fields["attrs_vL"] = edge_attr[:, None].expand(-1, n, -1).flatten(end_dim=1)
    if "vv" in scheme:
        fields["index_vv"] = torch.stack(torch.broadcast_tensors(node, torch.diag(node)[None, :])).flatten(start_dim=1)
    if "uG" in scheme:
        fields["index_uG"] = torch.stack(torch.broadcast_tensors(node[:, :, None], node[:, None, :])).flatten(
            start_dim=1)
    return Data(num_nodes=n * n, **fields)


def preprocess(dataset: GraphDataset, scheme: tuple[str, ...]) -> list:
    """``subgraph(scheme)`` of every graph of ``dataset`` (the reference applies it as the dataset's transform)."""
    return [subgraph(g, g.ndata["feat"], g.edata["feat"], y.reshape(1, -1), scheme)
            for g, y in zip(dataset.graphs, dataset.labels)]


# -- network ---------------------------------------------------------------------------------------------------------
def aggregate(x: torch.Tensor, batch, agg: str, encode: nn.Module | None) -> torch.Tensor:
    """Gather the sources of ``index_<agg>``, optionally ``ReLU(h + BondEncoder(e))``, scatter-sum onto the
    destinations (the reference's ``aggregate``)."""
    from torch_geometric.utils import scatter

    dst, src = batch[f"index_{agg}"]
    message = torch.index_select(x, 0, src)
    if encode is not None:
        message = F.relu(message + encode(batch[f"attrs_{agg}"]))
    return scatter(message, dst, dim=0, dim_size=x.shape[0], reduce="sum")


def _mlp(idim: int, odim: int, hdim: int | None = None, norm: bool = True) -> nn.Sequential:
    hdim = hdim or idim
    return nn.Sequential(nn.Linear(idim, hdim), *((nn.BatchNorm1d(hdim), nn.ReLU()) if norm else (nn.ReLU(),)),
                         nn.Linear(hdim, odim))


class Agg(nn.Module):
    """The reference's ``Agg(scheme, gin)`` layer: ``ReLU(BN(Σ_a MLP_a(self term + aggregation)))``."""

    def __init__(self, scheme: tuple[str, ...], dim: int, gin: bool = True) -> None:
        super().__init__()
        from ogb.graphproppred.mol_encoder import BondEncoder

        self.scheme, self.gin = scheme, gin
        self.eps = nn.ParameterDict({a: nn.Parameter(torch.zeros(1)) for a in scheme})
        self.enc = nn.ModuleDict({a: BondEncoder(dim) for a in scheme if "L" in a})
        self.mlp = nn.ModuleDict({a: _mlp(dim, dim) for a in scheme})
        self.nr = nn.Sequential(nn.BatchNorm1d(dim), nn.ReLU())

    def forward(self, x: torch.Tensor, batch) -> torch.Tensor:
        out = 0
        for a in self.scheme:
            z = (x * (1.0 + self.eps[a]) if self.gin else 0.0) + aggregate(x, batch, a, self.enc[a] if a in self.enc
                                                                          else None)
            out = out + self.mlp[a](z)
        return self.nr(out)


class SubgraphGNN(nn.Module):
    """The reference's ``GNN``: ``Atom`` encoder, ``layers`` × ``Agg(scheme)``, ``Agg([pool], gin=False)``, mean pool
    over the pair-nodes, ``MLP(d, out, hdim=2d, norm=False)``."""

    def __init__(self, dim: int, out_dim: int, max_dis: int, layers: int, scheme: tuple[str, ...], pool: str) -> None:
        super().__init__()
        from ogb.graphproppred.mol_encoder import AtomEncoder

        self.max_dis = max_dis
        self.embed_v, self.embed_d = AtomEncoder(dim), nn.Embedding(max_dis + 1, dim)
        self.layers = nn.ModuleList([Agg(scheme, dim) for _ in range(layers)] + [Agg((pool,), dim, gin=False)])
        self.predict = _mlp(dim, out_dim, hdim=2 * dim, norm=False)

    def forward(self, batch) -> torch.Tensor:
        from torch_geometric.nn import global_mean_pool

        x = self.embed_v(batch.x) + self.embed_d(torch.clamp(batch.d, None, self.max_dis))
        for layer in self.layers:
            x = layer(x, batch)
        return self.predict(global_mean_pool(x, batch.batch, size=batch.num_graphs))


# -- cases -----------------------------------------------------------------------------------------------------------
def state_map(state: dict) -> dict:
    """graphbench's subgraph network state dict under this network's parameter names (the harness's ``--check``);
    the pooling layer's unused ε has no counterpart."""
    last = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("convs."))
    rules = ((r"^encoder\.tables\.", "embed_v.atom_embedding_list."), (r"^label_embedding", "embed_d"),
             (r"^convs\.(\d+)\.mlps\.", r"layers.\1.mlp."), (r"^convs\.(\d+)\.eps\.", r"layers.\1.eps."),
             (r"^convs\.(\d+)\.edge_encoders\.(\w+)\.tables\.", r"layers.\1.enc.\2.bond_embedding_list."),
             (r"^norms\.(\d+)\.", r"layers.\1.nr.0."), (r"^subgraph_pool\.mlp\.", f"layers.{last}.mlp.uG."),
             (r"^subgraph_pool\.norm\.", f"layers.{last}.nr.0."), (r"^head\.0\.", "predict.0."),
             (r"^head\.3\.", "predict.2."))
    return {rename(k, rules): v for k, v in state.items()}


def _reference(scheme_name: str, hp: dict) -> Reference:
    layer, pool = SCHEMES[scheme_name]

    def build(dataset: GraphDataset, gb_model: nn.Module) -> nn.Module:
        return SubgraphGNN(hp["hidden"], dataset.num_classes, hp["max_dist"], hp["layers"], layer, pool)

    return Reference(preprocess=lambda ds: preprocess(ds, (*layer, pool)), build=build, loss=loss, predict=predict,
                     source=SOURCE + f", --model {scheme_name}")


#: ZINC's largest molecule has 38 atoms; the benchmark keeps the ogbg-molhiv molecules of at most that size.
ZINC_MAX_NODES = 38


def zinc_sized_molhiv(root: str | None) -> GraphDataset:
    """ogbg-molhiv's molecules with at most :data:`ZINC_MAX_NODES` atoms (92 % of them), the split restricted to
    them: ZINC-sized graphs for the ZINC config. The reference pools through all ``n³`` pairs ``(u, w) → (u, v)``,
    so one 222-atom molhiv molecule alone would take ~4 GB of messages per pass."""
    import dataclasses

    import numpy as np

    ds = molhiv(root)
    keep = np.array([g.num_nodes() <= ZINC_MAX_NODES for g in ds.graphs])
    new_id = np.cumsum(keep) - 1
    split = ds.splits[0]
    parts = [new_id[np.asarray(p)[keep[np.asarray(p)]]] for p in (split.train, split.val, split.test)]
    fields = {f.name: getattr(ds, f.name) for f in dataclasses.fields(GraphDataset)}
    fields.update(graphs=[g for g, k in zip(ds.graphs, keep) if k], labels=ds.labels[torch.from_numpy(keep)],
                  splits=[type(split)(split.name, *parts)],
                  meta={**ds.meta, "restricted": f"molecules with <= {ZINC_MAX_NODES} atoms"})
    return GraphDataset(**fields)


def cases() -> list[FamilyCase]:
    """GNN-SSWL+ (``SSWL_P``) and SWL (``SWL_VS``) at the reference's ZINC config (batch 32) on ogbg-molhiv
    molecules."""
    hp = dict(hidden=96, layers=6, policy="distance", max_dist=5, hops=0, pool="VS", residual=False, dropout=0.0,
              norm="batch", head="mlp", lr=1e-3, weight_decay=0.0)
    note = ("ogbg-molhiv molecules of at most 38 atoms (ZINC's largest) at the ZINC config, but batch 32: the "
            "reference's 128 lifts to ~64k pair-nodes and ~2M pooling pairs per batch, several GB of activations "
            "on a shared machine; the reference's last Agg keeps an unused ε (one parameter more than "
            "graphbench's pooling layer, which has none)")
    return [FamilyCase(f"{model}-zinc-config", model, dict(hp), zinc_sized_molhiv, _reference(scheme, hp),
                       batch_size=32, extra={"graphs": 300, "state_map": state_map}, notes=note)
            for model, scheme in (("gnn-sswl-plus", "SSWL_P"), ("swl", "SWL_VS"))]
