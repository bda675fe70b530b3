"""PR-MPNN's reference side (Qian et al., ICLR 2024) on PyG, following ``chendiqian/PR-MPNN@aa23fa47efff`` with
``configs/peptides-func/best1.yaml``:

- pre-processing as ``data/get_data.py`` (``get_pretransform``) and ``data/data_preprocess.py``: PyG's
  ``AddRandomWalkPE(20)`` and ``AddLaplacianEigenvectorPE(4)``, then ``AugmentWithEdgeCandidate`` (the
  ``longest_path`` heuristic: scipy's all-pairs shortest paths, every non-edge ``u < v``, the 350 farthest by
  ``argsort``), stored as ``edge_candidate [C, 2]`` and ``num_edge_candidate``;
- the upstream scorer as ``models/upstream.py`` (``EdgeSelector``): its own encoder (``models/my_encoder.py``:
  atom tables ‖ LapPE MLP ‖ RWSE BatchNorm + MLP), ``BaseGINE`` (8 GINE layers × 256, ``models/my_convs.py``),
  two ``torch_geometric.nn.MLP`` score heads (4 layers, BatchNorm) over ``[h_u ‖ h_v]`` of the candidates and of
  the edges ``u ≤ v``, one score per prior (5);
- the rewiring as ``models/rewirer.py`` (``GraphRewirer``): the batch split with ``Batch.to_data_list`` and
  re-collated 5 times (``Batch.from_data_list``), ``to_dense_batch`` of the scores, the k-subset sampler of
  ``simple/simple_scheme.py`` (``EdgeSIMPLEBatched``: scores padded to a power of two; exact marginals from a
  level-by-level pass up and down a balanced tree of count distributions, the structure of the reference's
  compiled circuit in ``simple/simple.py``; Gumbel top-k samples with the marginals' gradient; top-k in
  evaluation), the ``mask_kl`` auxiliary loss over every item pair (``models/aux_loss.py``), ``to_undirected`` of the
  added and deleted items, added edges weighted by the marginals, kept edges by ``1 − sample``;
- the downstream network as ``models/downstream.py`` (``GNN_Duo``): encoder on the 5-fold batch, ``BaseGINE``
  (4 × 128, edge-weighted), mean pooling, intra-graph MLP (3 layers), final MLP (2 layers), one prediction per
  sampled graph, the loss against the labels repeated 5 times (``trainer.py``).

At ``aa23fa47efff`` ``HybridModel`` also passes the input batch to ``GNN_Duo``, which then runs its original-graph
GNN (own weights, the shared encoder and bond encoder) and intra-graph MLP too and concatenates both graph vectors,
the original graph's first (a 256-wide final MLP input). graphbench's ``qian2024`` preset builds that branch
(``original_graph``), so this side does too when the preset asks for it (``include_original``: 2,054,324
parameters with it, 1,854,512 without). The reference's ``torch.compile`` of the sampler is not used (the benchmark
runs eager PyTorch on both sides), and the marginals are computed in float64 (as graphbench does): in float32 a row
with fewer real items than k (a graph with fewer than 50 bonds, padded with −10¹⁰ logits) loses the real logits next
to the padding and its marginals overflow. For the harness's validation metric the 5
per-sample predictions of a graph are averaged (the reference scores all 5 rows).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.reference.case import FamilyCase, Reference
from benchmarks.reference.molecules import (
    GRAPHS,
    SMALL_BATCH,
    atom_encoder,
    bond_encoder,
    multilabel_loss,
    peptides_func,
    to_data,
)
from graphbench.data.base import GraphDataset
from graphbench.models.prmpnn import PRMPNN_HPARAMS  # noqa: F401  (registers pr-mpnn)
from graphbench.presets import get_preset

SOURCE = ("chendiqian/PR-MPNN@aa23fa47efff: configs/peptides-func/best1.yaml, data/get_data.py, "
          "data/data_preprocess.py, models/{get_model,upstream,rewirer,downstream,my_convs,my_encoder,aux_loss}.py, "
          "simple/simple_scheme.py, simple/simple.py, trainer.py")
LARGE_NUMBER = 1.0e10
LOG_ZERO = -1.0e30


# -- pre-processing ----------------------------------------------------------------------------------------------
def edge_candidates(data, pool: int) -> torch.Tensor:
    """``AugmentWithEdgeCandidate('longest_path', pool, directed=False)``: ``[C, 2]`` farthest non-edges ``u < v``."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import shortest_path

    n = data.num_nodes
    ei = data.edge_index.numpy()
    mat = shortest_path(csr_matrix((np.ones(ei.shape[1]), (ei[0], ei[1])), shape=(n, n)), directed=False)
    mat[np.isinf(mat)] = -1.0
    mat[mat == -1] = mat.max() + 1
    cand = np.vstack(np.triu_indices(n, k=1))
    cand = cand[:, ~np.isin(cand[0] * n + cand[1], ei[0] * n + ei[1])]
    cand = cand[:, np.argsort(mat[cand[0], cand[1]])[-pool:]]
    return torch.from_numpy(cand).T.contiguous()


def preprocess(dataset: GraphDataset, pool: int, rw_steps: int, lap_k: int) -> list:
    """PyG graphs (edges coalesced, bond columns) with ``pestat_RWSE``, ``EigVecs`` and the edge candidates."""
    from torch_geometric.transforms import AddLaplacianEigenvectorPE, AddRandomWalkPE

    rwse = AddRandomWalkPE(rw_steps, attr_name="pestat_RWSE")
    lap = AddLaplacianEigenvectorPE(lap_k, attr_name="EigVecs", is_undirected=True)
    out = []
    for data in to_data(dataset, edge_features=True, coalesced=True):
        data = lap(rwse(data))
        data.edge_candidate = edge_candidates(data, pool)
        data.num_edge_candidate = data.edge_candidate.shape[0]
        out.append(data)
    return out


# -- encoders and GINE -------------------------------------------------------------------------------------------
class NodeEncoder(nn.Module):
    """``my_encoder.FeatureEncoder``: atom tables (width ``hidden − 2·dim_pe``) ‖ LapPE MLP ‖ RWSE BatchNorm + MLP."""

    def __init__(self, dataset: GraphDataset, hidden: int, lap_k: int, rw_steps: int, dim_pe: int) -> None:
        from torch_geometric.nn import MLP

        super().__init__()
        self.atoms = atom_encoder(dataset, hidden - 2 * dim_pe)
        self.lap = MLP([lap_k, 2 * dim_pe, dim_pe], dropout=0.0)
        self.rw_norm = nn.BatchNorm1d(rw_steps)
        self.rw = MLP([rw_steps, 2 * dim_pe, dim_pe], dropout=0.0)

    def forward(self, batch) -> torch.Tensor:
        pe = batch.EigVecs
        if self.training:  # one random sign per eigenvector for the whole batch
            flip = torch.rand(pe.size(1), device=pe.device)
            pe = pe * torch.where(flip >= 0.5, 1.0, -1.0).unsqueeze(0)
        pe = torch.where(torch.isnan(pe), torch.zeros_like(pe), pe)
        return torch.cat([self.atoms(batch.x), self.lap(pe), self.rw(self.rw_norm(batch.pestat_RWSE))], dim=1)


def _gine_conv_class():
    from torch_geometric.nn import MessagePassing

    class GINEConv(MessagePassing):
        """``my_convs.GINEConv``: ``MLP((1 + ε) x + Σ_j w_ji · GELU(x_j + e_ji))`` (bond encoder shared)."""

        def __init__(self, dim: int, bond: nn.Module) -> None:
            super().__init__(aggr="add")
            self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.GELU(), nn.Linear(dim, dim))
            self.bond_encoder = bond
            self.eps = nn.Parameter(torch.zeros(1))

        def forward(self, x, edge_index, edge_attr, edge_weight=None):
            if edge_weight is None:
                edge_weight = x.new_ones(edge_index.shape[1], 1)
            elif edge_weight.ndim < 2:
                edge_weight = edge_weight[:, None]
            e = self.bond_encoder(edge_attr)
            return self.mlp((1 + self.eps) * x + self.propagate(edge_index, x=x, edge_attr=e, edge_weight=edge_weight))

        def message(self, x_j, edge_attr, edge_weight):
            return F.gelu(x_j + edge_attr) * edge_weight

    return GINEConv


class BaseGINE(nn.Module):
    """``my_convs.BaseGINE``: GINE → BatchNorm → GELU → dropout → residual ``(h + h') / √2``, per layer."""

    def __init__(self, layers: int, dim: int, dropout: float, bond: nn.Module) -> None:
        super().__init__()
        conv = _gine_conv_class()
        self.convs = nn.ModuleList(conv(dim, bond) for _ in range(layers))
        self.bns = nn.ModuleList(nn.BatchNorm1d(dim) for _ in range(layers))
        self.dropout = dropout

    def forward(self, x, edge_index, edge_attr, edge_weight=None):
        for conv, bn in zip(self.convs, self.bns):
            new = F.dropout(F.gelu(bn(conv(x, edge_index, edge_attr, edge_weight))), p=self.dropout,
                            training=self.training)
            x = (x + new) / 2 ** 0.5
        return x


# -- SIMPLE ---------------------------------------------------------------------------------------------------------
def _log1mexp(x: torch.Tensor) -> torch.Tensor:
    """``log(1 − exp(−|x|))``, stable."""
    x = -x.abs()
    return torch.where(x > -0.6931471805599453, torch.log(-torch.expm1(x)), torch.log1p(-torch.exp(x)))


def _combine(left: torch.Tensor, right: torch.Tensor, cap: int) -> torch.Tensor:
    """Count distributions of two sibling subtrees ``[R, M, a]``, ``[R, M, b]`` → their sum's ``[R, M, C]``
    (``C = min(a + b − 1, cap + 1)``): ``out[c] = logsumexp_{i + j = c} left[i] + right[j]``."""
    a, b = left.shape[-1], right.shape[-1]
    c = min(a + b - 1, cap + 1)
    j = torch.arange(c)[None, :] - torch.arange(a)[:, None]
    j = torch.where((j >= 0) & (j < b), j, torch.full_like(j, b))
    padded = torch.cat([right, right.new_full((*right.shape[:-1], 1), LOG_ZERO)], dim=-1)
    return torch.logsumexp(left.unsqueeze(-1) + padded[..., j], dim=-2)


def _outside(parent: torch.Tensor, left: torch.Tensor, right: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The children's outside values from the parent's ``[R, M, C]``: ``O_l[i] = logsumexp_j O[i + j] + right[j]``,
    ``O_r[j] = logsumexp_i O[i + j] + left[i]``."""
    a, b, c = left.shape[-1], right.shape[-1], parent.shape[-1]
    s = torch.arange(a)[:, None] + torch.arange(b)[None, :]
    s = torch.where(s < c, s, torch.full_like(s, c))
    padded = torch.cat([parent, parent.new_full((*parent.shape[:-1], 1), LOG_ZERO)], dim=-1)[..., s]  # [R,M,a,b]
    return (torch.logsumexp(padded + right.unsqueeze(-2), dim=-1),
            torch.logsumexp(padded + left.unsqueeze(-1), dim=-2))


def k_subset_log_marginals(theta: torch.Tensor, k: int) -> torch.Tensor:
    """Log marginals ``[R, N]`` of "exactly k of N" under independent literals (positive weight θ, negative
    ``log(1 − e^θ)``, detached), N a power of two: up the tree (``levelwiseSL``), then down it (``levelwiseMars``)."""
    leaves = torch.stack([_log1mexp(-theta.detach()), theta], dim=-1)  # [R, N, 2]
    levels = [leaves]
    while levels[-1].shape[1] > 1:
        cur = levels[-1]
        levels.append(_combine(cur[:, 0::2], cur[:, 1::2], k))
    root = levels[-1]
    outside = root.new_full(root.shape, LOG_ZERO)
    outside[..., k] = 0.0
    outside = outside - root[..., k:k + 1]  # normalised by log Z
    for cur in reversed(levels[:-1]):
        o_left, o_right = _outside(outside, cur[:, 0::2], cur[:, 1::2])
        outside = torch.stack([o_left, o_right], dim=2).reshape(cur.shape)
    return theta + outside[..., 1]


class SimpleSampler(nn.Module):
    """``EdgeSIMPLEBatched``: k-subset marginals and Gumbel top-k samples with the marginals' gradient."""

    def forward(self, scores: torch.Tensor, k: int, times: int) -> tuple[torch.Tensor, torch.Tensor]:
        bsz, nmax, ens = scores.shape
        flat = scores.permute(0, 2, 1).reshape(bsz * ens, nmax)
        local_k, n = min(k, nmax), 2 ** math.ceil(math.log2(nmax))
        flat = torch.cat([flat, flat.new_full((flat.shape[0], n - nmax), -LARGE_NUMBER)], dim=1)
        marginals = k_subset_log_marginals(flat.double(), local_k).exp().to(flat.dtype)
        with torch.no_grad():
            u = torch.rand((times, *flat.shape))
            idx = (flat.detach() - torch.log(-torch.log(u))).topk(local_k, dim=-1).indices
            samples = flat.new_zeros((times, *flat.shape)).scatter_(2, idx, 1.0)
        samples = (samples - marginals[None]).detach() + marginals[None]
        mask = samples[..., :nmax].reshape(times, bsz, ens, nmax).permute(0, 1, 3, 2)
        return mask, marginals[:, :nmax].reshape(bsz, ens, nmax).permute(0, 2, 1)

    @torch.no_grad()
    def validation(self, scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """One pass: the marginals and the deterministic top-k mask (``select_from_edge_candidates``)."""
        _, marginals = self.forward(scores, k, 1)
        if k >= scores.shape[1]:
            return scores.new_ones(scores.shape)[None], marginals
        thresh = torch.topk(scores, k, dim=1).values[:, -1:, :]
        return (scores >= thresh).float()[None], marginals


def pairwise_kl(inputs: torch.Tensor, weight: float) -> torch.Tensor:
    """``aux_loss.pairwise_KL_divergence``: minus the symmetric KL of every item pair's softmax over priors."""
    _, n, e = inputs.shape
    if e == 1:
        return inputs.new_zeros(())
    i, j = np.triu_indices(n, k=1)
    logq = torch.log_softmax(inputs, dim=-1)
    src, dst = logq[:, i], logq[:, j]
    loss = (dst.exp() * (dst - src)).sum(-1).mean() + (src.exp() * (src - dst)).sum(-1).mean()
    return -loss * weight


# -- the hybrid model ---------------------------------------------------------------------------------------------
class PRMPNNRef(nn.Module):
    """Upstream ``EdgeSelector`` → ``GraphRewirer`` → downstream ``GNN_Duo`` (``HybridModel``)."""

    def __init__(self, dataset: GraphDataset, hp: dict, *, include_original: bool = False) -> None:
        from torch_geometric.nn import MLP

        super().__init__()
        up, hid, pe = int(hp["up_hidden"]), int(hp["hidden"]), int(hp["pe_part_dim"])
        p = float(hp["dropout"])
        self.add_k, self.del_k, self.ens = int(hp["add_k"]), int(hp["del_k"]), int(hp["priors"])
        self.kl = float(hp["kl_weight"])
        # upstream
        self.up_encoder = NodeEncoder(dataset, up, 4, 20, pe)
        self.up_gnn = BaseGINE(int(hp["up_layers"]), up, p, bond_encoder(dataset, up))
        dims = [2 * up] + [up] * (int(hp["score_layers"]) - 1) + [self.ens]
        self.projector1 = MLP(dims, norm="batch_norm", dropout=p)
        self.projector2 = MLP(dims, norm="batch_norm", dropout=p)
        self.sampler = SimpleSampler()
        # downstream
        self.encoder = NodeEncoder(dataset, hid, 4, 20, pe)
        edge = bond_encoder(dataset, hid)
        self.candid_gnn = BaseGINE(int(hp["layers"]), hid, p, edge)
        self.candid_mlp = MLP([hid] * 4, dropout=0.0, plain_last=False)
        self.include_original = include_original
        if include_original:
            self.gnn = BaseGINE(int(hp["layers"]), hid, p, edge)
            self.mlp = MLP([hid] * 4, dropout=0.0, plain_last=False)
        self.final_mlp = MLP([hid * (2 if include_original else 1), hid, dataset.num_classes], dropout=0.0)

    # upstream (EdgeSelector.forward)
    def scores(self, data):
        x = self.up_gnn(self.up_encoder(data), data.edge_index, data.edge_attr)
        offset = data._slice_dict["x"].to(x.device)[:-1]
        cand = data.edge_candidate + offset.repeat_interleave(data.num_edge_candidate)[:, None]
        add = self.projector1(torch.hstack([x[cand[:, 0]], x[cand[:, 1]]]))
        ei = data.edge_index[:, data.edge_index[0] <= data.edge_index[1]]
        delete = self.projector2(torch.hstack([x[ei[0]], x[ei[1]]]))
        return add, delete, cand

    def _sample(self, logits: torch.Tensor, k: int):
        if self.training:
            mask, marginals = self.sampler(logits, k, 1)
            return mask, marginals
        return self.sampler.validation(logits, k)

    # GraphRewirer.forward (separate = False: additions and deletions on one graph)
    def rewire(self, data, add_logits, del_logits, cand):
        from torch_geometric.data import Batch
        from torch_geometric.utils import to_dense_batch, to_undirected

        graphs = Batch.to_data_list(data)
        e, b, n = self.ens, data.num_graphs, data.num_nodes
        edge_ptr = data._slice_dict["edge_index"]
        nedges = edge_ptr[1:] - edge_ptr[:-1]
        aux = add_logits.new_zeros(())
        # additions
        logits, real = to_dense_batch(add_logits, torch.arange(b).repeat_interleave(data.num_edge_candidate),
                                      max_num_nodes=int(data.num_edge_candidate.max()))
        mask, marginals = self._sample(logits - (~real)[..., None].float() * LARGE_NUMBER, self.add_k)
        if self.training:
            aux = aux + pairwise_kl(mask.reshape(-1, *mask.shape[-2:]), self.kl)
        weights = marginals[None] if self.training else marginals[None] * mask
        add_w = weights.permute(1, 2, 3, 0)[real].reshape(-1, e)
        add_ei, add_w = to_undirected(cand.T, add_w, num_nodes=n)
        shift = torch.arange(e).repeat_interleave(add_ei.shape[1]) * n
        add_ei = add_ei.repeat(1, e) + shift
        add_w = add_w.t().reshape(-1)
        # deletions
        batch_idx = torch.arange(b).repeat_interleave(nedges)
        direct = data.edge_index[0] <= data.edge_index[1]
        logits, real = to_dense_batch(del_logits, batch_idx[direct],
                                      max_num_nodes=int(torch.bincount(batch_idx[direct], minlength=b).max()))
        logits = -logits
        mask, _ = self._sample(logits - (~real)[..., None].float() * LARGE_NUMBER, self.del_k)
        if self.training:
            aux = aux + pairwise_kl(mask.reshape(-1, *mask.shape[-2:]), self.kl)
        del_w = (1.0 - mask).permute(1, 2, 3, 0)[real].reshape(-1, e)
        _, del_w = to_undirected(data.edge_index[:, direct], del_w, num_nodes=n, reduce="mean")
        del_w = del_w.t().reshape(-1)
        # merge_del_add on the batch of E copies
        rewired = Batch.from_data_list(graphs * e)
        rewired.edge_index = torch.cat([rewired.edge_index, add_ei], dim=1)
        rewired.edge_attr = torch.cat([rewired.edge_attr, rewired.edge_attr.new_zeros(add_w.shape[0],
                                                                                       rewired.edge_attr.shape[1])])
        rewired.edge_weight = torch.cat([del_w, add_w])
        if not self.training:  # sparsify_edge_weight_simplified
            keep = rewired.edge_weight.nonzero().reshape(-1)
            rewired.edge_index, rewired.edge_weight = rewired.edge_index[:, keep], rewired.edge_weight[keep]
            rewired.edge_attr = rewired.edge_attr[keep]
        return rewired, aux

    def forward(self, data):
        from torch_geometric.nn import global_mean_pool

        add, delete, cand = self.scores(data)
        rewired, aux = self.rewire(data, add, delete, cand)
        h = self.candid_gnn(self.encoder(rewired), rewired.edge_index, rewired.edge_attr, rewired.edge_weight)
        graphs = [self.candid_mlp(global_mean_pool(h, rewired.batch, size=rewired.num_graphs))]
        if self.include_original:
            h0 = self.gnn(self.encoder(data), data.edge_index, data.edge_attr)
            g0 = self.mlp(global_mean_pool(h0, data.batch, size=data.num_graphs))
            graphs = [g0.repeat(graphs[0].shape[0] // g0.shape[0], 1)] + graphs
        return self.final_mlp(torch.cat(graphs, dim=1)), rewired, aux


def _loss(net: PRMPNNRef, batch) -> torch.Tensor:
    pred, rewired, aux = net(batch)
    return multilabel_loss(pred, rewired.y) + aux


def _predict(net: PRMPNNRef, batch) -> torch.Tensor:
    pred, _, _ = net(batch)
    return pred.reshape(net.ens, batch.num_graphs, -1).mean(0)


def _case(preset: str) -> FamilyCase:
    hp = dict(get_preset("pr-mpnn", preset).hparams)
    ref = Reference(preprocess=lambda ds: preprocess(ds, int(hp["candidates"]), 20, 4),
                    build=lambda ds, gb_model: PRMPNNRef(ds, hp, include_original=bool(hp.get("original_graph"))),
                    loss=_loss, predict=_predict, source=SOURCE)
    return FamilyCase(f"pr-mpnn/{preset}", "pr-mpnn", hp, peptides_func, ref, batch_size=SMALL_BATCH,
                      notes="both sides run the reference's original-graph branch (aa23fa47efff's HybridModel always "
                            "hands the input graph to GNN_Duo): 2,054,324 parameters",
                      extra={"graphs": GRAPHS})


def cases() -> list[FamilyCase]:
    """PR-MPNN at its Peptides-func preset (``qian2024``: SIMPLE, 80 added / 50 deleted of 350 candidates, 5 priors;
    upstream 8 × 256, downstream 4 × 128, LapPE 4 + RWSE 20)."""
    return [_case("qian2024")]
