"""SPEN in the model registry (``spen``): Mitton & Murray-Smith, "Subgraph Permutation Equivariant Networks",
arXiv 2111.11840 (official code ``JoshuaMitton/LPEGN``). Equations, choices and the reference code's locations:
``docs/models/spen.md``.

Node / edge encoders → :class:`~graphbench.subgraph.SPEN` on the ``hops``-hop ego networks of the batch, found per
batch (one sparse BFS limited to ``hops``, no cache needed).

**Memory guard.** ``check_inputs(dataset, hparams)`` estimates the dense ego tensors of the largest training batch
before training and raises :class:`~graphbench.subgraph.LiftedGraphTooLarge` above ``lifted_budget_gb``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from graphbench.hparams import HParam
from graphbench.models.base import EDGE_FEATURES_HPARAM, as_spec, raw_input, raw_input_dim
from graphbench.presets import Preset, register_preset
from graphbench.registry import MODELS
from graphbench.subgraph.guard import BUDGET_HPARAM, check_budget
from graphbench.subgraph.spen import SPEN, ego_subgraphs
from graphbench.transforms.batch import Batch, as_batch

# -- SPEN ------------------------------------------------------------------------------------------------------------
SPEN_HPARAMS = {
    "hidden": HParam(int, 64, "channels of each equivariant map (the code's architecture entries); a layer's "
                     "order-2 and order-1 outputs have 2·hidden (the maps' outputs concatenated)", low=1),
    "layers": HParam(int, 5, "equivariant layers before the 2→0 / 1→0 readout", low=1),
    "hops": HParam(int, 1, "ego-network radius (the code: 1)", low=1),
    "centre": HParam(bool, True, "each node's subgraph holds the node itself (the paper); false: it is left out, "
                     "the code's open neighbourhoods on label-free graphs (docs/models/spen.md §1)"),
    "residual": HParam(bool, True, "residual connections from the second layer on (the code's option, on)"),
    "graph_norm": HParam(bool, True, "GraphNorm after each layer (the code's BN option, on)"),
    "size_buckets": HParam(str, "1,2,3,4,5,6,7,8,12,16", "subgraph sizes that get their own weights, ascending: "
                           "bucket b holds sizes <= the b-th entry, one more bucket the larger ones (the code's "
                           "weight_degrees / degree_mapping; MUTAG: 2,3)"),
    "head_dropout": HParam(float, 0.5, "dropout in the fully connected head (the code: 0.5)", low=0.0, high=0.99),
    "node_features": HParam(bool, True, "put the node features on the order-2 input's diagonal; false: the input "
                            "is the normalised adjacency alone, as the code on the label-free social sets "
                            "(NUM_LABELS = 0), whatever degree feature the loader adds"),
    "edge_features": EDGE_FEATURES_HPARAM,  # on the order-2 input's edges; the code's TU files have none
    "lifted_budget_gb": BUDGET_HPARAM,
}
SPEN_SEARCH_SPACE = {"hidden": {"type": "categorical", "choices": [16, 32, 64]},
                     "layers": {"type": "int", "low": 2, "high": 5},
                     "lr": {"type": "float", "low": 1e-4, "high": 1e-2, "log": True}}


def ego_sizes(graph, hops: int, centre: bool = True) -> np.ndarray:
    """Size of every node's ``hops``-hop ego network (with the centre, or without it: ``centre=False``)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra

    n = graph.num_nodes()
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    s, d = (t.numpy() for t in graph.edges())
    adj = csr_matrix((np.ones(len(s)), (s, d)), shape=(n, n))
    return np.isfinite(dijkstra(adj, directed=True, unweighted=True, limit=hops + 0.5)).sum(1) - (0 if centre else 1)


@MODELS.register("spen", aliases=("lpegn",), hparams=SPEN_HPARAMS, search_space=SPEN_SEARCH_SPACE,
                 edge_features=True, task_levels=("graph",),
                 paper="Mitton & Murray-Smith, Subgraph Permutation Equivariant Networks, arXiv 2111.11840")
class SPENNet(nn.Module):
    """SPEN (module docstring): node / edge encoders → :class:`~graphbench.subgraph.SPEN` on per-batch ego nets."""

    extras: dict = {}

    @classmethod
    def check_inputs(cls, dataset, hparams: dict) -> None:
        """Memory guard: the dense ego tensors ``Σ_i n_i²`` (× 15 basis maps × channels) of the largest batch."""
        hidden, layers, bs = hparams["hidden"], hparams["layers"], hparams.get("batch_size", 32)
        per_graph = sorted((int((ego_sizes(g, hparams["hops"], hparams.get("centre", True)) ** 2).sum())
                            for g in dataset.graphs), reverse=True)
        entries = sum(per_graph[:bs])
        est = 4 * entries * 2 * hidden * layers * (15 + 5 + 4)
        check_budget(est, hparams.get("lifted_budget_gb"),
                     f"{min(bs, len(per_graph))} graphs → {entries:,} ego-network pair entries (hops = "
                     f"{hparams['hops']}) at hidden {hidden} × {layers} layers",
                     f"lower hops, batch_size (now {bs}), hidden or layers")

    def __init__(self, in_dim, out_dim, *, hidden: int = 64, layers: int = 5, hops: int = 1, centre: bool = True,
                 residual: bool = True, graph_norm: bool = True, size_buckets: str = "1,2,3,4,5,6,7,8,12,16",
                 head_dropout: float = 0.5, node_features: bool = True, lifted_budget_gb: float = 0.0,
                 task_level: str = "graph", edge_dim=None, pe_dim: int = 0) -> None:
        super().__init__()
        if task_level != "graph":
            raise ValueError("spen supports graph-level tasks only")
        self.hops, self.centre = hops, centre
        # raw inputs, as the code: node features (categorical columns one-hot) on the diagonal of the order-2
        # input, a positional encoding appended to them, edge features (one-hot likewise) on the edges;
        # node_features=False reads no node features (the code's label-free social sets)
        self.in_spec, self.edge_spec = as_spec(in_dim if node_features else None), as_spec(edge_dim)
        node_width = (raw_input_dim(self.in_spec) if self.in_spec.kind != "none" else 0) + pe_dim
        edge_width = raw_input_dim(self.edge_spec) if self.edge_spec.kind != "none" else 0
        try:
            buckets = tuple(int(b) for b in size_buckets.split(","))
        except ValueError as err:
            raise ValueError(f"size_buckets must be comma-separated integers, got {size_buckets!r}") from err
        self.spen = SPEN(node_width, out_dim, width=hidden, layers=layers, edge_dim=edge_width, residual=residual,
                         norm=graph_norm, size_buckets=buckets, head_dropout=head_dropout)

    def _ego(self, batch: Batch):
        g = batch.graph
        src, dst = g.edges()
        node_graph = batch.node_graph_ids().cpu()
        ego = ego_subgraphs(g.num_nodes(), src.cpu(), dst.cpu(), hops=self.hops, node_graph=node_graph,
                            centre=self.centre)
        ego.num_graphs = batch.num_graphs
        dev = src.device
        ego.groups = {s: t.to(dev) for s, t in ego.groups.items()}
        ego.pair_index = {s: t.to(dev) for s, t in ego.pair_index.items()}
        ego.subgraph_graph = {s: t.to(dev) for s, t in ego.subgraph_graph.items()}
        ego.pairs = ego.pairs.to(dev)
        return ego

    def forward(self, batch, feat=None, efeat=None, pe=None) -> torch.Tensor:
        batch = as_batch(batch, feat, efeat, pe)
        parts = [raw_input(self.in_spec, batch.feat, batch.num_nodes)] if self.in_spec.kind != "none" else []
        if batch.pe is not None:
            parts.append(batch.pe.float())
        x = torch.cat(parts, 1) if parts else torch.zeros(batch.num_nodes, 0)
        e = (raw_input(self.edge_spec, batch.efeat, batch.graph.num_edges()) if self.edge_spec.kind != "none"
             else None)
        src, dst = batch.graph.edges()
        return self.spen(x, batch.memo("spen_ego", lambda: self._ego(batch)), src, dst, e)


# -- paper presets ---------------------------------------------------------------------------------------------------
# The code's 10-fold TU runs (docs/models/spen.md §4): lpegn/configs/10fold_config_<NAME>.json with the dataset's
# lpegn/utils/config.py entries, which the 10-fold experiment lets override the json's epochs (CHOSEN_EPOCH) and lr
# (LEARNING_RATES). The presets differ only where those configs differ.
LPEGN_REPO = "JoshuaMitton/LPEGN@98458de0c182"
_LPEGN_PAPER = "Mitton & Murray-Smith, Subgraph Permutation Equivariant Networks, arXiv 2111.11840"
#: What every 10-fold config shares: 1-hop ego networks, residual, GraphNorm (BN on), no dropout between layers (DO
#: off), the FC head's dropout 0.5, AdamW with weight decay 0, the trainer's StepLR(30, 0.1), CHOSEN_EPOCH = 50.
_LPEGN_COMMON = dict(hops=1, residual=True, graph_norm=True, head_dropout=0.5, edge_features=False,
                     weight_decay=0.0, scheduler="step", lr_step=30, lr_factor=0.1, epochs=50, patience=50, min_lr=0.0)
#: utils/config.py's WEIGHT_DEGREES['IMDBBINARY'] (= its SUBGRAPH_DEGREES, mapped one to one by DEGREE_MAPPING): every
#: size of the code's IMDB-BINARY neighbourhoods, which are open ones, so every degree that occurs in the set.
LPEGN_IMDBB_SIZES: tuple[int, ...] = (*range(1, 46), *range(48, 52), *range(54, 61), *range(62, 66), 68, 71, 83, 86,
                                      135)
_LPEGN_MODEL = (
    "Model: lpegn/models/equivariant_gnn.py, whose depth follows the json's architecture list; the released "
    "main_scripts/main_10fold_experiment.py imports models/equivariant_gnn_v2.py instead (four equivariant layers "
    "whatever the list, a first layer of a rather than 2a channels, no residual; it reads architecture[0..4], so "
    "it cannot build a list of four entries such as PTC's), and data_loader/data_helper.py at this commit feeds "
    "v2's inputs (T2) rather than equivariant_gnn.py's (x2) (docs/models/spen.md §4).")


def _lpegn_deviations(*, code_name: str, folds: str, json_epochs: int, lr: float, decays: str, buckets: int,
                      c_in: int, width: int, specific: str = "") -> str:
    """The shared deviations text of an LPEGN 10-fold preset, filled with the dataset's config values; ``specific``
    names what differs on that dataset alone."""
    d = 2 * width
    return " ".join(part for part in (
        "Protocol: the code trains on 9 folds of its own split files (data/benchmark_graphs/"
        f"{code_name}/10fold_idx) and reports the mean test accuracy of the last 10 epochs (no validation set, no "
        f"model selection; utils/config.py overrides the json's {json_epochs} epochs by CHOSEN_EPOCH = 50 and its lr "
        f"by {lr}); ours uses graphbench's {folds} folds and keeps the best-validation epoch.",
        "Loss: the code sums the cross-entropy over a batch (reduction='sum'); ours averages it (Adam is nearly "
        "invariant to the scale).",
        f"The code also builds first-layer 1→2 and 1→1 maps that it never calls ({buckets} buckets × ({c_in}·{d}·5 + "
        f"{c_in}·{d}·2 + 2·{d}) parameters); ours does not.",
        f"The decay rates ({decays}) are unused (the StepLR is hard-coded).",
        specific, _LPEGN_MODEL) if part)


def _lpegn_preset(name: str, dataset: str, config_json: str, code_name: str, description: str, hparams: dict,
                  deviations: str) -> Preset:
    """An LPEGN 10-fold preset: the shared training settings, reference and parameter note, and the dataset's own
    configuration."""
    return Preset(
        name, "spen",
        f"{_LPEGN_PAPER} (official code {LPEGN_REPO}, lpegn/configs/{config_json} with lpegn/utils/config.py's 10-fold "
        "overrides)",
        description, {**_LPEGN_COMMON, **hparams}, datasets=(dataset,), deviations=deviations,
        reference=f"{LPEGN_REPO}:lpegn/models/equivariant_gnn.py (lpegn/configs/{config_json}, lpegn/utils/config.py "
                  f"{code_name} entries, lpegn/trainers/trainer.py)",
        params=None, params_dataset=dataset,
        params_missing="the repository has no logs and we found no count in the paper; the count of the code's "
                       "modules is in docs/models/spen.md §5, checked by tests/subgraph/test_reference_presets.py")


register_preset(_lpegn_preset(
    "mitton2021", "mutag", "10fold_config_MUTAG.json", "MUTAG",
    "SPEN on MUTAG as the code's 10-fold run: 1-hop ego networks, 5 equivariant layers of 2 × 64 channels, weights "
    "for subgraph sizes <=2, 3 and >=4, residual, GraphNorm, FC head 128 → 256 → 128 → 2 with dropout 0.5, batch 4, "
    "Adam lr 0.0015, StepLR(30, 0.1), 50 epochs",
    dict(hidden=64, layers=5, size_buckets="2,3", batch_size=4, lr=0.0015),
    _lpegn_deviations(code_name="MUTAG", folds="generated MUTAG", json_epochs=1000, lr=0.0015,
                      decays="json 0.6, config.py 0.7", buckets=3, c_in=8, width=64)))

register_preset(_lpegn_preset(
    "mitton2021-ptc_mr", "ptc_mr", "10fold_config_PTC.json", "PTC",
    "SPEN on PTC_MR as the code's 10-fold run: 1-hop ego networks, 4 equivariant layers of 2 × 16 channels "
    "(architecture [16] × 4), weights for subgraph sizes <=2, 3, 4 and >=5, residual, GraphNorm, FC head 32 → 256 "
    "→ 128 → 2 with dropout 0.5, batch 16, Adam lr 0.0006, StepLR(30, 0.1), 50 epochs",
    dict(hidden=16, layers=4, size_buckets="2,3,4", batch_size=16, lr=0.0006),
    _lpegn_deviations(
        code_name="PTC", folds="generated PTC_MR", json_epochs=36, lr=0.0006, decays="json 0.6, config.py 0.7",
        buckets=4, c_in=23, width=16,
        specific="Input: the code one-hot-encodes NUM_LABELS['PTC'] = 22 node labels (23 order-2 input channels "
                 "with the adjacency); graphbench's PTC_MR one-hot-encodes the 18 labels that occur (19 channels), "
                 "so our first layer has 4 buckets × 4 × 32 × (15 + 5) = 10,240 fewer weights.")))

register_preset(_lpegn_preset(
    "mitton2021-imdb-binary", "imdb-binary", "10fold_config_IMDBB.json", "IMDBBINARY",
    "SPEN on IMDB-BINARY as the code's 10-fold run: no node features (NUM_LABELS = 0: the order-2 input is the "
    "normalised adjacency alone), open 1-hop neighbourhoods (the centre left out) with one weight set per degree "
    "that occurs (65), 5 equivariant layers of 2 × 32 channels (architecture [32] × 6: the code builds five blocks "
    "and reads the sixth entry as the readout width), residual, GraphNorm, FC head 64 → 256 → 128 → 2 with dropout "
    "0.5, batch 16, Adam lr 0.00064, StepLR(30, 0.1), 50 epochs",
    dict(hidden=32, layers=5, size_buckets=",".join(str(k) for k in LPEGN_IMDBB_SIZES[:-1]), batch_size=16,
         lr=0.00064, node_features=False, centre=False),
    _lpegn_deviations(
        code_name="IMDBBINARY", folds="official (Errica et al.) IMDB-BINARY", json_epochs=36, lr=0.00064,
        decays="json 0.6, config.py 0.4", buckets=len(LPEGN_IMDBB_SIZES), c_in=1, width=32,
        specific="Residual: the json has no residual key, which the code reads (config.residual raises "
                 "AttributeError, so the released config does not build); the preset keeps residual connections on, "
                 "as every config that names the key (MUTAG, PTC, PROTEINS).")))
