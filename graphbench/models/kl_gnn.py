"""(k, 1)-GNN in the model registry (``kl-gnn``): Zhou, Wang, Zhang, "From Relational Pooling to Subgraph GNNs: A
Universal Framework for More Expressive GNNs", ICML 2023. Equations, choices and the reference code's locations:
``docs/models/kl-gnn.md``.

Node / edge encoders → :class:`~graphbench.subgraph.KLGNN` (``architecture="joint"``, the paper's (a)) or
:class:`~graphbench.subgraph.kl.KLGNNParallel` (``"parallel"``, (b), what the official ZINC script builds) on the
cached ``kl_tuples`` transform (all distance-filtered k-subsets). Training uses ``⌊rate · T⌋ + 1`` of each graph's
T tuples, drawn afresh every step; evaluation (``model.eval()``) uses every tuple, as the official code, so a
graph's prediction depends neither on the batch it is in nor on its node numbering. With ``layers`` MPNN layers on
the individualised copies (joint) or on the original graph (parallel).

**Memory guard.** ``check_inputs(dataset, hparams)`` estimates the individualised node copies of the largest
training batch before any transform runs and raises :class:`~graphbench.subgraph.LiftedGraphTooLarge` above
``lifted_budget_gb``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import as_spec
from graphbench.nn import FeatureEncoder
from graphbench.presets import Preset, register_preset
from graphbench.registry import MODELS
from graphbench.subgraph.guard import BUDGET_HPARAM, check_budget
from graphbench.subgraph.kl import COMBINES, KLGNN, SUBSET_POOLS, KLGNNParallel, KLInput
from graphbench.subgraph.product import shortest_path_distances
from graphbench.transforms.base import NodeIndex
from graphbench.transforms.batch import Batch, as_batch, with_inputs

#: Evaluation without gradients embeds tuples in chunks of about this many individualised node copies.
EVAL_CHUNK_COPIES = 200_000
ARCHITECTURES = ("joint", "parallel")
KL_HPARAMS = {
    "hidden": HParam(int, 64, "hidden width", low=1),
    "layers": HParam(int, 4, "MPNN layers: on each individualised copy (joint) or on the original graph "
                     "(parallel; the code's num_layers)", low=1),
    "architecture": HParam(str, "joint", "joint: identifiers multiply the node features before the MPNN (paper "
                           "architecture (a)); parallel: separate MPNNs on the graph and on the identifiers, merged "
                           "per tuple ((b), the official ZINC network)", choices=ARCHITECTURES),
    "id_layers": HParam(int, 5, "parallel: MPNN layers on the identifier embeddings (the code's num_layers_id)",
                        low=0),
    "global_layers": HParam(int, 0, "MPNN layers on each tuple's graph after the orderings are pooled (the code's "
                            "num_layers_global)", low=0),
    "regression_layers": HParam(int, 4, "parallel: residual MLP layers after the tuple pooling (the code's "
                                "num_layers_regression)", low=0),
    "combine": HParam(str, "hadamard", "parallel: how the graph and identifier states meet (the code's cat)",
                      choices=COMBINES),
    "k": HParam(int, 2, "nodes individualised per tuple (k! orderings each)", low=1, high=4),
    "tuple_max_dist": HParam(int, 0, "keep only tuples with pairwise distances <= this (0: all)", low=0),
    "rate": HParam(float, 0.1, "training: ⌊rate · T⌋ + 1 of each graph's T tuples, a fresh sample each step "
                   "(1: all); evaluation always uses every tuple", low=0.0, high=1.0, low_open=True),
    "subset_pool": HParam(str, "max", "pooling of a graph's tuple embeddings (the code's global_pool)",
                          choices=SUBSET_POOLS),
    "se_dim": HParam(int, 0, "with a positional / structural encoding (pe): map it linearly to se_dim channels and "
                     "concatenate them to a (hidden - se_dim)-wide node embedding (the code's se_dim); 0: add a "
                     "hidden-wide linear map of it instead", low=0),
    "lifted_budget_gb": BUDGET_HPARAM,
}
KL_SEARCH_SPACE = {"hidden": {"type": "categorical", "choices": [32, 64]},
                   "layers": {"type": "int", "low": 2, "high": 5},
                   "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}}


def _count_cliques(adj: list[int], k: int) -> int:
    """k-cliques of a graph given as neighbour bitsets ``adj`` (node i's neighbours with larger ids)."""
    def extend(candidates: int, size: int) -> int:
        if size == k:
            return 1
        total = 0
        while candidates:
            low = candidates & -candidates
            i = low.bit_length() - 1
            candidates ^= low
            total += extend(candidates & adj[i], size + 1)
        return total
    return extend((1 << len(adj)) - 1, 0)


def count_tuples(num_nodes: int, src, dst, k: int, max_dist: int) -> int:
    """How many tuples ``kl_tuples`` keeps for one graph (exact: the k-cliques of the "within max_dist" graph; one
    when none, the empty or padded tuple)."""
    if num_nodes < k:
        return 1
    if k == 1 or not max_dist:
        return math.comb(num_nodes, k)
    d = shortest_path_distances(num_nodes, src, dst).numpy()
    close = (d <= max_dist) & (d.T <= max_dist)
    np.fill_diagonal(close, False)
    adj = [sum(1 << int(j) for j in np.flatnonzero(close[i]) if j > i) for i in range(num_nodes)]
    return max(_count_cliques(adj, k), 1)


@MODELS.register("kl-gnn", aliases=("klgnn", "idmpnn", "kl_gnn"), hparams=KL_HPARAMS, search_space=KL_SEARCH_SPACE,
                 edge_features=True, task_levels=("graph",),
                 paper="Zhou, Wang, Zhang, From Relational Pooling to Subgraph GNNs, ICML 2023 ((k, 1)-GNN)")
class KLNet(nn.Module):
    """(k, 1)-GNN (module docstring): node / edge encoders → the joint or parallel network on the batch's tuples."""

    extras = {"kl_tuples": NodeIndex()}

    @classmethod
    def input_transforms(cls, hparams: dict) -> list[dict]:
        return [{"name": "kl_tuples", "k": hparams.get("k", 2), "max_dist": hparams.get("tuple_max_dist", 0)}]

    @classmethod
    def check_inputs(cls, dataset, hparams: dict) -> None:
        """Memory guard: node copies ``Σ_g (⌊rate·T_g⌋ + 1) · k! · n_g`` of the largest training batch (T_g
        exact)."""
        k, rate, hidden = hparams["k"], hparams["rate"], hparams["hidden"]
        layers = hparams["layers"] if hparams.get("architecture", "joint") == "joint" else hparams["id_layers"]
        layers += hparams.get("global_layers", 0)
        bs = hparams.get("batch_size", 32)
        copies = []
        for g in dataset.graphs:
            src, dst = g.edges()
            t = count_tuples(g.num_nodes(), src, dst, k, hparams["tuple_max_dist"])
            keep = t if rate >= 1.0 else min(t, math.floor(rate * t) + 1)
            copies.append(keep * math.factorial(k) * max(g.num_nodes(), 1))
        batch = sorted(copies, reverse=True)[:bs]
        nodes = sum(batch)
        est = 4 * nodes * hidden * (5 * layers + 4)   # per layer: message, MLP hidden/out, norm, ReLU, residual
        check_budget(est, hparams.get("lifted_budget_gb"),
                     f"{len(batch)} graphs → {nodes:,} individualised node copies (k = {k}, {math.factorial(k)} "
                     f"orderings per tuple, rate {rate}) at hidden {hidden} × {layers} layers",
                     f"lower rate, set tuple_max_dist (distance filter), lower k, lower batch_size (now {bs}), "
                     "lower hidden or layers")

    def __init__(self, in_dim, out_dim, *, hidden: int = 64, layers: int = 4, architecture: str = "joint",
                 id_layers: int = 5, global_layers: int = 0, regression_layers: int = 4, combine: str = "hadamard",
                 k: int = 2, tuple_max_dist: int = 0, rate: float = 0.1, subset_pool: str = "max", se_dim: int = 0,
                 lifted_budget_gb: float = 0.0, task_level: str = "graph", edge_dim=None, pe_dim: int = 0) -> None:
        super().__init__()
        if task_level != "graph":
            raise ValueError("kl-gnn supports graph-level tasks only")
        self.k, self.rate, self.tuple_max_dist = k, rate, tuple_max_dist
        if se_dim and not 0 < se_dim < hidden:
            raise ValueError(f"se_dim must be between 1 and hidden - 1 = {hidden - 1}, got {se_dim}")
        # the code's input: [Emb(atom) (hidden - se_dim) ‖ Linear(rwse) (se_dim)] when se_dim and a pe are given
        self.se = nn.Linear(pe_dim, se_dim) if (se_dim and pe_dim) else None
        self.encoder = FeatureEncoder(as_spec(in_dim), hidden - se_dim if self.se is not None else hidden,
                                      pe_dim=0 if self.se is not None else pe_dim)
        espec = as_spec(edge_dim)
        # the code's edge embedding (one table shared by every layer, padding row 0 for "no edge")
        self.edge_encoder = FeatureEncoder(espec, hidden) if espec.kind != "none" else None
        if architecture == "joint":
            self.kl = KLGNN(None, out_dim, k=k, hidden=hidden, layers=layers, global_layers=global_layers,
                            subset_pool=subset_pool, encode=False)
        elif architecture == "parallel":
            self.kl = KLGNNParallel(None, out_dim, k=k, hidden=hidden, graph_layers=layers, id_layers=id_layers,
                                    global_layers=global_layers, regression_layers=regression_layers,
                                    subset_pool=subset_pool, combine=combine, encode=False)
        else:
            raise ValueError(f"unknown architecture {architecture!r}; choose one of {ARCHITECTURES}")

    def _input(self, batch: Batch, keep: torch.Tensor | None = None) -> KLInput:
        g = batch.graph
        src, dst = g.edges()
        tuples, tuple_graph = batch["kl_tuples"].long(), batch.graph_ids("kl_tuples")
        if keep is not None:
            tuples, tuple_graph = tuples[keep], tuple_graph[keep]
        return KLInput(src, dst, g.batch_num_nodes(), g.batch_num_edges(), tuples, tuple_graph)

    def _sample(self, batch: Batch) -> torch.Tensor:
        """A random ``min(T_g, ⌊rate · T_g⌋ + 1)`` of every graph's tuples (the code's count), as a boolean mask."""
        sizes = batch.sizes["kl_tuples"]
        gid = batch.graph_ids("kl_tuples")
        key = torch.rand(len(gid)).to(gid.device) + gid.to(torch.float64)
        order = torch.argsort(key)                               # grouped by graph, random within each graph
        start = torch.cumsum(sizes, 0) - sizes
        rank = torch.empty_like(order)
        rank[order] = torch.arange(len(order), device=order.device) - start[gid[order]]
        want = torch.minimum(torch.floor(self.rate * sizes.double()).long() + 1, sizes)
        return rank < want[gid]

    def forward(self, batch, feat=None, efeat=None, pe=None) -> torch.Tensor:
        batch = with_inputs(as_batch(batch, feat, efeat, pe), self.extras,
                            self.input_transforms({"k": self.k, "tuple_max_dist": self.tuple_max_dist}))
        if self.se is not None:
            x = torch.cat([self.encoder(batch.feat, batch.num_nodes), self.se(batch.pe)], 1)
        else:
            x = self.encoder(batch.feat, batch.num_nodes, batch.pe)
        e = self.edge_encoder(batch.efeat, batch.graph.num_edges()) if self.edge_encoder is not None else None
        if self.training and self.rate < 1.0:
            return self.kl(x, self._input(batch, self._sample(batch)), e)
        chunk = EVAL_CHUNK_COPIES if not torch.is_grad_enabled() else None
        return self.kl(x, self._input(batch), e, chunk_copies=chunk)




# -- paper preset ----------------------------------------------------------------------------------------------------
KLGNN_REPO = "zhouc20/KLGNN@a6b85b7316bf"
register_preset(Preset(
    "zhou2023", "kl-gnn", "Zhou, Wang, Zhang, From Relational Pooling to Subgraph GNNs, ICML 2023 (official code "
    f"{KLGNN_REPO}, zinc/README.md 'IDMPNN baseline')",
    "(k, 1)-GNN on ZINC as the official ZINC script builds it: the parallel network (8 MPNN layers on the graph, 5 on "
    "the identifiers of k = 4 tuples within distance 3, Hadamard merge, 5 layers per tuple, max over tuples, 4 "
    "residual regression layers), atom embedding (48) ‖ RWSE map (16), width 64, 10% of the tuples per training "
    "step, every tuple at evaluation, batch 32, Adam lr 1e-3 with a cosine schedule, L1 loss, 1000 epochs",
    dict(architecture="parallel", k=4, tuple_max_dist=3, rate=0.1, hidden=64, layers=8, id_layers=5,
         global_layers=5, regression_layers=4, combine="hadamard", subset_pool="max", pe="rwse", pe_dim=20,
         se_dim=16, batch_size=32, lr=1e-3, weight_decay=0.0, scheduler="cosine", epochs=1000, patience=1000,
         min_lr=0.0, monitor="val_metric"),
    datasets=("zinc",),
    deviations=(
        "Tuples: the script (no --no_cluster) restricts them to the communities of igraph's multilevel clustering "
        "at resolution 0.5 (graph2IDsubgraph_cluster); ours keeps every distance-filtered 4-subset (a superset). "
        "Inputs: as the script's model (se_dim defaults to 16 and the preprocessing always computes the random-walk "
        "encoding), a 48-wide atom embedding is concatenated with a 16-wide linear map of 20 random-walk return "
        "probabilities; the code's 20 steps are walk lengths 0..19 (length 0 is the constant 1), graphbench's "
        "rwse lengths 1..20. The code also builds two unused ModuleLists "
        "(graph_mlps_aggregate, id_mlps_aggregate: 13 × 8,448 parameters) that ours does not. Schedule: the "
        "code's cosine starts with a 50-epoch warm-up from 0.1·lr (adjust_learning_rate); ours is torch's "
        "CosineAnnealingLR without warm-up; its ReduceLROnPlateau(0.9, 5) is overwritten by the cosine every "
        "epoch and so has no effect. The training loader drops the last incomplete batch; ours keeps it. AdamW "
        "with weight decay 0 is Adam. Embedding vocabularies are the dataset's: 28 atom rows (the code: the "
        "largest atom id + 1) and 4 bond rows (docs/models/kl-gnn.md §5)."),
    reference=f"{KLGNN_REPO}:zinc/run_IDMPNN.py (zinc/README.md 'IDMPNN baseline' command; "
              "IDMPNN_Global.py:IDMPNN_Global_parallel)",
    params=None, params_dataset="zinc",
    params_missing="the repository has no logs, the script prints no parameter count and we found none in the paper; "
                   "the count of the code's modules is in docs/models/kl-gnn.md §6, checked by "
                   "tests/subgraph/test_reference_presets.py"))
