"""The sweep worker: searches each study, then re-runs its selected configuration from a work queue.

Protocol (fixed here, not left to the user; ``protocol.selection`` picks one of two, see
:class:`~graphbench.sweep.config.Protocol`):

* **per-fold** (default; Errica et al., ICLR 2020). For every outer fold k, one Optuna study
  ``<sweep>/<model>/<dataset>/per-fold-1s-<hash>/fold<k>`` searches on fold k alone: a trial trains on fold k's
  inner training part and its value is the mean inner-validation metric over ``protocol.search.seeds``. Fold k's
  final runs re-run fold k's own selected configuration and score fold k's test part once each. No graph of
  fold k's test part is in any training or validation set used to select fold k's configuration. A dataset with
  one fixed split (OGB, Planetoid public, LRGB) gets one study and N final seeds.
* **select-once** (optimistic; named explicitly, flagged in every report table that uses it): one study per
  (model, dataset) selects on the mean inner validation of ``protocol.search.folds`` × seeds, and that one
  configuration is re-run on every fold of ``protocol.final``. On k-fold data the selection has seen graphs that
  are other folds' test graphs.

Common to both:

* **Search.** Direction from the dataset's metric, TPE seeded with the file's ``sampler.seed`` (+ the worker
  index). The study's creator enqueues one configuration first (:func:`first_trials`): the paper preset where the
  model has one for that dataset, else the model's defaults (``graphbench.presets.sweep_first_trial``; the
  trial's ``gb.first_trial`` attribute says which). Search
  runs never evaluate the test part (their ``test_metric`` is empty). Each epoch's validation metric is reported
  to the pruner (step = run index × epochs + epoch). Each run writes one results row (stage ``search``); pruned
  and failed runs keep their reason in ``error`` and in the trial's ``gb.error`` user attribute; a failed run
  fails its trial (never selected). Study names carry a hash of the exact protocol lists, so distinct protocols
  never share a study.
* **Budget.** A study's search ends when ``trials`` trials are COMPLETE or PRUNED, or when its finished trials
  have used ``timeout`` seconds of compute (summed over workers, so it survives a resume), or when as many trials
  have failed as the count budget. A study cut by the time budget is said so in the CLI summary and the report.
* **Final.** When a study's search is over (no trial of it still running), its best trial is the *selection*.
  Its final runs are an explicit work queue (:class:`~graphbench.sweep.queue.FinalQueue`) named after the
  selected configuration's hash: one item per (fold, seed), claimed atomically by the workers. Every final row
  carries the study, the selected trial, ``config_hash`` (the selected configuration) and ``selection_trials``
  (finished search trials at selection). When a resumed sweep with a larger budget selects another
  configuration, a new queue runs its finals and the old final rows become *superseded*
  (:func:`graphbench.report.protocol.mark_superseded`): listed, never counted. Before running an item the worker
  reuses an ``ok`` final row of the same (study, configuration, fold, seed, holdout) from the results CSV, so a
  resume after SIGKILL repeats no finished run. With ``protocol.final.holdout`` each final run trains on the outer
  training set minus a fresh random holdout (Errica et al.'s final phase).
* **Nothing to select.** A study that can select only one configuration — an empty search space, or a budget of
  one trial whose first (enqueued) configuration fixes every parameter — has no search stage: its creator stores
  that configuration in the study (``gb.one_configuration``) and its final runs start at once (their
  ``selection_trials`` is 0 and their ``trial`` empty). A search run there would train the same configuration once
  more only to select it. A study created with search trials (by an earlier version) keeps its search.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from graphbench.hparams import HyperparameterError
from graphbench.presets import sweep_first_trial
from graphbench.registry import DATASETS
from graphbench.results import append_rows, read_results
from graphbench.sweep.budget import BudgetError, solve_hidden
from graphbench.sweep.config import StudySpec, SweepFile
from graphbench.sweep.queue import FinalQueue
from graphbench.sweep.sampler import TrialSeededSampler
from graphbench.sweep.space import suggest
from graphbench.sweep.storage import (
    REASON_ATTR,
    WORKER_ATTR,
    Outcome,
    create_or_load,
    fail_dead_trials,
    frozen_trial,
    is_dead_trial,
    retried_numbers,
    retry_trial,
    worker_record,
)
from graphbench.train.runner import RunSpec, config_hash, declared_hparams, get_dataset, resolve_hparams, run_one
from graphbench.train.trainer import RunPruned

POLL_S = 0.5
#: A final study whose creator has not finished enqueueing after this long is topped up by another worker.
ENQUEUE_GRACE_S = 60.0


class SweepError(RuntimeError):
    """A sweep cannot go on (e.g. the file changed under an existing study); the message says what to do."""


class TrialFailed(Exception):
    """Raised by an objective for a failed run: Optuna records the trial as FAIL with this reason."""


def _direction(dataset: str) -> str:
    card = DATASETS.get(dataset).meta["card"]
    return "maximize" if card.direction == "max" else "minimize"


def fingerprint(spec: StudySpec, param_budget: int | None) -> str:
    """What a study's trials depend on; a resumed sweep must agree with it."""
    search = ({"outer_fold": spec.outer_fold, "seeds": list(spec.protocol.search.seeds)} if spec.outer_fold
              is not None else spec.protocol.search.key())
    return json.dumps({"space": spec.space, "fixed": spec.fixed, "param_budget": param_budget,
                       "selection": spec.protocol.selection, "search": search}, sort_keys=True, default=str)


def first_trials(model: str, dataset: str, space: dict, context: dict[str, Any]) -> list[tuple[dict, dict]]:
    """``(params, user_attrs)`` of the configurations a new study enqueues before TPE starts: the paper preset
    where ``model`` has one for ``dataset``, else the model's declared defaults, within ``space``."""
    defaults = {k: hp.default for k, hp in declared_hparams(model).items()}
    return [sweep_first_trial(model, dataset, space, defaults, context)]


def make_pruner(sweep: SweepFile, spec: StudySpec) -> optuna.pruners.BasePruner:
    p = sweep.pruner
    if p.type == "none":
        return optuna.pruners.NopPruner()
    if p.type == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=p.min_resource, reduction_factor=p.reduction_factor)
    return optuna.pruners.MedianPruner(n_startup_trials=p.n_startup_trials, n_warmup_steps=p.n_warmup_steps)


def _duration(t: FrozenTrial) -> float:
    if t.datetime_start is None or t.datetime_complete is None:
        return 0.0
    return (t.datetime_complete - t.datetime_start).total_seconds()


def _fmt(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


@dataclass
class SearchStatus:
    finished: int = 0  # COMPLETE + PRUNED
    complete: int = 0
    pruned: int = 0
    failed: int = 0  # failed by the run, not by a dead worker
    running: int = 0
    waiting: int = 0
    compute_s: float = 0.0
    best: float | None = None
    state: str = "open"  # open | busy (others' trials running) | done
    why_done: str = ""


def search_status(study: optuna.Study, sweep: SweepFile) -> SearchStatus:
    s = SearchStatus()
    trials = study.get_trials(deepcopy=False)
    retried = retried_numbers(trials)
    for t in trials:
        if t.state == TrialState.COMPLETE:
            s.complete += 1
            if t.value is not None and (s.best is None or (t.value > s.best) == (
                    study.direction == optuna.study.StudyDirection.MAXIMIZE)):
                s.best = t.value
        elif t.state == TrialState.PRUNED:
            s.pruned += 1
        elif t.state == TrialState.FAIL and not is_dead_trial(t, retried):
            s.failed += 1
        elif t.state == TrialState.RUNNING:
            s.running += 1
        elif t.state == TrialState.WAITING:
            s.waiting += 1
        if t.state.is_finished():
            s.compute_s += _duration(t)
    s.finished = s.complete + s.pruned
    if one_configuration(study, sweep) is not None:
        s.state, s.why_done = "done", "one configuration: nothing to select"
        return s
    if sweep.trials is not None and s.finished >= sweep.trials:
        s.why_done = f"{s.finished} trials finished"
    elif sweep.timeout is not None and s.compute_s >= sweep.timeout:
        s.why_done = f"time budget used ({s.compute_s:.0f} s of {sweep.timeout:.0f} s)"
    elif s.failed >= (sweep.trials or 10):
        s.why_done = f"{s.failed} trials failed; see the 'error' column"
    if s.waiting or (not s.why_done and (sweep.trials is None or s.finished + s.running < sweep.trials)):
        # a waiting trial (the enqueued first trial, or the retry of a dead worker's trial) is always run, even one
        # past the count budget: a retry enqueued after the budget was claimed is never left waiting for ever
        s.state = "open"
    elif s.running:
        s.state = "busy"
    else:
        s.state = "done"
        s.why_done = s.why_done or "budget reached"
    return s


def _holdout_key(h: Any) -> float | None:
    return None if h is None or pd.isna(h) else round(float(h), 6)


def search_outcome(rows: list[dict]) -> Outcome:
    """A search trial's outcome from its rows (one per search run, in order; a pruned or failed run is the last):
    PRUNED or FAIL with the last row's reason, else COMPLETE with the mean validation metric."""
    last = rows[-1]
    if last["status"] == "pruned":
        return TrialState.PRUNED, None, last["error"]
    if last["status"] == "failed":
        return TrialState.FAIL, None, last["error"]
    return TrialState.COMPLETE, sum(float(r["val_metric"]) for r in rows) / len(rows), None


def study_rows(results: Path, study: str, stage: str) -> pd.DataFrame:
    """The rows of ``study`` at ``stage`` (search / final) already in ``results`` (none when it does not exist)."""
    if not results.exists():
        return read_results([])
    df = read_results(results)
    return df[(df["stage"] == stage) & (df["study"] == study)]


def existing_final_rows(results: Path, study: str) -> dict[tuple, dict]:
    """``(config_hash, fold, seed, holdout) -> row`` of the ok final rows of ``study`` already in ``results``."""
    df = study_rows(results, study, "final")
    df = df[df["status"] == "ok"]
    return {(r.config_hash, int(r.fold), int(r.seed), _holdout_key(r.holdout)): r._asdict()
            for r in df.itertuples(index=False)}


#: Search-study user attribute naming the final queue of the current selection (read by the progress display).
QUEUE_ATTR = "gb.final_queue"
#: The only configuration a study can select (see the module docstring, "Nothing to select"):
#: ``{"hparams": {...}, "empty_space": bool}``.
ONE_CONFIG_ATTR = "gb.one_configuration"


def one_configuration(study: optuna.Study, sweep: SweepFile) -> dict[str, Any] | None:
    """The hyperparameters of the only configuration ``study`` selects under ``sweep``'s budget, or None when it
    searches. A study created with a budget of one trial searches once the budget is raised."""
    one = study.user_attrs.get(ONE_CONFIG_ATTR)
    if one is None or not (one["empty_space"] or sweep.trials == 1):
        return None
    return one["hparams"]


@dataclass
class StudyRunner:
    """One study of the sweep, as seen by one worker."""

    spec: StudySpec
    sweep: SweepFile
    storage: Any
    worker_id: int = 0
    say: Callable[[str], None] = print
    study: optuna.Study = field(init=False)
    final: FinalQueue | None = field(init=False, default=None)
    _final_seen: float | None = field(init=False, default=None)
    _last_trial: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        sampler = TrialSeededSampler(self.sweep.sampler_seed)  # a trial's proposal: the same on any worker
        self.study, created = create_or_load(self.spec.name, self.storage, direction=_direction(self.spec.dataset),
                                             sampler=sampler, pruner=make_pruner(self.sweep, self.spec))
        fp = fingerprint(self.spec, self.sweep.param_budget)
        if created:
            attrs = {"gb.model": self.spec.model, "gb.dataset": self.spec.dataset,
                     "gb.protocol": self.spec.protocol.id, "gb.selection": self.spec.protocol.selection,
                     "gb.outer_fold": self.spec.outer_fold, "gb.fingerprint": fp}
            for k, v in attrs.items():
                self.study.set_user_attr(k, v)
            one = self._one_configuration()
            if one is not None:
                self.study.set_user_attr(ONE_CONFIG_ATTR, {"hparams": one, "empty_space": not self.spec.space})
            else:
                self._enqueue_defaults()
        else:
            theirs = self.study.user_attrs.get("gb.fingerprint")
            if theirs is not None and theirs != fp:
                raise SweepError(
                    f"study {self.spec.name!r} was created with another search space, fixed hyperparameters or "
                    f"search protocol than {self.sweep.path} now declares; its trials are not comparable. Rename "
                    f"the sweep ('name:') or delete its storage ({self.sweep.journal_path}) to start over.")
            if self.study.direction.name.lower() != _direction(self.spec.dataset):
                raise SweepError(f"study {self.spec.name!r} optimises in the other direction than the dataset's "
                                 "metric; delete the storage to start over")
            if one_configuration(self.study, self.sweep) is None:
                self._enqueue_defaults()  # a study created with one trial whose budget was raised (idempotent)

    # -- search ---------------------------------------------------------------------------------------------
    def _context(self) -> dict[str, Any]:
        defaults = {k: hp.default for k, hp in declared_hparams(self.spec.model).items()}
        return {**defaults, **self.spec.fixed}

    def _first_params(self) -> dict[str, Any]:
        """The parameters of the first configuration a new study tries (:func:`first_trials`)."""
        return first_trials(self.spec.model, self.spec.dataset, self.spec.space, self._context())[0][0]

    def _one_configuration(self) -> dict[str, Any] | None:
        """The hyperparameters of the only configuration this new study can select, or None when it searches:
        an empty space, or one trial whose first configuration sets every active parameter of the space. A
        configuration that does not validate is left to the search, which records why it fails."""
        if self.sweep.search_trials(self.spec) != 0:
            return None
        try:
            hp = self._configure(optuna.trial.FixedTrial(self._first_params() if self.spec.space else {}))
            resolve_hparams(self.spec.model, hp)
        except (ValueError, HyperparameterError, BudgetError):  # ValueError: FixedTrial lacks a parameter
            return None
        return hp

    def _enqueue_defaults(self) -> None:
        if self.study.user_attrs.get("gb.defaults_enqueued"):
            return
        for params, attrs in first_trials(self.spec.model, self.spec.dataset, self.spec.space, self._context()):
            self.study.enqueue_trial(params, user_attrs=attrs, skip_if_exists=True)
        if self.sweep.sampler_type == "grid":  # the whole grid, each combination once, in a fixed order
            import itertools

            names = list(self.spec.space)
            for values in itertools.product(*(self.spec.space[n]["choices"] for n in names)):
                self.study.enqueue_trial(dict(zip(names, values)), user_attrs={"gb.grid": True},
                                         skip_if_exists=True)
        self.study.set_user_attr("gb.defaults_enqueued", True)

    def status(self) -> SearchStatus:
        return search_status(self.study, self.sweep)

    def _configure(self, trial: optuna.Trial) -> dict[str, Any]:
        """A trial's hyperparameters: the fixed ones, the suggested ones, and the width the budget allows."""
        params = suggest(trial, self.spec.space, self._context())
        hp = {**self.spec.fixed, **params}
        if self.sweep.param_budget is not None:
            hidden, n = solve_hidden(self.spec.model, self.spec.dataset, hp, self.sweep.param_budget,
                                     data_root=self.sweep.data_root, dataset_options=self.sweep.dataset_options)
            hp["hidden"] = hidden
        return hp

    def _objective(self, trial: optuna.Trial) -> float:
        self._last_trial = trial.number
        trial.set_user_attr(WORKER_ATTR, worker_record(trial.number))
        try:
            hp = self._configure(trial)
            resolve_hparams(self.spec.model, hp)
        except (HyperparameterError, BudgetError) as exc:
            trial.set_user_attr(REASON_ATTR, str(exc))
            raise TrialFailed(str(exc)) from None
        trial.set_user_attr("gb.hparams", hp)
        epochs = resolve_hparams(self.spec.model, hp)[1]["epochs"]
        runs = self.spec.search_runs(self.sweep.num_splits(self.spec.dataset))
        rows: list[dict] = []
        try:
            for k, (fold, seed) in enumerate(runs):
                row = run_one(self._spec(hp, fold, seed, "search", trial.number),
                              epoch_callback=self._pruning_callback(trial, k * epochs))
                rows.append(row)
                if row["status"] != "ok":
                    break
        except KeyboardInterrupt:
            # Not recorded as a result: the trial is failed and a copy queued, so the resumed sweep re-runs it.
            trial.set_user_attr(REASON_ATTR, "interrupted (SIGINT/SIGTERM); queued again")
            retry_trial(self.study, frozen_trial(self.storage, self.study, trial.number))
            raise
        append_rows(self.sweep.results, rows)  # one write per trial: a killed trial leaves no partial rows
        state, value, error = search_outcome(rows)
        if state != TrialState.COMPLETE:
            trial.set_user_attr(REASON_ATTR, error)
            raise optuna.TrialPruned(error) if state == TrialState.PRUNED else TrialFailed(error)
        return value

    def recorded_outcome(self, trial: FrozenTrial) -> Outcome | None:
        """The outcome of search trial ``trial`` as its rows in the results file record it (None: no rows). For
        a trial whose worker died between writing its rows and telling the storage."""
        df = study_rows(self.sweep.results, self.spec.name, "search")
        mine = df[df["trial"] == trial.number]
        return search_outcome(mine.to_dict("records")) if len(mine) else None

    def _pruning_callback(self, trial: optuna.Trial, offset: int) -> Callable[[int, float], None]:
        def callback(epoch: int, val: float) -> None:
            step = offset + epoch
            trial.report(val, step)
            if trial.should_prune():
                raise RunPruned(f"pruned by the {self.sweep.pruner.type} pruner at epoch {epoch} "
                                f"(validation {val:.4g})")
        return callback

    def _dataset(self):
        return get_dataset(self.spec.dataset, self.sweep.data_root, **self.sweep.dataset_options)

    def _spec(self, hp: dict, fold: int, seed: int, stage: str, trial: int | None, *,
              selection_trials: int | None = None) -> RunSpec:
        search = stage == "search"
        extra = {"protocol": self.spec.protocol.selection, "selection_fold": self.spec.outer_fold,
                 "selection_trials": selection_trials}
        holdout = None if search else self.spec.protocol.final.holdout
        return RunSpec(self.spec.model, self.spec.dataset, seed=seed, fold=fold, hparams=hp,
                       dataset_options=self.sweep.dataset_options, data_root=self.sweep.data_root,
                       device=self.sweep.device, deterministic=self.sweep.deterministic, stage=stage,
                       study=self.spec.name, trial=trial, param_budget=self.sweep.param_budget, score_test=not search,
                       holdout=holdout, extra=extra, checkpoint=self._checkpoint(hp, fold, seed, stage, holdout),
                       checkpoint_every_s=self.sweep.checkpoint_every)

    def _checkpoint(self, hp: dict, fold: int, seed: int, stage: str, holdout: float | None) -> str | None:
        """Where the run (study, stage, configuration, fold, seed, holdout) keeps its checkpoint: the same file for
        a dead worker's run and the copy that re-runs it (the trial number is not part of the name)."""
        if self.sweep.checkpoint_every <= 0:
            return None
        key = json.dumps([self.spec.name, stage, config_hash(self.spec.model, self.spec.dataset, hp,
                                                              self.sweep.dataset_options), fold, seed, holdout],
                         default=str)
        folder = self.sweep.results.with_name(self.sweep.results.stem + ".checkpoints")
        return str(folder / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.pt")

    def run_search_trial(self) -> FrozenTrial | None:
        self._last_trial = None
        self.study.optimize(self._objective, n_trials=1, catch=(TrialFailed,), gc_after_trial=False)
        return self._trial(self.study, self._last_trial)

    @staticmethod
    def _trial(study: optuna.Study, number: int | None) -> FrozenTrial | None:
        if number is None:
            return None
        return next((t for t in study.get_trials(deepcopy=False) if t.number == number), None)

    # -- final ----------------------------------------------------------------------------------------------
    def _selected_hash(self, hp: dict) -> str:
        model_hp, train_hp = resolve_hparams(self.spec.model, hp)
        return config_hash(self.spec.model, self.spec.dataset, {**model_hp, **train_hp}, self.sweep.dataset_options)

    @property
    def final_name(self) -> str:
        return self.final.name if self.final is not None else f"{self.spec.name}/final"

    def final_state(self) -> str:
        """open (a queued final run), busy (others still running or filling the queue), done (or skipped)."""
        if self.final is None:
            selection = self._selection()
            if selection is None:
                return "done"  # no completed trial: nothing to re-run (reported by the summary)
            chash = self._selected_hash(selection["gb.hparams"])
            name = f"{self.spec.name}/{self.spec.protocol.final_id(chash)}"
            self.final = FinalQueue(name, self.storage, self.study.direction.name.lower())
            if self.final.created:
                self._fill_queue(selection, chash)
        fail_dead_trials(self.final.study, self.storage)
        if not self.final.filled:
            now = time.monotonic()
            self._final_seen = self._final_seen or now
            if now - self._final_seen < ENQUEUE_GRACE_S:
                return "busy"
            selection = self._selection()  # its creator died while filling the queue
            assert selection is not None
            self._fill_queue(selection, self._selected_hash(selection["gb.hparams"]))
        return self.final.state()

    def _selection(self) -> dict[str, Any] | None:
        """The selected configuration as the final queue records it (hparams, trial, value, finished trials);
        None when no trial completed."""
        one = one_configuration(self.study, self.sweep)
        if one is not None:
            return {"gb.hparams": one, "gb.best_trial": None, "gb.best_value": None, "gb.selection_trials": 0}
        try:
            best = self.study.best_trial
        except ValueError:
            return None
        finished = sum(1 for t in self.study.get_trials(deepcopy=False)
                       if t.state in (TrialState.COMPLETE, TrialState.PRUNED))
        return {"gb.hparams": best.user_attrs["gb.hparams"], "gb.best_trial": best.number,
                "gb.best_value": best.value, "gb.selection_trials": finished}

    def _fill_queue(self, selection: dict[str, Any], chash: str) -> None:
        assert self.final is not None
        attrs = {**selection, "gb.config_hash": chash}
        items = [{"fold": f, "seed": s} for f, s in self.spec.final_runs(self.sweep.num_splits(self.spec.dataset))]
        self.final.fill(items, attrs)
        self.study.set_user_attr(QUEUE_ATTR, self.final.name)

    def run_final(self) -> FrozenTrial | None:
        """Claim one queued final run, run it (or reuse its row), report it; None when nothing was left."""
        assert self.final is not None
        claimed = self.final.claim()
        if claimed is None:
            return None
        trial, item = claimed
        fold, seed = int(item["fold"]), int(item["seed"])
        attrs = trial.user_attrs
        hp, best = attrs["gb.hparams"], attrs["gb.best_trial"]
        holdout = self.spec.protocol.final.holdout
        done = existing_final_rows(self.sweep.results, self.spec.name).get(
            (attrs["gb.config_hash"], fold, seed, _holdout_key(holdout)))
        if done is not None:  # written before a crash: reuse it, never duplicate it
            trial.set_user_attr("gb.reused_row", done["run_id"])
            self.final.done(trial, float(done["val_metric"]))
            return self._trial(self.final.study, trial.number)
        try:
            row = run_one(self._spec(hp, fold, seed, "final", best, selection_trials=attrs["gb.selection_trials"]))
        except KeyboardInterrupt:
            trial.set_user_attr(REASON_ATTR, "interrupted (SIGINT/SIGTERM); queued again")
            self.final.study.tell(trial, state=TrialState.FAIL)
            retry_trial(self.final.study, frozen_trial(self.storage, self.final.study, trial.number))
            raise
        append_rows(self.sweep.results, [row])
        if row["status"] != "ok":
            self.final.fail(trial, row.get("error") or row["status"])
        else:
            self.final.done(trial, float(row["val_metric"]))
        return self._trial(self.final.study, trial.number)


def describe_trial(study: str, t: FrozenTrial | None, worker_id: int) -> str:
    if t is None:
        return f"[w{worker_id}] {study}: no trial"
    state = t.state.name.lower()
    value = f" value {t.value:.4g}" if t.value is not None else ""
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in {**t.params, **(t.user_attrs.get("gb.item") or {})}.items())
    reason = t.user_attrs.get(REASON_ATTR)
    return (f"[w{worker_id}] {study} #{t.number} {state}{value} ({_duration(t):.1f} s) {params}"
            + (f" — {reason}" if reason and t.state != TrialState.COMPLETE else ""))


def work(sweep: SweepFile, storage, *, worker_id: int = 0, quiet: bool = True, stale_after: float | None = None,
         out=None) -> int:
    """Run this worker until every study of ``sweep`` is searched and finalised; returns the exit code."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = out or sys.stdout

    def say(msg: str) -> None:
        if quiet:
            print(msg, file=out, flush=True)

    runners = [StudyRunner(spec, sweep, storage, worker_id, say) for spec in sweep.studies()]
    while True:
        did, pending = False, False
        for r in runners:
            fail_dead_trials(r.study, storage, stale_after=stale_after, recorded=r.recorded_outcome)
            status = r.status()
            if status.state == "open":
                say(describe_trial(r.spec.name, r.run_search_trial(), worker_id))
                did = True
                break
            if status.state == "busy":
                pending = True
                continue
            fstate = r.final_state()
            if fstate == "open":
                t = r.run_final()
                if t is not None:
                    say(describe_trial(r.final_name, t, worker_id))
                did = True
                break
            if fstate == "busy":
                pending = True
        if not did:
            if not pending:
                return 0
            time.sleep(POLL_S)

