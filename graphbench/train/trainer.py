"""Train one model on one split and select it on validation.

Protocol: Adam with the configured schedule; an epoch is one shuffled pass over the training part, or
``iters_per_epoch`` batches of random training graphs (Xu et al.'s GIN code); after every epoch the model is
evaluated on the validation part (metric and loss); the state of the best epoch by the monitored quantity
(``monitor``: the validation metric by default, or the validation loss) is kept — strictly better keeps the earlier
epoch on ties, ``ties="later"`` counts a tie as an improvement, as Errica et al.'s stopper does; training stops
early after ``patience`` epochs without improvement (never before ``min_epochs``; with ``improve_rel`` an
improvement must beat the best by that fraction), or when the plateau schedule drives the lr below ``min_lr``;
train / validation / test metrics are then computed once, with the selected state (``keep="last"``: the state
training stopped with, as FoSR's and BORF's code score it).
The test part is never looked at before that, and not at all with ``score_test=False`` (sweep search runs: their
``test_metric`` is NaN, so no leaderboard can be built from them).
With a ``checkpoint`` path the whole training state is saved at the end of an epoch every ``checkpoint_every_s``
seconds, and a run that finds it resumes from the next epoch with the result an uninterrupted run gives
(:mod:`graphbench.train.checkpoint`).
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import dgl
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from graphbench.data.base import GraphDataset, Split
from graphbench.metrics import Metric
from graphbench.train import checkpoint as ckpt
from graphbench.train.config import TrainConfig
from graphbench.train.memory import PeakMemory
from graphbench.transforms.batch import Batch, Collator

EpochCallback = Callable[[int, float], None]
"""Called as ``callback(epoch, val_metric)`` after each epoch; may raise :class:`RunPruned` (sweep pruning)."""


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the run is recorded as failed with this message."""


class RunPruned(Exception):
    """Raised by an epoch callback to stop a run early (Optuna pruning); the run is recorded as pruned."""


@dataclass
class RunResult:
    train_metric: float
    val_metric: float
    test_metric: float
    best_epoch: int
    epochs: int
    time_per_epoch_s: float
    train_time_s: float
    inference_time_s: float
    peak_mem_mb: float
    history: list[dict] = field(default_factory=list)
    #: the last epoch of the checkpoint this run resumed from (0: it ran from epoch 1 in one go)
    resumed_from_epoch: int = 0
    #: wall time the run spent before it resumed (seconds; 0 when it did not)
    prior_time_s: float = 0.0


class _RandomDraws(torch.utils.data.Sampler):
    """``iters`` batches, each ``batch_size`` positions drawn without replacement from ``range(n)``, independently
    of the other batches (Xu et al.'s GIN epoch: ``np.random.permutation(len(train))[:batch_size]`` 50 times)."""

    def __init__(self, n: int, batch_size: int, iters: int, generator: torch.Generator) -> None:
        self.n, self.batch_size, self.iters, self.generator = n, batch_size, iters, generator

    def __len__(self) -> int:
        return self.iters

    def __iter__(self):
        for _ in range(self.iters):
            yield torch.randperm(self.n, generator=self.generator)[:self.batch_size].tolist()


class _Examples(torch.utils.data.Dataset):
    """``(graph, extras or None, label)`` of the examples in ``index``. The data loader fetches a batch's
    examples with one :meth:`__getitems__` call (positions converted to Python ints once) instead of one
    ``__getitem__`` call and numpy-scalar conversion per example."""

    def __init__(self, graphs: list[dgl.DGLGraph], extras: list[dict] | None, labels: torch.Tensor,
                 index: np.ndarray) -> None:
        self.graphs, self.extras, self.labels, self.index = graphs, extras, labels, index
        self._ids = np.asarray(index).tolist()

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, i: int):
        j = self._ids[i]
        return self.graphs[j], (self.extras[j] if self.extras is not None else None), self.labels[j]

    def __getitems__(self, positions: list[int]) -> list[tuple]:
        ids, graphs, labels, extras = self._ids, self.graphs, self.labels, self.extras
        return [(graphs[j], None if extras is None else extras[j], labels[j]) for j in (ids[i] for i in positions)]


def task_loss(task_kind: str, metric: Metric, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy (multiclass), masked BCE-with-logits (binary / multilabel, NaN = unlabelled), or masked L1
    (regression scored by MAE) / MSE (other regression)."""
    if task_kind == "multiclass":
        return F.cross_entropy(logits, target.long().reshape(-1))
    target = target.reshape(logits.shape).float()
    mask = ~torch.isnan(target)
    if task_kind in ("binary", "multilabel"):
        return F.binary_cross_entropy_with_logits(logits[mask], target[mask])
    if metric.name == "mae":
        return F.l1_loss(logits[mask], target[mask])
    return F.mse_loss(logits[mask], target[mask])


def snapshot(model: nn.Module) -> dict:
    """A copy of ``model.state_dict()`` that later training does not change: tensors cloned (detached), anything
    else deep-copied, the state dict's version metadata kept for ``load_state_dict``. The same values as
    ``copy.deepcopy(model.state_dict())`` at a fraction of its per-tensor cost (it ran after every improving
    epoch: about 1 % of a small-graph epoch)."""
    state = model.state_dict()
    out = type(state)((k, v.detach().clone() if isinstance(v, torch.Tensor) else copy.deepcopy(v))
                      for k, v in state.items())
    metadata = getattr(state, "_metadata", None)
    if metadata is not None:
        out._metadata = copy.deepcopy(metadata)
    return out


class Trainer:
    """Fits ``model`` on ``split`` of ``dataset``; :meth:`fit` returns a :class:`RunResult`."""

    def __init__(self, model: nn.Module, dataset: GraphDataset, split: Split, config: TrainConfig, *,
                 device: torch.device | str = "cpu", seed: int = 0, epoch_callback: EpochCallback | None = None,
                 progress: Callable[[dict], None] | None = None, score_test: bool = True,
                 checkpoint: str | os.PathLike | None = None, checkpoint_every_s: float = ckpt.DEFAULT_EVERY_S) -> None:
        self.model = model.to(device)
        self.checkpoint, self.checkpoint_every_s = checkpoint, checkpoint_every_s
        self.score_test = score_test
        self.dataset, self.split, self.config = dataset, split, config
        self.device = torch.device(device)
        self.metric = dataset.metric_fn
        self.seed = seed
        self.epoch_callback, self.progress = epoch_callback, progress
        self.node_level = dataset.task_level == "node"
        # One batch object per step: graphs batched by dgl.batch, per-graph extras offset as declared by the
        # dataset's transforms and the model (graphbench.transforms.batch).
        self.extras = getattr(dataset, "extras", None)
        self.collator = Collator.for_outputs(getattr(dataset, "outputs", {}), getattr(model, "extras", {}),
                                             dataset.graphs[0])
        missing = [k for k in self.collator.extras if not self.extras or k not in self.extras[0]]
        if missing:
            raise ValueError(f"the model needs the per-graph inputs {missing}, which the dataset's transforms do not "
                             "produce; add the transform that makes them to 'transforms' (or the model's "
                             "input_transforms)")
        self._aug_gen = torch.Generator().manual_seed(seed)
        self._train_gen: torch.Generator | None = None  # the training loader's batch order
        self._full: Batch | None = None
        # The model's regularisation hook, left out when the model says it returns only a zero without gradient
        # (``regularizes()``, e.g. GIN / GraphSAGE with plain sum / mean aggregators): the same loss and gradients.
        reg, active = getattr(model, "regularization_loss", None), getattr(model, "regularizes", None)
        self._regularizer = reg if callable(reg) and (not callable(active) or active()) else None

    def _full_graph(self) -> Batch:
        """Node-level tasks: the one graph as a batch, built and moved to the device once."""
        if self._full is None:
            extras = [self.extras[0]] if self.extras else None
            self._full = self.collator.batch([self.dataset.graphs[0]], extras).to(self.device)
        return self._full

    # -- data -------------------------------------------------------------------------------------------------
    def _loader(self, index: np.ndarray, shuffle: bool) -> torch.utils.data.DataLoader:
        ds = _Examples(self.dataset.graphs, self.extras if self.collator.extras else None, self.dataset.labels,
                       index)
        gen = torch.Generator().manual_seed(self.seed)
        if shuffle:
            self._train_gen = gen
        if shuffle and self.config.iters_per_epoch > 0:  # Xu et al.: a fixed number of random batches per epoch
            draws = _RandomDraws(len(index), self.config.batch_size, self.config.iters_per_epoch, gen)
            return torch.utils.data.DataLoader(ds, batch_sampler=draws, collate_fn=self.collator)
        bs = self.config.batch_size if shuffle else max(self.config.batch_size, 256)
        return torch.utils.data.DataLoader(ds, batch_size=bs, shuffle=shuffle, generator=gen, drop_last=False,
                                           collate_fn=self.collator)

    # -- one pass ---------------------------------------------------------------------------------------------
    def _step_loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = task_loss(self.dataset.task_kind, self.metric, logits, target)
        if self._regularizer is not None:
            loss = loss + self._regularizer()
        return loss

    def _backward(self, loss: torch.Tensor, opt: torch.optim.Optimizer, epoch: int) -> float:
        """One optimiser step on ``loss``; returns its value (read once, for the finiteness check and the epoch's
        mean loss)."""
        value = loss.item()
        if not math.isfinite(value):
            raise TrainingDiverged(f"the training loss became {value} in epoch {epoch}; "
                                   "try a lower learning rate, gradient clipping (grad_clip) or normalisation")
        opt.zero_grad()
        loss.backward()
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        opt.step()
        return value

    def _train_epoch(self, opt: torch.optim.Optimizer, epoch: int) -> float:
        self.model.train()
        if self.node_level:
            batch = self.collator.augment(self._full_graph(), self._aug_gen)
            idx = torch.from_numpy(self.split.train).to(self.device)
            logits = self.model(batch)[idx]
            loss = self._step_loss(logits, self.dataset.labels.to(self.device)[idx])
            return self._backward(loss, opt, epoch)
        total, count = 0.0, 0
        for batch, y in self._train_loader:
            batch, y = self.collator.augment(batch.to(self.device), self._aug_gen), y.to(self.device)
            loss = self._step_loss(self.model(batch), y)
            total += self._backward(loss, opt, epoch) * len(y)
            count += len(y)
        return total / max(count, 1)

    @torch.no_grad()
    def _outputs(self, index: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Targets and raw model outputs (logits) of the examples in ``index``, in evaluation mode."""
        self.model.eval()
        if self.node_level:
            out = self.model(self._full_graph())[torch.from_numpy(index).to(self.device)]
            return self.dataset.labels[torch.from_numpy(index)], out.float().cpu()
        outs, ys = [], []
        for batch, y in self._loader(index, shuffle=False):
            outs.append(self.model(batch.to(self.device)).float().cpu())
            ys.append(y)
        return torch.cat(ys), torch.cat(outs)

    def _predict(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        y, out = self._outputs(index)
        return y.cpu().numpy(), self._scores(out)

    def _scores(self, out: torch.Tensor) -> np.ndarray:
        if self.dataset.task_kind == "multiclass":
            out = torch.softmax(out, dim=-1)
        return out.float().cpu().numpy()

    def evaluate(self, index: np.ndarray) -> float:
        y, pred = self._predict(index)
        return self.metric.fn(y, pred)

    def evaluate_with_loss(self, index: np.ndarray) -> tuple[float, float]:
        """The metric and the task loss (without regularisation terms) on ``index``, from one forward pass."""
        y, out = self._outputs(index)
        loss = task_loss(self.dataset.task_kind, self.metric, out, y).item()
        return self.metric.fn(y.cpu().numpy(), self._scores(out)), loss

    def _improved(self, value: float, best: float) -> bool:
        """Whether the monitored ``value`` improves on ``best`` (a tie does only with ``ties="later"``); with
        ``improve_rel`` r it must beat best·(1 + r) (maximised) or best·(1 − r) (minimised)."""
        r, tie = self.config.improve_rel, self.config.ties == "later" and value == best
        if self.config.monitor == "val_loss" or self.metric.direction == "min":
            return value < (best * (1 - r) if r and math.isfinite(best) else best) or tie
        return self.metric.better(value, best * (1 + r) if r and math.isfinite(best) else best) or tie

    def _plateau_mode(self) -> str:
        cfg = self.config
        if cfg.plateau_mode != "auto":
            return cfg.plateau_mode
        return self.metric.direction if cfg.plateau_on == "val_metric" else "min"

    # -- fit --------------------------------------------------------------------------------------------------
    def fit(self) -> RunResult:
        cfg = self.config
        groups = getattr(self.model, "param_groups", None)  # a model may decay some parameters only (Kipf & Welling)
        params = groups(cfg.weight_decay) if callable(groups) else self.model.parameters()
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        if cfg.scheduler == "plateau":
            sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
                opt, mode=self._plateau_mode(), factor=cfg.lr_factor, patience=cfg.lr_patience,
                min_lr=cfg.lr_floor)
        elif cfg.scheduler == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=cfg.lr_step, gamma=cfg.lr_factor)
        elif cfg.scheduler == "cosine":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
        else:
            sched = None
        if not self.node_level:
            self._train_loader = self._loader(self.split.train, shuffle=True)

        best_val, best_epoch, best_state = self.metric.worst(), 0, None
        best_monitored = math.inf if cfg.monitor == "val_loss" else self.metric.worst()
        history, train_time, epoch = [], 0.0, 0
        t_fit, prior_time, resumed = time.perf_counter(), 0.0, 0
        saved = self._resume(opt, sched)
        if saved is not None:
            best_val, best_epoch, best_state = saved["best_val"], saved["best_epoch"], saved["best_state"]
            best_monitored, history, train_time = saved["best_monitored"], saved["history"], saved["train_time"]
            epoch = resumed = saved["epoch"]
            prior_time = saved["elapsed_s"]
        last_save = time.monotonic()
        with PeakMemory(self.device) as mem:
            for epoch in range(resumed + 1, cfg.epochs + 1):
                t0 = time.perf_counter()
                loss = self._train_epoch(opt, epoch)
                train_time += time.perf_counter() - t0
                val, val_loss = self.evaluate_with_loss(self.split.val)
                if math.isnan(val):
                    raise TrainingDiverged(f"the validation metric is NaN in epoch {epoch}")
                history.append({"epoch": epoch, "loss": loss, "val": val, "val_loss": val_loss,
                                "lr": opt.param_groups[0]["lr"]})
                monitored = val_loss if cfg.monitor == "val_loss" else val
                if self._improved(monitored, best_monitored) or best_state is None:
                    best_monitored, best_val, best_epoch = monitored, val, epoch
                    best_state = snapshot(self.model) if cfg.keep == "best" else {}
                if self.progress:
                    self.progress(history[-1] | {"best_val": best_val})
                if self.epoch_callback:
                    self.epoch_callback(epoch, val)
                if isinstance(sched, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    sched.step({"val_metric": val, "val_loss": val_loss, "train_loss": loss}[cfg.plateau_on])
                    if opt.param_groups[0]["lr"] < cfg.min_lr:
                        break
                elif sched is not None:
                    sched.step()
                if epoch - best_epoch >= cfg.patience and epoch >= cfg.min_epochs:
                    break
                # after the stopping checks: a resumed run goes on exactly where this one would have
                if self.checkpoint is not None and time.monotonic() - last_save >= self.checkpoint_every_s:
                    ckpt.save(self.checkpoint, {
                        "epoch": epoch, "model": self.model.state_dict(), "optimizer": opt.state_dict(),
                        "scheduler": sched.state_dict() if sched is not None else None,
                        "best_val": best_val, "best_epoch": best_epoch, "best_state": best_state,
                        "best_monitored": best_monitored, "history": history, "train_time": train_time,
                        "elapsed_s": prior_time + time.perf_counter() - t_fit, "rng": self._rng_state()})
                    last_save = time.monotonic()
            if cfg.keep == "last":
                best_epoch = epoch  # the scored state is the one training stopped with
            elif best_state is not None:
                self.model.load_state_dict(best_state)
            train_metric = self.evaluate(self.split.train)
            val_metric = self.evaluate(self.split.val)
            t0 = time.perf_counter()
            test_metric = self.evaluate(self.split.test) if self.score_test else float("nan")
            inference = time.perf_counter() - t0 if self.score_test else float("nan")
        return RunResult(train_metric, val_metric, test_metric, best_epoch, epoch, train_time / max(epoch, 1),
                         train_time, inference, mem.peak_mb, history, resumed, prior_time)

    # -- checkpoints ------------------------------------------------------------------------------------------
    def _generators(self) -> dict[str, torch.Generator]:
        gens = {"augment": self._aug_gen}
        if self._train_gen is not None:
            gens["batches"] = self._train_gen
        return gens

    def _rng_state(self) -> dict:
        return ckpt.rng_state(self._generators())

    def _resume(self, opt: torch.optim.Optimizer, sched) -> dict | None:
        """Load this run's checkpoint into the model, optimiser, schedule and generators; returns the saved loop
        state, or None (no checkpoint, or one that does not fit this run: said on stderr, the run starts over)."""
        saved = ckpt.load(self.checkpoint) if self.checkpoint is not None else None
        if saved is None:
            return None
        before = snapshot(self.model), copy.deepcopy(opt.state_dict())
        try:
            self.model.load_state_dict(saved["model"])
            opt.load_state_dict(saved["optimizer"])
            if sched is not None:
                sched.load_state_dict(saved["scheduler"])
            ckpt.set_rng_state(saved["rng"], self._generators())
        except (KeyError, RuntimeError, ValueError, TypeError, AttributeError) as exc:
            self.model.load_state_dict(before[0])
            opt.load_state_dict(before[1])
            print(f"graphbench: ignoring the checkpoint {self.checkpoint}: it does not fit this run "
                  f"({type(exc).__name__}: {str(exc)[:200]}); the run starts from epoch 1", file=sys.stderr)
            return None
        print(f"graphbench: resuming from the checkpoint {self.checkpoint} after epoch {saved['epoch']}",
              file=sys.stderr)
        return saved
