"""PR-MPNN — Qian, Manolache, Ahmed, Zeng, Van den Broeck, Niepert, Morris, "Probabilistically Rewired Message-Passing
Neural Networks", ICLR 2024; reference code ``chendiqian/PR-MPNN`` (branch ``backup``, the paper's code).

Two networks trained end to end (papers.md §5.1):

1. **Upstream rewirer.** A GIN stack (``up_layers``) over the input graph gives node embeddings ``h``. Every
   candidate pair ``(u, v)`` (non-edges, the ``edge_candidates`` transform: all of them, or the ``candidates``
   farthest by shortest-path distance — the reference's ``longest_path``) gets one score per prior,
   ``θ_add(u, v) = MLP_add([h_u ‖ h_v]) ∈ R^E`` (``priors`` = E); with ``del_k > 0`` every existing edge
   ``u < v`` gets ``θ_del(u, v) = MLP_del([h_u ‖ h_v])`` too.
2. **k-subset sampling** per graph and prior: ``add_k`` candidates are added (``del_k`` edges deleted, from
   ``−θ_del``) by an exact k-subset sample. ``sampler``: ``simple`` (default; SIMPLE, Ahmed et al. ICLR 2023:
   exact sampling forward, gradient of the exact marginals backward), ``imle`` (I-MLE perturb-and-MAP, target
   ``θ − β ∂L/∂z``) or ``gumbel`` (straight-through Gumbel-softmax relaxed top-k, temperature ``tau``); all from
   :mod:`graphbench.rewiring.simple`. While training each prior draws ``samples`` subsets (the reference's
   ``VE``); in evaluation each prior takes its deterministic top-k (the reference's choice with one sample).
3. **Downstream predictor.** Every sampled graph (E × VE of them) is the input graph with the added edges
   (both directions, weight ``z``) and the kept edges (weight ``1 − z_del``); a GIN with edge-weighted sum
   aggregation (``h_v' = MLP(h_v + Σ_u w_uv h_u)``, DGL's ``GINConv(edge_weight=...)``) runs on all of them at
   once as one disjoint union; the node states are averaged over the sampled graphs and read out as usual
   (``readout`` → head).

Gradients reach the upstream scorer through the sampler's estimator (``z`` carries the marginals' gradient).

Choices where the paper / code leave room (documented):

- Every candidate stays in the downstream graph with its weight ``z_i`` (0 for the unsampled ones in the forward
  pass), so the estimator sees ``∂L/∂z_i`` for every item as SIMPLE's derivation assumes; the reference keeps
  only the sampled edges. The forward computation is the same.
- The sampled graphs are combined by averaging node states before the readout: for sum / mean / target readouts
  this equals the reference's ``inter_graph_pooling: mean`` of the pooled vectors (it differs for ``max``); the
  reference's ``cat`` pooling and its optional extra pass over the original graph are not implemented.
- The upstream GIN reads the shared input encoder's output (the reference encodes separately); edge features
  are not used (the reference's GINE); PR-MPNN's auxiliary KL / variance regularisers between priors are not
  implemented.
- A graph with fewer than ``add_k`` candidates (or ``del_k`` edges) adds (deletes) all of them: rows are padded
  with dummy items of logit −10⁴ that are only drawn when nothing else is left, then discarded.
- The SIMPLE marginals are computed by a sequential log-space dynamic programme over the candidates (exact,
  O(C·k) per row), not the reference's parallel circuit; fine for candidate lists of a few thousand.
"""

from __future__ import annotations

import dgl
import torch
from dgl.nn import GINConv
from torch import nn

import graphbench.transforms.candidates  # noqa: F401  (registers `edge_candidates`)
from graphbench.hparams import HParam
from graphbench.models.base import COMMON_HPARAMS, COMMON_SEARCH_SPACE, MessagePassingNet
from graphbench.nn import MLP
from graphbench.presets import Preset, register_preset
from graphbench.registry import MODELS
from graphbench.rewiring.simple import imle_topk, relaxed_topk, simple_sample, topk_khot
from graphbench.transforms.base import NodeIndex
from graphbench.transforms.batch import Batch, with_inputs

SAMPLERS = ("simple", "imle", "gumbel")
PAD_LOGIT = -1.0e4  # dummy items padding a row: drawn only when a graph has fewer than k real items

PRMPNN_HPARAMS = {
    **COMMON_HPARAMS,
    "layer_readout": HParam(str, "last", "graph tasks: read out the last layer's states (averaged over the sampled "
                            "graphs) into the head", choices=("last",)),
    "up_layers": HParam(int, 2, "upstream (rewirer) GIN layers", low=1),
    "priors": HParam(int, 2, "E: independent score heads (priors), each sampled separately (paper: 5)", low=1),
    "samples": HParam(int, 1, "VE: k-subset samples per prior while training (paper: 1)", low=1),
    "add_k": HParam(int, 8, "candidate edges added per graph and sample (k of the k-subset)", low=0),
    "del_k": HParam(int, 0, "existing edges deleted per graph and sample (0: no deletion)", low=0),
    "candidates": HParam(int, 0, "candidate pool: the farthest non-edges by shortest-path distance (0: all "
                         "non-edges)", low=0),
    "sampler": HParam(str, "simple", "k-subset sampler and gradient estimator", choices=SAMPLERS),
    "tau": HParam(float, 1.0, "gumbel: softmax temperature", low=0.0, low_open=True),
    "imle_beta": HParam(float, 10.0, "imle: step β of the target distribution θ' = θ − β ∂L/∂z", low=0.0,
                        low_open=True),
}
PRMPNN_SEARCH_SPACE = {**COMMON_SEARCH_SPACE, "add_k": {"type": "categorical", "choices": [2, 4, 8, 16]}}


def _positions(group: torch.Tensor, sizes: torch.Tensor) -> torch.Tensor:
    """Index of every row within its graph (rows are ordered graph by graph)."""
    offsets = torch.cumsum(sizes, 0) - sizes
    return torch.arange(len(group), device=group.device) - offsets[group]


def undirected_item(src: torch.Tensor, dst: torch.Tensor, fwd: torch.Tensor,
                    n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For every directed edge ``src[j] → dst[j]`` of a graph with ``n`` nodes, the deletion item it belongs to:
    ``(item [m], found [m])`` where ``fwd[item[j]]`` is the edge ``u → v`` with ``u < v`` of the same node pair
    ``{src[j], dst[j]}``, and ``found[j]`` is false for self-loops and for a pair stored only as ``v → u``
    (such an edge is no deletion candidate and keeps weight 1).

    The edge list may be in any order (a molecule lists its ring-closure bonds last; a batch may be permuted): the
    pair keys ``u · n + v`` of the items are sorted, with their permutation, before the binary search. Parallel
    edges of one pair all map to the same item (the first in sorted order). See ``docs/models/prmpnn.md`` §4.
    """
    keys = torch.minimum(src, dst) * n + torch.maximum(src, dst)
    if len(fwd) == 0:
        return torch.zeros_like(keys), torch.zeros_like(keys, dtype=torch.bool)
    item_keys, perm = torch.sort(src[fwd] * n + dst[fwd], stable=True)
    where = torch.searchsorted(item_keys, keys).clamp(max=len(item_keys) - 1)
    found = (item_keys[where] == keys) & (src != dst)
    return perm[where], found


@MODELS.register("pr-mpnn", hparams=PRMPNN_HPARAMS, search_space=PRMPNN_SEARCH_SPACE, edge_features=False,
                 task_levels=("graph", "node"), paper="Qian et al., ICLR 2024")
class PRMPNN(MessagePassingNet):
    """Probabilistically rewired MPNN (see module docstring)."""

    extras = {"cand_index": NodeIndex(dim=1)}

    @classmethod
    def input_transforms(cls, hparams: dict) -> list[dict]:
        return [{"name": "edge_candidates", "pool": int(hparams.get("candidates", 0))}]

    def __init__(self, in_dim, out_dim, *, up_layers: int = 2, priors: int = 2, samples: int = 1, add_k: int = 8,
                 del_k: int = 0, candidates: int = 0, sampler: str = "simple", tau: float = 1.0,
                 imle_beta: float = 10.0, **common) -> None:
        if sampler not in SAMPLERS:
            raise ValueError(f"pr-mpnn: unknown sampler {sampler!r}; choose one of {SAMPLERS}")
        if common.get("encoder", True) is False:
            raise ValueError("pr-mpnn: the upstream rewirer reads the input encoder's output; keep encoder=true")
        self.priors, self.samples, self.add_k, self.del_k = priors, samples, add_k, del_k
        self.sampler, self.tau, self.imle_beta, self.candidates = sampler, tau, imle_beta, candidates
        super().__init__(in_dim, out_dim, **common)
        d = self.hidden
        self.upstream = nn.ModuleList(GINConv(MLP(d, d, d, 2, norm="batch"), "sum") for _ in range(up_layers))
        self.up_norms = nn.ModuleList(nn.BatchNorm1d(d) for _ in range(up_layers))
        self.score_add = MLP(2 * d, d, priors, 2)
        self.score_del = MLP(2 * d, d, priors, 2) if del_k > 0 else None

    def make_conv(self, layer: int, in_dim: int, out_dim: int) -> nn.Module:
        return GINConv(MLP(in_dim, self.hidden, out_dim, 2, norm="batch"), "sum")

    # -- upstream ---------------------------------------------------------------------------------------------
    def upstream_embeddings(self, batch: Batch, h: torch.Tensor) -> torch.Tensor:
        for conv, norm in zip(self.upstream, self.up_norms):
            h = torch.relu(norm(conv(batch.graph, h)))
        return h

    def select(self, theta: torch.Tensor, group: torch.Tensor, sizes: torch.Tensor, k: int) -> torch.Tensor:
        """k-hot choices ``[S, items]`` from scores ``theta [items, E]`` grouped by graph: per graph and prior a
        k-subset (``samples`` draws per prior while training, the top-k in evaluation); ``S = E · draws``."""
        num_graphs, e = len(sizes), theta.shape[1]
        width = max(int(sizes.max()) if len(sizes) else 0, k, 1)
        pos = _positions(group, sizes)
        padded = theta.new_full((num_graphs, width, e), PAD_LOGIT)
        padded = padded.index_put((group, pos), theta).transpose(1, 2)  # [B, E, width]
        if not self.training:
            z = topk_khot(padded, k).unsqueeze(0)
        elif self.sampler == "simple":
            z = simple_sample(padded, k, num_samples=self.samples)
        elif self.sampler == "imle":
            z = imle_topk(padded, k, beta=self.imle_beta, num_samples=self.samples)
        else:
            z = relaxed_topk(padded, k, tau=self.tau, hard=True, num_samples=self.samples)
        z = z[:, group, :, pos]  # [items, draws, E]
        return z.reshape(len(group), -1).transpose(0, 1)  # [S, items], sample s = draw · E + prior

    def rewire(self, batch: Batch, h: torch.Tensor) -> tuple[dgl.DGLGraph, torch.Tensor, int]:
        """``(union graph, edge weights, S)``: the S sampled graphs of the batch as one disjoint union."""
        up = self.upstream_embeddings(batch, h)
        n = batch.num_nodes
        src0, dst0 = batch.graph.edges()
        own = with_inputs(batch, self.extras, self.input_transforms({"candidates": self.candidates}))
        cand, cgroup, csizes = own["cand_index"], own.graph_ids("cand_index"), own.sizes["cand_index"]
        parts_src, parts_dst, weights = [src0], [dst0], []
        s = None
        if self.add_k > 0 and cand.shape[1] > 0:
            theta = self.score_add(torch.cat([up[cand[0]], up[cand[1]]], dim=-1))
            z_add = self.select(theta, cgroup, csizes, self.add_k)
            s = z_add.shape[0]
            parts_src += [cand[0], cand[1]]
            parts_dst += [cand[1], cand[0]]
        w_orig = torch.ones(1, len(src0), dtype=h.dtype, device=h.device)
        if self.score_del is not None and len(src0) > 0:
            fwd = (src0 < dst0).nonzero().squeeze(1)  # one id per undirected edge u < v
            theta = self.score_del(torch.cat([up[src0[fwd]], up[dst0[fwd]]], dim=-1))
            gid = torch.repeat_interleave(torch.arange(batch.num_graphs, device=h.device),
                                          batch.graph.batch_num_edges())[fwd]
            sizes = torch.bincount(gid, minlength=batch.num_graphs)
            z_del = self.select(-theta, gid, sizes, self.del_k)  # [S, M]
            s = z_del.shape[0] if s is None else s
            item, found = undirected_item(src0, dst0, fwd, n)
            w_orig = torch.where(found.unsqueeze(0), 1.0 - z_del[:, item], torch.ones_like(z_del[:, item]))
        s = 1 if s is None else s
        weights.append(w_orig.expand(s, -1))
        if len(parts_src) > 1:
            weights += [z_add, z_add]
        base_src, base_dst = torch.cat(parts_src), torch.cat(parts_dst)
        shift = (torch.arange(s, device=h.device) * n).unsqueeze(1)
        union = dgl.graph(((base_src + shift).reshape(-1), (base_dst + shift).reshape(-1)), num_nodes=s * n,
                          device=h.device)
        return union, torch.cat(weights, dim=1).reshape(-1).to(h.dtype), s

    # -- downstream -------------------------------------------------------------------------------------------
    def layer_states(self, batch: Batch, h: torch.Tensor) -> list[torch.Tensor]:
        graph, w, s = self.rewire(batch, h)
        n = batch.num_nodes
        x = h.repeat(s, 1)
        states = [h]
        for i, conv in enumerate(self.convs):
            x = self.layer_step(i, x, conv(graph, x, edge_weight=w))
            states.append(x.reshape(s, n, -1).mean(0))  # average over the sampled graphs
        return states


register_preset(Preset(
    "qian2024", "pr-mpnn", "Qian et al., PR-MPNN, ICLR 2024 (backup-branch config for Peptides-func; papers.md §5.2)",
    "PR-MPNN on Peptides-func: SIMPLE, 80 edges added and 50 deleted per graph from 350 farthest candidates, 5 "
    "priors, 1 sample each, upstream GIN 8 layers, downstream GIN 4 layers × 128, dropout 0.1, batch 128",
    dict(sampler="simple", add_k=80, del_k=50, candidates=350, priors=5, samples=1, up_layers=8, layers=4,
         hidden=128, dropout=0.1, batch_size=128, lr=1e-3, epochs=250, patience=250),
    datasets=("peptides-func",),
    deviations="The reference's upstream is 256 wide and its networks are GINE (bond features); here both networks "
               "share `hidden` (128) and read no edge features; its auxiliary KL loss between priors (mask_kl = 1) "
               "is not implemented; the learning rate and schedule of the reference config are not recorded in "
               "papers.md (Adam 1e-3 with the default plateau schedule here). No published Peptides-func number."))
