"""Sweep files (``graphbench sweep sweeps/NAME.yaml``): parsed and validated completely before anything runs.

A sweep file::

    name: quick                     # study-name prefix (default: the file name without .yaml)
    models: [gcn, gin]              # or a mapping: {gin: {hparams: {...}, search_space: {...}}, gcn: {}}
    datasets: [csl]
    trials: 8                       # per study: COMPLETE + PRUNED trials (count budget) ...
    timeout: 10m                    # ... and/or compute time per study (s, or "90s" / "10m" / "2h")
    hparams: {epochs: 20, pe: rwse} # fixed for every trial and final run (never searched)
    search_space:                   # overrides the model's registered space, parameter by parameter
      lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
      layers: null                  # null removes a parameter from the model's space (its default is used)
      pe_dim: {type: categorical, choices: [8, 16], when: {pe: rwse}}   # conditional parameter
    param_budget: 100000            # optional: solve `hidden` so the model has at most this many parameters
    pruner: median                  # median (default) | hyperband | none, or {type: median, n_startup_trials: 5,
                                    #  n_warmup_steps: 5}
    sampler: {seed: 0}              # TPE seed, re-seeded per trial (graphbench.sweep.sampler); {type: grid}: every
                                    #  combination of the (categorical) space is enqueued once, in order
    protocol:
      selection: per-fold            # per-fold (default, Errica et al.) | select-once (optimistic, flagged)
      search: {seeds: [0]}           # runs the objective averages (per-fold: fold k's inner validation only;
                                     #  select-once also takes folds: [0, 1, 2])
      final: {folds: all, seeds: [0, 1, 2], holdout: 0.1}   # outer folds (per-fold: one study each) and re-runs
                                     #  of the selected configuration; holdout: Errica's final phase (optional)
    results: results/quick.csv      # default results/<name>.csv
    storage: null                   # default: the journal file results/<name>.journal
    dataset_options: {}
    data_root: null
    device: cpu
    report: results/quick-report    # optional: build the report there when the sweep ends
    expressiveness:                 # optional, after the sweep: BREC's pair protocol on untrained models (quick
      models: [gin, pswl]           #  mode, float64) for these models and pair datasets; rows go to the results
      datasets: [wl-pairs, csl]     #  file (resumable) and the report shows the table
      hparams: {hidden: 16}
    compare: {baseline: gin, model: pswl}   # optional: the report's "is the model better than the baseline?"
    threads: 1                      # optional: torch threads per worker (default: cores // workers; --threads wins)
    deterministic: false            # optional: deterministic algorithms, and the kernel ISA pinned to avx2
    isa: avx2                       # optional: pin torch/MKL/oneDNN kernels (avx2 | avx512 | default | native);
                                    #  default avx2 when deterministic, else native (the CPU's best; --isa wins)
    checkpoint_every: 10m           # optional (default 10m): a run saves its training state this often, in
                                    #  <results>.checkpoints/, and a killed run resumes from it (0: never)

Search-space entries: ``{type: int|float, low, high, log: false, step}`` or ``{type: categorical, choices: [...]}``,
each optionally with ``when: {param: value | [values]}``: the parameter is suggested only when every named
parameter (searched or fixed) has one of the given values; otherwise the model's default is used. The space that
applies to a study is the model's registered space, then the file's ``search_space``, then the model's own
``search_space`` in a ``models`` mapping; a parameter fixed in ``hparams`` is never searched. A file-level
parameter that a model does not declare (e.g. GAT's ``heads`` for GCN) is skipped for that model.

Every error names the file, the key and its line.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graphbench.config import ConfigError, check_keys, line_of, load_yaml, requested_isa
from graphbench.hparams import HyperparameterError
from graphbench.presets import sweep_model_options
from graphbench.registry import DATASETS, MODELS, UnknownNameError
from graphbench.train.checkpoint import DEFAULT_EVERY_S
from graphbench.train.runner import declared_hparams, resolve_hparams
from graphbench.transforms import transform_hparams

SWEEP_KEYS = ("name", "models", "datasets", "trials", "timeout", "hparams", "search_space", "param_budget", "pruner",
              "sampler", "protocol", "results", "storage", "dataset_options", "data_root", "device", "report",
              "threads", "deterministic", "isa", "expressiveness", "compare", "checkpoint_every")
EXPRESSIVENESS_KEYS = ("models", "datasets", "hparams", "seeds", "max_pairs")
MODEL_KEYS = ("hparams", "search_space", "preset")  # preset: graphbench.presets.sweep_model_options
SPACE_KEYS = {"int": ("type", "low", "high", "log", "step", "when"),
              "float": ("type", "low", "high", "log", "step", "when"),
              "categorical": ("type", "choices", "when")}
PRUNERS = ("median", "hyperband", "none")
PRUNER_KEYS = ("type", "n_startup_trials", "n_warmup_steps", "min_resource", "reduction_factor")
PROTOCOL_KEYS = ("name", "selection", "search", "final")
PHASE_KEYS = {"search": ("folds", "seeds"), "final": ("folds", "seeds", "holdout")}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*$")


@dataclass(frozen=True)
class Phase:
    """Which outer folds and seeds a phase runs; ``folds=None`` means every split of the dataset.

    ``holdout`` (final phase only): re-train on the outer training set minus a fresh random holdout of this
    fraction per seed, as Errica et al.'s final runs (see :mod:`graphbench.train.holdout`).
    """

    folds: tuple[int, ...] | None
    seeds: tuple[int, ...]
    holdout: float | None = None

    def runs(self, num_splits: int) -> list[tuple[int, int]]:
        folds = range(num_splits) if self.folds is None else self.folds
        return [(f, s) for f in folds for s in self.seeds]

    def key(self) -> dict[str, Any]:
        return {"folds": None if self.folds is None else list(self.folds), "seeds": list(self.seeds),
                "holdout": self.holdout}


def short_hash(obj: Any, n: int = 6) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:n]


def _count(xs: tuple[int, ...] | None, letter: str) -> str:
    return f"all{letter}" if xs is None else f"{len(xs)}{letter}"


#: per-fold: Errica et al.'s protocol; select-once: the optimistic one (named explicitly, flagged in reports).
SELECTIONS = ("per-fold", "select-once")


@dataclass(frozen=True)
class Protocol:
    """How configurations are selected and re-run (see :mod:`graphbench.sweep.runner`).

    ``per-fold`` (default): for every outer fold k of ``final.folds``, one study searches on fold k's inner
    train/validation (seeds ``search.seeds``) and fold k's finals (seeds ``final.seeds``) re-run fold k's own
    selection. ``select-once``: one study selects on the mean inner validation of ``search.folds`` × seeds and its
    configuration is re-run on every fold of ``final`` — optimistic on k-fold data, since the selection saw
    graphs that are other folds' test graphs; reports flag it.
    """

    search: Phase = Phase(None, (0,))
    final: Phase = Phase(None, (0, 1, 2))
    name: str = ""
    selection: str = "per-fold"

    @property
    def per_fold(self) -> bool:
        return self.selection == "per-fold"

    @property
    def id(self) -> str:
        """Readable prefix + a hash of the exact search lists: distinct protocols never share a study name."""
        if self.per_fold:
            key = {"selection": self.selection, "seeds": list(self.search.seeds)}
            readable = f"per-fold-{_count(self.search.seeds, 's')}"
        else:
            key = {"selection": self.selection, **self.search.key()}
            readable = f"select-once-{_count(self.search.folds, 'f')}{_count(self.search.seeds, 's')}"
        return f"{self.name or readable}-{short_hash(key)}"

    def final_id(self, selected_config: str) -> str:
        """Name of the final work queue of one selection: final lists + the selected configuration's hash."""
        return f"final-{_count(self.final.seeds, 's')}-{short_hash([self.final.key(), selected_config])}"


@dataclass(frozen=True)
class PrunerSpec:
    type: str = "median"
    n_startup_trials: int = 5
    n_warmup_steps: int = 5
    min_resource: int = 1
    reduction_factor: int = 3


@dataclass(frozen=True)
class StudySpec:
    """One Optuna study: one model on one dataset (and, per-fold, one outer fold) under the sweep's protocol."""

    sweep: str
    model: str
    dataset: str
    protocol: Protocol
    space: dict[str, dict[str, Any]]
    fixed: dict[str, Any]
    outer_fold: int | None = None  # per-fold protocol: the outer fold this study selects for

    @property
    def name(self) -> str:
        base = f"{self.sweep}/{self.model}/{self.dataset}/{self.protocol.id}"
        return base if self.outer_fold is None else f"{base}/fold{self.outer_fold}"

    def search_runs(self, num_splits: int) -> list[tuple[int, int]]:
        """(fold, seed) runs whose mean validation metric is a trial's value."""
        if self.outer_fold is not None:
            return [(self.outer_fold, s) for s in self.protocol.search.seeds]
        return self.protocol.search.runs(num_splits)

    def final_runs(self, num_splits: int) -> list[tuple[int, int]]:
        """(fold, seed) re-runs of the selected configuration; each scores the test part once."""
        if self.outer_fold is not None:
            return [(self.outer_fold, s) for s in self.protocol.final.seeds]
        return self.protocol.final.runs(num_splits)


@dataclass
class SweepFile:
    path: Path
    name: str
    models: dict[str, dict[str, Any]]  # model -> {"hparams": {...}, "search_space": {...}}
    datasets: list[str]
    trials: int | None
    timeout: float | None
    hparams: dict[str, Any]
    search_space: dict[str, dict | None]
    param_budget: int | None
    pruner: PrunerSpec
    sampler_seed: int
    protocol: Protocol
    results: Path
    storage: str | None
    dataset_options: dict[str, Any] = field(default_factory=dict)
    data_root: str | None = None
    #: "tpe" (default) or "grid": every combination of the categorical space is enqueued (``sampler: {type: grid}``)
    sampler_type: str = "tpe"
    device: str = "cpu"
    report: Path | None = None
    threads: int | None = None
    deterministic: bool = False
    isa: str | None = None  # None: avx2 when deterministic, else native (graphbench.env.isa_level)
    #: ``expressiveness:`` — {models, datasets, hparams, seeds, max_pairs} of the quick-mode pair protocol run after
    #: the sweep (graphbench.expressiveness), or None
    expressiveness: dict[str, Any] | None = None
    #: ``compare:`` — (baseline, model) of the report's comparison section, or None
    compare: tuple[str, str] | None = None
    #: ``checkpoint_every:`` — seconds between two saves of a running run's state (graphbench.train.checkpoint);
    #: 0: runs are not checkpointed
    checkpoint_every: float = DEFAULT_EVERY_S
    _splits: dict[str, int] = field(default_factory=dict, repr=False)

    def num_splits(self, dataset: str) -> int:
        """Splits (outer folds) of ``dataset``; loads it once (raises when it cannot be loaded here)."""
        if dataset not in self._splits:
            from graphbench.train.runner import get_dataset

            self._splits[dataset] = len(get_dataset(dataset, self.data_root, **self.dataset_options).splits)
        return self._splits[dataset]

    def outer_folds(self, dataset: str) -> list[int | None]:
        """The outer folds that get their own study (per-fold), or ``[None]`` (one study: select-once)."""
        if not self.protocol.per_fold:
            return [None]
        folds = self.protocol.final.folds
        return list(range(self.num_splits(dataset))) if folds is None else list(folds)

    def studies(self) -> list[StudySpec]:
        """Every study, in file order (models outer, datasets, then outer folds inner)."""
        out = []
        for model, own in self.models.items():
            fixed = {**self.hparams, **own.get("hparams", {})}
            space = study_space(model, self.search_space, own.get("search_space", {}), fixed,
                                self.param_budget is not None)
            for dataset in self.datasets:
                for k in self.outer_folds(dataset):
                    out.append(StudySpec(self.name, model, dataset, self.protocol, space, fixed, k))
        return out

    def search_trials(self, spec: StudySpec) -> int | None:
        """Search trials ``spec`` runs at most: 0 where it can select only one configuration (an empty space,
        or a budget of one trial: its first configuration; graphbench.sweep.runner, "Nothing to select"), else the
        trial budget (None: bounded by time)."""
        return 0 if not spec.space or self.trials == 1 else self.trials

    @property
    def journal_path(self) -> Path:
        return self.results.parent / f"{self.name}.journal"


def searchable_hparams(model: str) -> dict:
    """What a sweep may fix or search for ``model``: its run hyperparameters, plus every registered transform's
    parameters under dotted names (``lappe.k``), which the run folds into its transform chain."""
    return {**declared_hparams(model), **transform_hparams()}


def study_space(model: str, file_space: dict, model_space: dict, fixed: dict, budget: bool) -> dict[str, dict]:
    """The model's registered space, overridden by the file's, then by the model's own entry (see module doc)."""
    declared = searchable_hparams(model)
    space: dict[str, dict] = dict(MODELS.get(model).meta.get("search_space", {}))
    for name, spec in file_space.items():
        if name in declared:
            space[name] = spec
    space.update(model_space)
    space = {k: v for k, v in space.items() if v is not None and k not in fixed}
    if budget:
        space.pop("hidden", None)  # solved from the parameter budget instead
    return space


def parse_duration(value: Any) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(value)
    return float(m.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[m.group(2)]


def _err(path: Path, where: str, data: dict | None, key: str, msg: str) -> ConfigError:
    line = line_of(data, key) if data is not None else ""
    return ConfigError(f"{path}: {where}{line}: {msg}")


def _int_list(value: Any, *, allow_all: bool) -> tuple[int, ...] | None:
    if allow_all and value == "all":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and not isinstance(v, bool)
                                                           and v >= 0 for v in value):
        raise ValueError
    if len(set(value)) != len(value):
        raise ValueError
    return tuple(value)


def _check_space_entry(path: Path, where: str, parent: dict, name: str, spec: Any, model: str | None) -> None:
    """Validate one search-space entry (``None`` removes a parameter)."""
    if spec is None:
        return
    if not isinstance(spec, dict):
        raise _err(path, where, parent, name, "a search-space entry must be a mapping with a 'type' (int, float, "
                   "categorical) or null to remove the parameter")
    kind = spec.get("type")
    if kind not in SPACE_KEYS:
        raise _err(path, f"{where}.type", spec if "type" in spec else parent, "type" if "type" in spec else name,
                   f"type must be one of {', '.join(SPACE_KEYS)}, got {kind!r}")
    for key in spec:
        if key not in SPACE_KEYS[kind]:
            raise _err(path, f"{where}.{key}", spec, key,
                       f"unknown key {key!r} for a {kind} parameter; allowed: {', '.join(SPACE_KEYS[kind])}")
    declared = searchable_hparams(model) if model else None
    if kind == "categorical":
        choices = spec.get("choices")
        if not isinstance(choices, list) or not choices:
            raise _err(path, f"{where}.choices", spec, "choices" if "choices" in spec else "type",
                       "a categorical parameter needs a non-empty list 'choices'")
        values = choices
    else:
        for key in ("low", "high"):
            v = spec.get(key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise _err(path, f"{where}.{key}", spec, key if key in spec else "type",
                           f"a {kind} parameter needs a number {key!r}")
            if kind == "int" and int(v) != v:
                raise _err(path, f"{where}.{key}", spec, key, f"{key!r} of an int parameter must be an integer")
        if spec["low"] > spec["high"]:
            raise _err(path, f"{where}.low", spec, "low", f"low ({spec['low']}) is greater than high ({spec['high']})")
        if spec.get("log") and spec["low"] <= 0:
            raise _err(path, f"{where}.log", spec, "log", "a log-scaled parameter needs low > 0")
        if "log" in spec and not isinstance(spec["log"], bool):
            raise _err(path, f"{where}.log", spec, "log", "log must be true or false")
        if spec.get("step") is not None and spec.get("log"):
            raise _err(path, f"{where}.step", spec, "step", "step and log cannot be combined")
        values = [spec["low"], spec["high"]]
    if declared is not None and name in declared:
        for v in values:
            try:
                declared[name].coerce(name, v)
            except HyperparameterError as exc:
                raise _err(path, where, parent, name, f"{exc} (model {model!r})") from None
    when = spec.get("when")
    if when is not None and (not isinstance(when, dict) or not when):
        raise _err(path, f"{where}.when", spec, "when", "when must map parameter names to a value or a list of "
                   "values, e.g. {pe: rwse}")


def _check_conditions(path: Path, where: str, data: dict | None, space: dict, fixed: dict, model: str) -> None:
    """Every ``when`` names a searched or fixed parameter, and the conditions have no cycle."""
    declared = searchable_hparams(model)
    for name, spec in space.items():
        for dep in (spec.get("when") or {}):
            if dep not in space and dep not in fixed and dep not in declared:
                raise _err(path, f"{where}.{name}.when", spec.get("when"), dep,
                           f"condition on {dep!r}, which model {model!r} neither searches nor declares")
    from graphbench.sweep.space import suggest_order

    try:
        suggest_order(space)
    except ValueError as exc:
        raise ConfigError(f"{path}: {where}{line_of(data, next(iter(space), '')) if data else ''}: {exc}") from None


def load_sweep(path: str | Path, *, check_datasets: bool = True) -> SweepFile:
    """Read and validate a sweep file; raises :class:`ConfigError` naming the key and its line.

    ``check_datasets=False`` accepts dataset names that are not registered in this installation (for listing
    a plan of a file that refers to datasets of another branch); a run always checks them.
    """
    path = Path(path)
    data = load_yaml(path)
    check_keys(data, SWEEP_KEYS, path)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not _NAME.match(name):
        raise _err(path, "'name'", data, "name", "must be letters, digits, '-', '_' or '.', e.g. quick")
    models = _parse_models(path, data)
    datasets = _parse_datasets(path, data, check_datasets)
    trials, timeout = _parse_budget(path, data)
    hparams, file_space = _parse_spaces(path, data, models)
    budget = _parse_param_budget(path, data, hparams, models)
    for key in ("storage", "data_root", "device", "report"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise _err(path, f"'{key}'", data, key, "must be a string")
    threads = data.get("threads")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise _err(path, "'threads'", data, "threads", "must be a positive integer")
    isa, deterministic = requested_isa(path)
    dataset_options = data.get("dataset_options") or {}
    if not isinstance(dataset_options, dict):
        raise _err(path, "'dataset_options'", data, "dataset_options", "must be a mapping")
    sweep = SweepFile(path=path, name=name, models=models, datasets=datasets, trials=trials, timeout=timeout,
                      hparams=dict(hparams), search_space=dict(file_space), param_budget=budget,
                      pruner=_pruner(path, data), sampler_seed=_sampler_seed(path, data),
                      sampler_type=_sampler_type(path, data), protocol=_protocol(path, data),
                      results=Path(str(data.get("results") or Path("results") / f"{name}.csv")),
                      storage=data.get("storage"), dataset_options=dict(dataset_options),
                      data_root=data.get("data_root"), device=data.get("device") or "cpu",
                      report=Path(data["report"]) if data.get("report") else None, threads=threads,
                      deterministic=deterministic, isa=isa,
                      expressiveness=_expressiveness(path, data), compare=_compare(path, data, models),
                      checkpoint_every=_checkpoint_every(path, data))
    if sweep.sampler_type == "grid":
        _check_grid(sweep, data)
    return sweep


def _parse_models(path: Path, data: dict) -> dict[str, dict]:
    """``models``: a list of names or a mapping name -> {hparams, search_space}; canonical names, in file order.

    Each value keeps ``_lines`` (its YAML container and key) until :func:`_parse_spaces` has used it for errors.
    """
    raw_models = data.get("models")
    if raw_models is None:
        raise ConfigError(f"{path}: 'models' is required (a list of model names or a mapping name -> options)")
    if isinstance(raw_models, str):
        raw_models = [raw_models]
    models: dict[str, dict] = {}
    if isinstance(raw_models, list):
        for m in raw_models:
            if not isinstance(m, str):
                raise _err(path, "'models'", data, "models", f"model names must be strings, got {m!r}")
            models[m] = {}
    elif isinstance(raw_models, dict):
        for m, opts in raw_models.items():
            opts = {} if opts is None else opts
            if not isinstance(opts, dict):
                raise _err(path, f"models.{m}", raw_models, m, "must be a mapping with hparams and/or search_space")
            check_keys(opts, MODEL_KEYS, f"{path}: models.{m}")
            models[str(m)] = opts
    else:
        raise _err(path, "'models'", data, "models", "must be a list of model names or a mapping")
    container = raw_models if isinstance(raw_models, dict) else data
    resolved: dict[str, dict] = {}
    for m, opts in models.items():
        try:
            canonical = MODELS.get(m).name
        except UnknownNameError as exc:
            raise _err(path, "'models'", container, m if container is raw_models else "models", str(exc)) from None
        for key in ("hparams", "search_space"):
            if key in opts and not isinstance(opts[key], dict) and not (key == "search_space" and
                                                                          opts[key] == "preset"):
                raise _err(path, f"models.{m}.{key}", opts, key, "must be a mapping")
        try:
            expanded = sweep_model_options(canonical, opts)
        except (UnknownNameError, ValueError) as exc:
            raise _err(path, f"models.{m}", container, m, str(exc)) from None
        resolved[canonical] = {**expanded, "_lines": (container, m)}
    return resolved


def _parse_datasets(path: Path, data: dict, check: bool) -> list[str]:
    datasets = data.get("datasets")
    if isinstance(datasets, str):
        datasets = [datasets]
    if not isinstance(datasets, list) or not datasets or not all(isinstance(d, str) for d in datasets):
        raise _err(path, "'datasets'", data, "datasets", "must be a non-empty list of dataset names")
    names = []
    for d in datasets:
        if d in DATASETS:
            names.append(DATASETS.get(d).name)
        elif check:
            try:
                DATASETS.get(d)
            except UnknownNameError as exc:
                raise _err(path, "'datasets'", data, "datasets", str(exc)) from None
        else:
            names.append(d.lower())
    return names


def _parse_budget(path: Path, data: dict) -> tuple[int | None, float | None]:
    """``trials`` (a count per study) and/or ``timeout`` (compute seconds per study)."""
    trials, timeout = data.get("trials"), data.get("timeout")
    if trials is not None and (isinstance(trials, bool) or not isinstance(trials, int) or trials < 1):
        raise _err(path, "'trials'", data, "trials", f"must be a positive integer, got {trials!r}")
    if timeout is not None:
        try:
            timeout = parse_duration(timeout)
        except ValueError:
            raise _err(path, "'timeout'", data, "timeout", f"must be seconds or a duration like 90s, 10m, 2h; "
                       f"got {timeout!r}") from None
        if timeout <= 0:
            raise _err(path, "'timeout'", data, "timeout", "must be positive")
    if trials is None and timeout is None:
        raise ConfigError(f"{path}: give a trial budget: 'trials' (a count per study) and/or 'timeout' (compute "
                          "time per study)")
    return trials, timeout


def _checkpoint_every(path: Path, data: dict) -> float:
    """``checkpoint_every``: seconds (or a duration like 10m) between checkpoint saves; 0 turns them off."""
    value = data.get("checkpoint_every")
    if value is None:
        return DEFAULT_EVERY_S
    try:
        seconds = parse_duration(value)
    except ValueError:
        seconds = -1.0
    if seconds < 0:
        raise _err(path, "'checkpoint_every'", data, "checkpoint_every", "must be seconds or a duration like "
                   f"90s, 10m, 2h (0: no checkpoints); got {value!r}")
    return seconds


def _parse_spaces(path: Path, data: dict, models: dict[str, dict]) -> tuple[dict, dict]:
    """Validate the fixed ``hparams`` and every search space against each model's declared hyperparameters."""
    hparams = data.get("hparams") or {}
    if not isinstance(hparams, dict):
        raise _err(path, "'hparams'", data, "hparams", "must be a mapping of hyperparameter to value")
    file_space = data.get("search_space") or {}
    if not isinstance(file_space, dict):
        raise _err(path, "'search_space'", data, "search_space", "must be a mapping of parameter to entry")
    for pname, spec in file_space.items():
        if not any(pname in searchable_hparams(m) for m in models):
            raise _err(path, f"search_space.{pname}", file_space, pname,
                       f"no model of this sweep has a hyperparameter {pname!r}")
        _check_space_entry(path, f"search_space.{pname}", file_space, pname, spec, None)
    for m, opts in models.items():
        _container, key = opts.pop("_lines")
        fixed = {**hparams, **opts["hparams"]}
        try:
            resolve_hparams(m, fixed)
        except HyperparameterError as exc:
            bad = next((k for k in opts["hparams"] if k in str(exc)), None)
            if bad is not None:
                raise _err(path, f"models.{key}.hparams.{bad}", opts["hparams"], bad, str(exc)) from None
            bad = next((k for k in hparams if repr(k) in str(exc)), None)
            raise _err(path, f"hparams.{bad}" if bad else "'hparams'", hparams if bad else data,
                       bad or "hparams", str(exc)) from None
        for pname, spec in opts["search_space"].items():
            if pname not in searchable_hparams(m):
                raise _err(path, f"models.{key}.search_space.{pname}", opts["search_space"], pname,
                           f"model {m!r} has no hyperparameter {pname!r}")
            _check_space_entry(path, f"models.{key}.search_space.{pname}", opts["search_space"], pname, spec, m)
        for pname, spec in file_space.items():
            if pname in searchable_hparams(m):
                _check_space_entry(path, f"search_space.{pname}", file_space, pname, spec, m)
        space = study_space(m, file_space, opts["search_space"], fixed, data.get("param_budget") is not None)
        _check_conditions(path, f"search space of {m!r}", file_space or None, space, fixed, m)
    return hparams, file_space


def _parse_param_budget(path: Path, data: dict, hparams: dict, models: dict[str, dict]) -> int | None:
    budget = data.get("param_budget")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 100):
        raise _err(path, "'param_budget'", data, "param_budget", f"must be an integer number of parameters "
                   f"(e.g. 100000), got {budget!r}")
    if budget is not None and any("hidden" in {**hparams, **o["hparams"]} for o in models.values()):
        raise _err(path, "'param_budget'", data, "param_budget", "the width 'hidden' is solved from the budget; "
                   "remove 'hidden' from hparams")
    return budget


def _expressiveness(path: Path, data: dict) -> dict[str, Any] | None:
    """``expressiveness:`` validated: registered models, pair datasets, hyperparameters the models take."""
    raw = data.get("expressiveness")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _err(path, "'expressiveness'", data, "expressiveness", "must be a mapping with models and datasets")
    check_keys(raw, EXPRESSIVENESS_KEYS, f"{path}: expressiveness")
    out: dict[str, Any] = {}
    for key in ("models", "datasets"):
        names = raw.get(key)
        if isinstance(names, str):
            names = [names]
        if not isinstance(names, list) or not names:
            raise _err(path, f"expressiveness.{key}", raw, key, "must be a non-empty list of names")
        out[key] = names
    try:
        out["models"] = [MODELS.get(m).name for m in out["models"]]
        out["datasets"] = [DATASETS.get(d).name for d in out["datasets"]]
    except UnknownNameError as exc:
        raise ConfigError(f"{path}: expressiveness: {exc}") from None
    hp = raw.get("hparams") or {}
    if not isinstance(hp, dict):
        raise _err(path, "expressiveness.hparams", raw, "hparams", "must be a mapping")
    from graphbench.expressiveness.protocol import resolve_model_hparams

    for m in out["models"]:
        try:
            resolve_model_hparams(m, hp)
        except (HyperparameterError, ValueError) as exc:
            raise ConfigError(f"{path}: expressiveness.hparams for {m}: {exc}") from None
    seeds = raw.get("seeds", [0])
    if not isinstance(seeds, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in seeds):
        raise _err(path, "expressiveness.seeds", raw, "seeds", "must be a list of integers")
    max_pairs = raw.get("max_pairs")
    if max_pairs is not None and (isinstance(max_pairs, bool) or not isinstance(max_pairs, int) or max_pairs < 1):
        raise _err(path, "expressiveness.max_pairs", raw, "max_pairs", "must be a positive integer")
    return {**out, "hparams": dict(hp), "seeds": list(seeds), "max_pairs": max_pairs}


def _compare(path: Path, data: dict, models: dict[str, dict]) -> tuple[str, str] | None:
    """``compare: {baseline, model}``: two of the sweep's models."""
    raw = data.get("compare")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _err(path, "'compare'", data, "compare", "must be a mapping {baseline: NAME, model: NAME}")
    check_keys(raw, ("baseline", "model"), f"{path}: compare")
    names = []
    for key in ("baseline", "model"):
        name = raw.get(key)
        canonical = MODELS.get(name).name if isinstance(name, str) and name in MODELS else None
        if canonical not in models:
            raise _err(path, f"compare.{key}", raw, key, f"must be one of the sweep's models {sorted(models)}")
        names.append(canonical)
    return names[0], names[1]


def _sampler_type(path: Path, data: dict) -> str:
    """``sampler.type``: tpe, or grid — then every searched parameter must be categorical and unconditional."""
    kind = (data.get("sampler") or {}).get("type", "tpe")
    if kind not in ("tpe", "grid"):
        raise _err(path, "sampler.type", data["sampler"], "type", "must be tpe or grid")
    return kind


def _check_grid(sweep: SweepFile, data: dict) -> None:
    """A grid sampler needs every study's searched parameters categorical and unconditional."""
    for spec in sweep.studies():
        for name, entry in spec.space.items():
            if entry.get("type") != "categorical" or entry.get("when"):
                raise _err(sweep.path, "sampler.type", data["sampler"], "type",
                           f"grid needs categorical, unconditional parameters; {spec.model}'s {name!r} is not "
                           "(fix it in hparams, null it in search_space, or give it choices)")


def _sampler_seed(path: Path, data: dict) -> int:
    sampler = data.get("sampler") or {}
    if not isinstance(sampler, dict):
        raise _err(path, "'sampler'", data, "sampler", "must be a mapping, e.g. {seed: 0}")
    check_keys(sampler, ("seed", "type"), f"{path}: sampler")
    seed = sampler.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _err(path, "sampler.seed", sampler, "seed", "must be an integer")
    return seed


def _pruner(path: Path, data: dict) -> PrunerSpec:
    raw = data.get("pruner", "median")
    if isinstance(raw, str):
        raw_map: dict = {"type": raw}
        where = data
    elif isinstance(raw, dict):
        check_keys(raw, PRUNER_KEYS, f"{path}: pruner")
        raw_map, where = dict(raw), raw
        raw_map.setdefault("type", "median")
    else:
        raise _err(path, "'pruner'", data, "pruner", f"must be one of {', '.join(PRUNERS)} or a mapping")
    if raw_map["type"] not in PRUNERS:
        raise _err(path, "pruner.type", where, "type" if where is raw else "pruner",
                   f"must be one of {', '.join(PRUNERS)}, got {raw_map['type']!r}")
    for key in PRUNER_KEYS[1:]:
        v = raw_map.get(key)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
            raise _err(path, f"pruner.{key}", where, key, "must be a non-negative integer")
    return PrunerSpec(**raw_map)


def _protocol(path: Path, data: dict) -> Protocol:
    raw = data.get("protocol") or {}
    if not isinstance(raw, dict):
        raise _err(path, "'protocol'", data, "protocol", "must be a mapping with 'selection', 'search' and 'final'")
    check_keys(raw, PROTOCOL_KEYS, f"{path}: protocol")
    selection = raw.get("selection", "per-fold")
    if selection not in SELECTIONS:
        raise _err(path, "protocol.selection", raw, "selection",
                   f"must be one of {', '.join(SELECTIONS)}, got {selection!r}")
    phases = {}
    defaults = Protocol()
    for phase in ("search", "final"):
        sub = raw.get(phase) or {}
        if not isinstance(sub, dict):
            raise _err(path, f"protocol.{phase}", raw, phase, "must be a mapping with 'folds' and 'seeds'")
        check_keys(sub, PHASE_KEYS[phase], f"{path}: protocol.{phase}")
        default: Phase = getattr(defaults, phase)
        try:
            folds = _int_list(sub["folds"], allow_all=True) if "folds" in sub else default.folds
        except ValueError:
            raise _err(path, f"protocol.{phase}.folds", sub, "folds", "must be 'all' or a list of distinct fold "
                       "indices") from None
        try:
            seeds = _int_list(sub["seeds"], allow_all=False) if "seeds" in sub else default.seeds
        except ValueError:
            raise _err(path, f"protocol.{phase}.seeds", sub, "seeds", "must be a list of distinct non-negative "
                       "integers") from None
        holdout = sub.get("holdout")
        if holdout is not None and (isinstance(holdout, bool) or not isinstance(holdout, (int, float))
                                    or not 0 < holdout < 1):
            raise _err(path, f"protocol.{phase}.holdout", sub, "holdout",
                       "must be a fraction in (0, 1), e.g. 0.1 (Errica et al.'s final runs)")
        phases[phase] = Phase(folds, seeds, float(holdout) if holdout is not None else None)
    if selection == "per-fold" and "folds" in (raw.get("search") or {}):
        raise _err(path, "protocol.search.folds", raw["search"], "folds",
                   "the per-fold protocol searches inside each outer fold (its inner validation only); list the "
                   "outer folds in protocol.final.folds, or set 'selection: select-once' for the optimistic "
                   "protocol that selects once on these folds and re-runs everywhere")
    if selection == "select-once" and "folds" not in (raw.get("search") or {}):
        phases["search"] = Phase((0,), phases["search"].seeds)
    pname = raw.get("name", "")
    if pname and (not isinstance(pname, str) or not _NAME.match(pname)):
        raise _err(path, "protocol.name", raw, "name", "must be letters, digits, '-', '_' or '.'")
    return Protocol(phases["search"], phases["final"], pname, selection)
