"""BREC's Reliable Paired Comparisons (RPC) for any registered model on any :class:`PairSet`.

Wang & Zhang, "Towards Better Evaluation of GNN Expressiveness with BREC Dataset" (2023), §4, and its reference
evaluator (``brec/evaluator.py``). For each pair (G, H):

1. ``q`` (= ``permutations``, 32) random relabellings G_1..G_q and H_1..H_q (random node ids and edge order), and a
   **reliability set**: one of G, H (chosen at random) under 2q further relabellings R_1..R_2q.
2. Embeddings: the model is built with ``out_dim = output_dim`` (16) and used as a graph encoder through the same
   call the trainer makes (:func:`embed`).

   * ``mode="trained"`` (BREC): a freshly initialised model per pair, trained as a siamese network on the
     interlaced list [G_1, H_1, G_2, H_2, ...] in batches of ``batch_size`` graphs with
     ``CosineEmbeddingLoss(f(G_i), f(H_i), target = -1, margin = 0)``, Adam (lr 1e-4, weight decay 1e-4),
     ``ReduceLROnPlateau`` on the epoch loss, at most ``epochs`` (20) epochs, stopping once the epoch loss is below
     ``loss_threshold`` (0.2); then evaluated (eval mode) on the same relabellings. float32 by default.
   * ``mode="quick"``: no training. One randomly initialised model (seeded) embeds every pair in float64, where a
     permutation-invariant model gives equal embeddings to isomorphic graphs up to rounding — so anything left is
     a genuine difference. Minutes for EXP, not hours; it answers "can this architecture separate the pair at
     random initialisation", a lower bound on what training can reach.
3. The decision (:mod:`graphbench.expressiveness.stats`): T²(G_i vs H_i) against the threshold for (q, p, α),
   and the reliability statistic T²(R_2i-1 vs R_2i), which must stay below it.

Counts are reported per category: pairs, distinguished (BREC's "Correct") and reliability failures (BREC's
"Fail"). BREC reports a result only when the reliability check passes on every pair for every seed.

Node-level transforms (the ``pe`` hyperparameter, e.g. RWSE) are computed once per graph, in the protocol's
precision, and travel with the node relabelling (they are permutation-equivariant functions of the graph;
recomputing them per copy would cost 4q times more and only add rounding).

A model's own input transforms (its ``input_transforms(hparams)``: product graphs of subgraph GNNs, path sets of
PathNN, hop rings, rewirings) are different: they build index tensors and extra graphs whose numbering follows the
input's, and their equivariance is part of what is under test. They are therefore run on **every relabelled copy**
(:func:`graphbench.transforms.apply.apply_steps`, the function the trainer's cached pre-processing runs) and the
copies are batched by the trainer's :class:`~graphbench.transforms.batch.Collator` — so the model sees exactly what
training feeds it; a transform that depends on node order makes the copies of one graph disagree. This costs one
transform call per copy (4q per pair); ``--max-pairs`` keeps a look quick.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import dgl
import numpy as np
import torch
from torch import nn

from graphbench.expressiveness.pairs import CopySource, PairSet, batch_copies, random_relabellings
from graphbench.expressiveness.stats import STATISTICS, PairDecision, decide, t2_statistic, t2_threshold

MODES = ("quick", "trained")
TRANSFORM_COPIES = 32  # copies per forward pass for models with input transforms (memory: one batch of lifted inputs)
DTYPES = {"float32": torch.float32, "float64": torch.float64}


@dataclass(frozen=True)
class ProtocolConfig:
    """Settings of one protocol run; defaults are BREC's (``brec/evaluator.py``) where BREC has the setting."""

    mode: str = "quick"
    permutations: int = 32  # q (BREC's NUM_RELABEL)
    output_dim: int = 16  # p (BREC's OUTPUT_DIM)
    alpha: float = 0.05  # level of the T² test: 72.34 for q = 32, p = 16
    statistic: str = "brec"  # "brec": d̄ᵀS⁺d̄ as BREC's code; "hotelling": × q
    eps_rel: float | None = None  # S + (eps_rel · rms)² I; default 1e-8 in float64, 1e-6 in float32
    dtype: str | None = None  # default float64 (quick) / float32 (trained)
    epochs: int = 20
    lr: float = 1e-4
    weight_decay: float = 1e-4
    batch_size: int = 16
    loss_threshold: float = 0.2
    margin: float = 0.0
    pairs_per_batch: int = 8  # quick mode: pairs embedded in one forward pass (speed only)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        if self.statistic not in STATISTICS:
            raise ValueError(f"statistic must be one of {STATISTICS}, got {self.statistic!r}")
        if self.dtype is not None and self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {tuple(DTYPES)}, got {self.dtype!r}")
        for name in ("epochs", "batch_size", "pairs_per_batch"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.batch_size % 2:
            raise ValueError(f"batch_size must be even (graphs of a pair share a batch), got {self.batch_size}")
        for name in ("lr", "weight_decay", "loss_threshold"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        t2_threshold(self.permutations, self.output_dim, self.alpha)  # validates q > p and alpha

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype or ("float64" if self.mode == "quick" else "float32")]

    @property
    def eps(self) -> float:
        if self.eps_rel is not None:
            return self.eps_rel
        return 1e-8 if self.torch_dtype == torch.float64 else 1e-6

    @property
    def threshold(self) -> float:
        return t2_threshold(self.permutations, self.output_dim, self.alpha)

    def to_dict(self) -> dict[str, Any]:
        """Every setting that changes a verdict (resolved defaults included); ``pairs_per_batch`` is speed only."""
        d = asdict(self)
        d.pop("pairs_per_batch")
        d.update(dtype=str(self.torch_dtype).removeprefix("torch."), eps_rel=self.eps)
        if self.mode == "quick":
            for k in ("epochs", "lr", "weight_decay", "batch_size", "loss_threshold", "margin"):
                d.pop(k)
        return d


@dataclass
class PairResult:
    index: int  # the pair's id in its full pair set
    category: str
    name: str
    decision: PairDecision
    time_s: float
    epochs: int = 0  # training epochs run (trained mode)

    @property
    def distinguished(self) -> bool:
        return self.decision.distinguished

    @property
    def reliable(self) -> bool:
        return self.decision.reliable


@dataclass
class CategoryCounts:
    category: str
    pairs: int = 0
    distinguished: int = 0
    reliability_failures: int = 0
    time_s: float = 0.0


@dataclass
class ExpressivenessResult:
    """The outcome for one (model, pair set, seed, configuration)."""

    model: str
    dataset: str
    seed: int
    config: ProtocolConfig
    hparams: dict[str, Any]
    num_params: int
    pairs: list[PairResult] = field(default_factory=list)
    total_time_s: float = 0.0

    def counts(self) -> list[CategoryCounts]:
        """One entry per category, in order of first appearance."""
        out: dict[str, CategoryCounts] = {}
        for r in self.pairs:
            c = out.setdefault(r.category, CategoryCounts(r.category))
            c.pairs += 1
            c.distinguished += r.distinguished
            c.reliability_failures += not r.reliable
            c.time_s += r.time_s
        return list(out.values())


# ------------------------------------------------------------------------------------------- the model interface
def embed(model: nn.Module, batch: Any) -> torch.Tensor:
    """``[batch_size, output_dim]`` graph embeddings: the model called exactly as the trainer calls it (with a
    :class:`~graphbench.transforms.batch.Batch`; a batched DGL graph is wrapped into one).

    The one place the protocol calls a model (keep it in step with ``graphbench.train.trainer``)."""
    from graphbench.transforms.batch import as_batch

    return model(as_batch(batch))


def prepare_graph(g: dgl.DGLGraph, pe: str, pe_dim: int, dtype: torch.dtype) -> dgl.DGLGraph:
    """The per-graph input transforms of a run (the ``pe`` hyperparameter), in the protocol's precision; float
    node/edge features are cast to it."""
    from graphbench.transforms.pe import random_walk_se

    g = _copy(g)
    for data in (g.ndata, g.edata):
        for key, value in list(data.items()):
            if value.dtype.is_floating_point:
                data[key] = value.to(dtype)
    if pe == "rwse":  # in float64 whatever the model's precision: equal walk probabilities stay equal after rounding
        g.ndata["pe"] = random_walk_se(g, pe_dim, dtype=torch.float64).to(dtype)
    elif pe != "none":
        raise ValueError(f"positional encoding {pe!r} is not supported by the expressiveness protocol")
    return g


def _cast(value: Any, dtype: torch.dtype) -> Any:
    if isinstance(value, dgl.DGLGraph):
        return _cast_graph(value, dtype)
    if isinstance(value, torch.Tensor) and value.dtype.is_floating_point:
        return value.to(dtype)
    return value


def _cast_graph(g: dgl.DGLGraph, dtype: torch.dtype) -> dgl.DGLGraph:
    for data in (g.ndata, g.edata):
        for key, value in list(data.items()):
            if value.dtype.is_floating_point and value.dtype != dtype:
                data[key] = value.to(dtype)
    return g


def _copy(g: dgl.DGLGraph) -> dgl.DGLGraph:
    out = dgl.graph(g.edges(), num_nodes=g.num_nodes())
    for key, value in g.ndata.items():
        out.ndata[key] = value
    for key, value in g.edata.items():
        out.edata[key] = value
    return out


def _pair_seed(seed: int, index: int) -> int:
    """A seed for pair ``index`` that does not depend on which other pairs run (so ``max_pairs`` subsets and full
    runs agree pair by pair)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{index}".encode()).digest()[:4], "little")


def _copies(g: CopySource, h: CopySource, q: int, rng: np.random.Generator) -> tuple[list, list, list]:
    """Relabellings (G_1..G_q, H_1..H_q, R_1..R_2q), R drawn from G or H at random, as BREC's data preparation."""
    reliability_source = g if rng.integers(2) == 0 else h
    return (random_relabellings(g, q, rng), random_relabellings(h, q, rng),
            random_relabellings(reliability_source, 2 * q, rng))


def _statistic(emb_a: torch.Tensor, emb_b: torch.Tensor, cfg: ProtocolConfig) -> float:
    return t2_statistic(emb_a.detach().cpu().double().numpy(), emb_b.detach().cpu().double().numpy(),
                        eps_rel=cfg.eps, statistic=cfg.statistic)


# ------------------------------------------------------------------------------------------------- the protocol
class PairEvaluator:
    """Runs the protocol for one model on a :class:`PairSet`.

    ``build_model()`` must return a fresh, randomly initialised model (the caller seeds it); it is called once in
    quick mode and once per pair in trained mode.
    """

    def __init__(self, build_model: Callable[[], nn.Module], config: ProtocolConfig, *, pe: str = "none",
                 pe_dim: int = 16, device: str = "cpu", seed: int = 0, steps: list | None = None) -> None:
        self.build_model, self.cfg = build_model, config
        self.pe, self.pe_dim, self.device, self.seed = pe, pe_dim, torch.device(device), seed
        self.dtype = config.torch_dtype
        self.threshold = config.threshold
        self.steps = list(steps or [])  # the model's input transforms, run per relabelled copy
        self._collator = None
        self._model: nn.Module | None = None

    def _batch(self, copies: list[tuple]) -> Any:
        """The relabelled ``copies`` as the model's input: a batched graph, or — for a model with input
        transforms — a :class:`Batch` of the copies each transformed on its own, as the trainer's collator builds
        it (float tensors in the protocol's precision)."""
        if not self.steps:
            return batch_copies(copies).to(self.device)
        from graphbench.transforms.apply import apply_steps, chain_outputs
        from graphbench.transforms.batch import Collator

        graphs, extras = [], []
        for index, copy in enumerate(copies):
            g, e = apply_steps(batch_copies([copy]), self.steps, seed=self.seed, index=index)
            graphs.append(_cast_graph(g, self.dtype))
            extras.append({k: _cast(v, self.dtype) for k, v in e.items()})
        if self._collator is None:
            self._collator = Collator.for_outputs(chain_outputs(self.steps), getattr(self._model, "extras", {}),
                                                  graph=graphs[0])
        batch = self._collator.batch(graphs, extras)
        if batch.pe is not None:
            batch.pe = batch.pe.to(self.dtype)
        return batch.to(self.device)

    def _embed_copies(self, model: nn.Module, copies: list[tuple]) -> torch.Tensor:
        """Embeddings of ``copies`` in order: one forward pass, or — for a model with input transforms, whose lifted
        inputs (product graphs, path sets) are far larger than the graphs — passes of ``TRANSFORM_COPIES`` copies,
        so memory stays that of one batch (the verdicts do not change: eval mode embeds each copy on its own)."""
        step = TRANSFORM_COPIES if self.steps else len(copies)
        return torch.cat([embed(model, self._batch(copies[i:i + step])) for i in range(0, len(copies), step)])

    def _new_model(self, seed: int) -> nn.Module:
        torch.manual_seed(seed)
        self._model = self.build_model().to(device=self.device, dtype=self.dtype)
        return self._model

    def run(self, pairs: PairSet, *, on_pair: Callable[[PairResult], None] | None = None) -> list[PairResult]:
        prepared: dict[int, CopySource] = {}

        def graph(i: int) -> CopySource:
            if i not in prepared:
                prepared[i] = CopySource.of(prepare_graph(pairs.graphs[i], self.pe, self.pe_dim, self.dtype))
            return prepared[i]

        def job(k: int) -> tuple:
            a, b = pairs.pairs[k]
            return k, pairs.ids[k], graph(a), graph(b)

        results: list[PairResult] = []

        def done(k: int, decision: PairDecision, seconds: float, epochs: int = 0) -> None:
            r = PairResult(pairs.ids[k], pairs.categories[k], pairs.names[k], decision, seconds, epochs)
            results.append(r)
            if on_pair:
                on_pair(r)

        if self.cfg.mode == "quick":
            model = self._new_model(_pair_seed(self.seed, -1)).eval()
            step = self.cfg.pairs_per_batch
            for start in range(0, len(pairs), step):
                t0 = time.perf_counter()
                chunk = [job(k) for k in range(start, min(start + step, len(pairs)))]
                decisions = self._quick_chunk(model, chunk)
                seconds = (time.perf_counter() - t0) / len(chunk)
                for (k, _, _, _), d in zip(chunk, decisions, strict=True):
                    done(k, d, seconds)
        else:
            for k in range(len(pairs)):
                t0 = time.perf_counter()
                _, pair_id, g, h = job(k)
                decision, epochs = self._trained_pair(pair_id, g, h)
                done(k, decision, time.perf_counter() - t0, epochs)
        return results

    # -- quick: one untrained model, several pairs per forward pass ------------------------------------------
    @torch.no_grad()
    def _quick_chunk(self, model: nn.Module, chunk) -> list[PairDecision]:
        q = self.cfg.permutations
        graphs = []
        for _, pair_id, g, h in chunk:
            a, b, r = _copies(g, h, q, np.random.default_rng(_pair_seed(self.seed, pair_id)))
            graphs += a + b + r
        emb = self._embed_copies(model, graphs)
        out = []
        for j in range(len(chunk)):
            e = emb[4 * q * j: 4 * q * (j + 1)]
            test = _statistic(e[:q], e[q:2 * q], self.cfg)
            reliability = _statistic(e[2 * q::2], e[2 * q + 1::2], self.cfg)
            out.append(decide(test, reliability, self.threshold))
        return out

    # -- trained: BREC's siamese contrastive training, one fresh model per pair -------------------------------
    def _trained_pair(self, pair_id: int, g: CopySource, h: CopySource) -> tuple[PairDecision, int]:
        from graphbench.train.trainer import TrainingDiverged

        cfg, q = self.cfg, self.cfg.permutations
        seed = _pair_seed(self.seed, pair_id)
        a, b, r = _copies(g, h, q, np.random.default_rng(seed))
        interlaced = [x for pair in zip(a, b, strict=True) for x in pair]  # [G_1, H_1, G_2, H_2, ...]
        model = self._new_model(seed)
        batches = [self._batch(interlaced[i:i + cfg.batch_size]) for i in range(0, len(interlaced), cfg.batch_size)]
        opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt)
        loss_fn = nn.CosineEmbeddingLoss(margin=cfg.margin)
        model.train()
        epochs = 0
        for epoch in range(1, cfg.epochs + 1):
            epochs, total = epoch, 0.0
            for batch in batches:
                emb = embed(model, batch)
                target = -torch.ones(emb.shape[0] // 2, device=emb.device, dtype=emb.dtype)
                loss = loss_fn(emb[0::2], emb[1::2], target)
                if not torch.isfinite(loss):
                    raise TrainingDiverged(f"the contrastive loss became {loss.item()} on pair {pair_id}, "
                                           f"epoch {epoch}")
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += loss.item() * (emb.shape[0] // 2)
            total /= q
            if total < cfg.loss_threshold:
                break
            sched.step(total)
        model.eval()
        with torch.no_grad():
            e_test = torch.cat([embed(model, bt) for bt in batches])
            e_rel = self._embed_copies(model, r)
        test = _statistic(e_test[0::2], e_test[1::2], cfg)
        reliability = _statistic(e_rel[0::2], e_rel[1::2], cfg)
        return decide(test, reliability, self.threshold), epochs


def resolve_model_hparams(model: str, hparams: dict[str, Any] | None) -> tuple[dict[str, Any], str, int]:
    """(validated model hyperparameters, pe, pe_dim); the trainer's other settings are refused (the protocol has
    its own). Raises ``HyperparameterError`` / ``ValueError`` naming the key."""
    from graphbench.train.config import TRAIN_HPARAMS
    from graphbench.train.runner import resolve_hparams

    given = dict(hparams or {})
    foreign = sorted(k for k in given if k in TRAIN_HPARAMS and k not in ("pe", "pe_dim"))
    if foreign:
        raise ValueError(f"training hyperparameters {foreign} do not apply to the expressiveness protocol; use its "
                         "own settings (--mode trained --epochs/--lr/--weight-decay/--batch-size)")
    model_hp, train_hp = resolve_hparams(model, given)
    return model_hp, train_hp["pe"], train_hp["pe_dim"]


def evaluate(model: str, pairs: PairSet, *, hparams: dict[str, Any] | None = None,
             config: ProtocolConfig | None = None, seed: int = 0, device: str = "cpu",
             on_pair: Callable[[PairResult], None] | None = None) -> ExpressivenessResult:
    """Run the protocol for the registered ``model`` (hyperparameters ``hparams``, validated as for a run; of the
    trainer's, only ``pe`` / ``pe_dim`` apply — the protocol has its own training settings in ``config``)."""
    from graphbench.models import MODELS, build_model, count_parameters

    config = config or ProtocolConfig()
    model_hp, pe, pe_dim = resolve_model_hparams(model, hparams)
    name = MODELS.get(model).name

    from graphbench.transforms.config import run_pe_dim

    width = run_pe_dim(name, model_hp, {"pe": pe, "pe_dim": pe_dim})  # as the runner: the chain's encodings

    def build() -> nn.Module:
        return build_model(name, pairs.node_spec, config.output_dim, task_level="graph", edge_dim=pairs.edge_spec,
                           pe_dim=width, **model_hp)

    t0 = time.perf_counter()
    num_params = count_parameters(build())
    evaluator = PairEvaluator(build, config, pe=pe, pe_dim=pe_dim, device=device, seed=seed,
                              steps=model_input_steps(name, model_hp))
    results = evaluator.run(pairs, on_pair=on_pair)
    resolved = {**model_hp, "pe": pe, "pe_dim": pe_dim}
    return ExpressivenessResult(name, pairs.dataset, seed, config, resolved, num_params, results,
                                time.perf_counter() - t0)


def model_input_steps(model: str, model_hp: dict[str, Any]) -> list:
    """The model's own input transforms (``input_transforms(hparams)``), resolved — run per relabelled copy."""
    from graphbench.registry import MODELS
    from graphbench.transforms.base import resolve_step

    extra = getattr(MODELS.get(model).obj, "input_transforms", None)
    return [resolve_step(e) for e in extra(model_hp)] if callable(extra) else []


def config_with(config: ProtocolConfig, **changes: Any) -> ProtocolConfig:
    """``config`` with ``changes`` applied (and validated)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})


def protocol_hparams_json(hparams: dict[str, Any], config: ProtocolConfig) -> str:
    """A row's ``hparams``: the model's resolved hyperparameters and the protocol's settings (``expr_*`` keys)."""
    protocol = {f"expr_{k}": v for k, v in config.to_dict().items()}
    return json.dumps({**hparams, **protocol}, sort_keys=True, default=str)


def hparams_json(result: ExpressivenessResult) -> str:
    return protocol_hparams_json(result.hparams, result.config)
