"""The public Python API: everything the CLI does, for notebooks and scripts.

>>> import graphbench.api as gb
>>> ds = gb.load_dataset("csl")
>>> rows = gb.run(["gin"], ["csl"], seeds=[0, 1], folds=[0], hparams={"epochs": 5}, results="results/demo.csv")
>>> df = gb.read_results("results/demo.csv")

Runs repeat bit for bit across x86-64 CPUs only with the kernels' instruction set pinned, which torch reads when it
is imported, and this module imports torch. In a script or notebook that wants ``deterministic=True`` to hold
across machines, pin first::

    from graphbench.env import pin_isa
    pin_isa("avx2")            # before graphbench.api, torch or anything that imports torch
    import graphbench.api as gb

Without that, ``deterministic=True`` warns (``RuntimeWarning``) and the rows record an empty ``isa_pin``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any

import pandas as pd

from graphbench.data import DATASETS, dataset_card, load_dataset
from graphbench.env import isa_level, pin_isa
from graphbench.hparams import HyperparameterError
from graphbench.models import MODELS, build_model, count_parameters
from graphbench.models.base import COMMON_HPARAMS
from graphbench.registry import UnknownNameError
from graphbench.results import append_row, check_writable, read_results
from graphbench.train.config import TRAIN_HPARAMS
from graphbench.train.runner import (
    RunSpec,
    declared_hparams,
    default_threads,
    get_dataset,
    resolve_hparams,
    run_one,
)

DEFAULT_RESULTS = os.path.join("results", "results.csv")


def list_models() -> list[dict[str, Any]]:
    """One dict per registered model: name, paper, supported task levels, edge features, hyperparameters."""
    return [{"name": e.name, "paper": e.meta.get("paper", ""), "task_levels": e.meta.get("task_levels", ()),
             "edge_features": e.meta.get("edge_features", False),
             "hparams": {k: hp.default for k, hp in e.meta.get("hparams", COMMON_HPARAMS).items()},
             "search_space": e.meta.get("search_space", {}), "doc": (e.obj.__doc__ or "").strip()}
            for e in MODELS]


def list_datasets() -> list[dict[str, Any]]:
    """One dict per registered dataset, from its card (no data is loaded)."""
    out = []
    for e in DATASETS:
        card = e.meta["card"]
        out.append({**asdict(card), "direction": card.direction})
    return out


def describe(name: str) -> dict[str, Any]:
    """What ``graphbench info NAME`` shows, for a model or a dataset."""
    if name in MODELS:
        entry = MODELS.get(name)
        info = next(m for m in list_models() if m["name"] == entry.name)
        info["train_hparams"] = {k: hp.default for k, hp in TRAIN_HPARAMS.items()}
        info["hparam_help"] = {k: hp.help for k, hp in {**entry.meta.get("hparams", COMMON_HPARAMS),
                                                        **TRAIN_HPARAMS}.items()}
        from graphbench.presets import presets_for

        info["presets"] = [{"name": p.name, "source": p.source, "description": p.description, "hparams": p.hparams,
                            "datasets": list(p.datasets), "grid": p.grid, "deviations": p.deviations}
                           for p in presets_for(entry.name)]
        return {"kind": "model", **info}
    if name in DATASETS:
        return {"kind": "dataset", **asdict(dataset_card(name)), "direction": dataset_card(name).direction}
    known = MODELS.names() + DATASETS.names()
    import difflib

    close = difflib.get_close_matches(name.lower(), known, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
    raise UnknownNameError(f"no model or dataset called {name!r}.{hint} See `graphbench list models` and "
                           "`graphbench list datasets`.")


def split_model_hparams(models: Sequence[str], hparams: dict[str, Any] | None
                        ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``(common, per model)``: a key ``MODEL.KEY`` whose prefix names one of ``models`` sets ``KEY`` for that model
    alone (``{"mygnn.alpha": 0.3}``); every other key is common to all. Other dotted keys stay common (they are
    transform parameters, e.g. ``lappe.k``). Raises :class:`HyperparameterError` for a common model
    hyperparameter that some of the models declare and others do not, saying how to set it for one model."""
    canonical = {MODELS.get(m).name: m for m in models}
    common: dict[str, Any] = {}
    per_model: dict[str, dict[str, Any]] = {name: {} for name in canonical}
    for key, value in (hparams or {}).items():
        prefix, dot, rest = key.partition(".")
        if dot and prefix in MODELS and MODELS.get(prefix).name in canonical:
            per_model[MODELS.get(prefix).name][rest] = value
        elif dot and prefix in MODELS:
            raise HyperparameterError(f"{key!r} sets a hyperparameter of {MODELS.get(prefix).name!r}, which is not "
                                      f"one of this command's models ({', '.join(canonical)})")
        else:
            common[key] = value
    if len(canonical) > 1:
        for key in common:
            if "." in key or key == "transforms":
                continue
            have = [name for name in canonical if key in declared_hparams(name)]
            if have and len(have) < len(canonical):
                lack = [name for name in canonical if name not in have]
                raise HyperparameterError(
                    f"{key!r} is a hyperparameter of {', '.join(have)} but not of {', '.join(lack)}: in a command "
                    f"with several models, set it for the model(s) that have it with "
                    f"{' '.join(f'--set {n}.{key}=VALUE' for n in have)} (run files and the API: "
                    f"hparams {{{have[0]}.{key}: VALUE}})")
    return common, per_model


def plan_runs(models: Sequence[str], datasets: Sequence[str], *, seeds: Iterable[int] = (0,),
              folds: Iterable[int] | None = None, hparams: dict[str, Any] | None = None,
              dataset_options: dict[str, Any] | None = None, data_root: str | None = None,
              device: str = "cpu", deterministic: bool = False, threads: int | None = None,
              preset: str | None = None, isa: str | None = None) -> list[RunSpec]:
    """Validate names and hyperparameters up front and expand models × datasets × folds × seeds into runs.

    ``folds=None`` means every split of each dataset. Nothing trains here, so a typo fails before any work: every
    dataset is loaded (its raw files checked) here. ``threads=None`` picks torch's thread count per dataset with
    :func:`~graphbench.train.runner.default_threads` (recorded on every row).
    ``preset`` names a paper preset of every model (:mod:`graphbench.presets`): its hyperparameters, with
    ``hparams`` on top, and on the datasets its paper used its dataset options (e.g. feature normalisation), with
    ``dataset_options`` on top; runs that change a preset value are not recorded as the preset.
    ``hparams`` keys ``MODEL.KEY`` set ``KEY`` for that model alone (:func:`split_model_hparams`).
    ``isa`` pins the CPU kernels' instruction set (:func:`graphbench.env.pin_isa`; default ``avx2`` when
    ``deterministic``, else none); this module has imported torch, so unless the environment was pinned before
    (as the command line does), the pin is refused with a ``RuntimeWarning`` and rows record an empty ``isa_pin``.
    """
    level = isa_level(isa, deterministic)
    if level != "native":
        pin_isa(level)
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    from graphbench.presets import apply_preset, get_preset

    common, per_model = split_model_hparams(models, hparams)
    configs = {}
    for m in models:
        given = {**common, **per_model[MODELS.get(m).name]}
        if preset is None:
            configs[m] = (given, None, None)
        else:
            hp, _, changed = apply_preset(m, preset, given)
            configs[m] = (hp, get_preset(m, preset), None if changed else preset.lower())
        resolve_hparams(m, configs[m][0])
    for d in datasets:
        DATASETS.get(d)
    seeds = list(seeds)
    specs = []
    for d in datasets:
        for m in models:
            hp, paper, preset_name = configs[m]
            opts = {**(paper.dataset_options if paper and paper.applies_to(d) else {}), **(dataset_options or {})}
            ds = get_dataset(d, data_root, **opts)  # cached: one load per distinct options
            if not ds.splits:
                raise ValueError(f"{d} has no train/validation/test splits: it is a set of graphs for checking which "
                                 f"ones a model can tell apart (see `graphbench info {d}`), not a training benchmark")
            fold_ids = list(range(len(ds.splits))) if folds is None else list(folds)
            bad = [f for f in fold_ids if not 0 <= f < len(ds.splits)]
            if bad:
                raise ValueError(f"{d} has {len(ds.splits)} split(s) (0..{len(ds.splits) - 1}); no fold {bad[0]}")
            n_threads = threads or default_threads(ds, int(hp.get("batch_size", 32)))
            levels = MODELS.get(m).meta.get("task_levels", ("graph", "node"))
            if ds.task_level not in levels:
                raise ValueError(f"model {m!r} does not support {ds.task_level}-level tasks such as {d!r}")
            for f in fold_ids:
                for s in seeds:
                    specs.append(RunSpec(m, d, seed=s, fold=f, hparams=dict(hp), dataset_options=dict(opts),
                                         data_root=data_root, device=device, deterministic=deterministic,
                                         threads=n_threads, preset=preset_name))
    return specs


def run(models: Sequence[str] | str, datasets: Sequence[str] | str, *, seeds: Iterable[int] = (0,),
        folds: Iterable[int] | None = None, hparams: dict[str, Any] | None = None,
        results: str | os.PathLike | None = DEFAULT_RESULTS, dataset_options: dict[str, Any] | None = None,
        data_root: str | None = None, device: str = "cpu", deterministic: bool = False, threads: int | None = None,
        on_run: Callable[[RunSpec, dict], None] | None = None, progress=None, preset: str | None = None,
        isa: str | None = None) -> pd.DataFrame:
    """Train every (model, dataset, fold, seed) combination; append one row per run to ``results`` (if given).

    Returns the rows as a DataFrame. A failed run (e.g. NaN loss) is recorded with its reason and the next run
    goes on; configuration errors raise before anything trains.
    """
    models = [models] if isinstance(models, str) else list(models)
    datasets = [datasets] if isinstance(datasets, str) else list(datasets)
    specs = plan_runs(models, datasets, seeds=seeds, folds=folds, hparams=hparams, dataset_options=dataset_options,
                      data_root=data_root, device=device, deterministic=deterministic, threads=threads,
                      preset=preset, isa=isa)
    return pd.DataFrame(execute(specs, results=results, on_run=on_run, progress=progress))


def execute(specs: Iterable[RunSpec], *, results: str | os.PathLike | None = DEFAULT_RESULTS,
            on_start: Callable[[RunSpec], None] | None = None, on_run: Callable[[RunSpec, dict], None] | None = None,
            progress=None) -> list[dict[str, Any]]:
    """Run planned specs one after the other, appending each row to ``results`` (if given) as soon as it exists,
    so an interruption loses only the run in progress. ``on_start`` / ``on_run`` are called around each run.
    The results file is checked (schema, writable) before the first run starts."""
    if results is not None:
        check_writable(results)
    rows = []
    for spec in specs:
        if on_start:
            on_start(spec)
        row = run_one(spec, progress=progress)
        if results is not None:
            append_row(results, row)
        rows.append(row)
        if on_run:
            on_run(spec, row)
    return rows


__all__ = ["DEFAULT_RESULTS", "RunSpec", "build_model", "count_parameters", "describe", "execute", "list_datasets",
           "list_models", "load_dataset", "plan_runs", "read_results", "run", "run_one", "split_model_hparams"]
