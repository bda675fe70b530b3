"""The plan of one reproduction: a paper's table row (model, preset, dataset) turned into a sweep file.

A reproduction runs the paper's whole protocol through the sweep runner (no second training path):

* the split scheme of the published number's protocol (:data:`graphbench.published.PROTOCOLS`): k-fold data gets
  one study per outer fold (per-fold selection, Errica et al.), a fixed split one study;
* its selection: where the paper searched a grid (protocol selection ``search``) and the preset carries that grid,
  the grid is searched inside every outer fold (all of it by default: ``trials`` = the grid's size; a smaller
  ``trials`` samples part of it and is recorded as a protocol difference); where the paper fixed one
  configuration (or ``trials`` is 1), the preset point is the only configuration and its final runs start at once
  (no search run: graphbench.sweep.runner, "Nothing to select");
* its schedule: the preset's own values (epochs, patience, scheduler, ...), never shortened here;
* its repetitions: Errica et al.'s final phase (3 re-trainings per fold, each on a fresh random 10 % holdout of the
  outer training set), or the paper's number of runs on a fixed split (``runs`` of the published row).

:func:`make_plan` builds a :class:`Plan`; :meth:`Plan.sweep` is the sweep file's content (written beside the
results so that the exact protocol is one file away, and so that re-running the same command resumes it).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from graphbench.presets import Preset, get_preset
from graphbench.published import PROTOCOLS, SELECTION_ON_TEST, published
from graphbench.published import Protocol as PaperProtocol
from graphbench.registry import DATASETS, MODELS

#: Errica et al.'s final phase: re-trainings per outer fold and the holdout fraction each draws afresh.
ERRICA_FINAL_SEEDS = 3
ERRICA_HOLDOUT = 0.1


class ReproductionError(ValueError):
    """A reproduction that cannot be planned as asked (no such published row, an unsupported protocol, ...)."""


@dataclass(frozen=True)
class Plan:
    """One reproduction: what runs, and how it differs from the paper's protocol (``differences``)."""

    model: str
    preset: Preset
    dataset: str
    paper: pd.Series  # the published row (graphbench/published_results.csv)
    protocol: PaperProtocol
    per_fold: bool
    space: dict[str, dict[str, Any]]
    trials: int
    grid_size: int
    final_seeds: tuple[int, ...]
    holdout: float | None
    pruner: str = "none"
    differences: tuple[str, ...] = field(default_factory=tuple)
    #: the loader options of the run (the preset's, plus ``random_splits`` for a repeated-random-split protocol)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    #: the outer folds / splits that run (None: all of them)
    folds: tuple[int, ...] | None = None

    @property
    def id(self) -> str:
        """File-name-safe identity: ``model-preset-dataset`` (the sweep's name and its files' stem)."""
        return re.sub(r"[^A-Za-z0-9_.-]", "_", f"{self.model}-{self.preset.name}-{self.dataset}")

    def sweep(self, out_dir: Path, *, data_root: str | None = None, threads: int | None = None) -> dict[str, Any]:
        """The sweep file's content; its results and journal live in ``out_dir`` beside it."""
        registered = MODELS.get(self.model).meta.get("search_space", {})
        # Nothing is searched but the paper's grid: every registered search parameter is fixed (null) unless the
        # grid names it; the preset's values are the fixed hyperparameters (graphbench.presets.sweep_model_options).
        file_space: dict[str, Any] = {k: None for k in registered if k not in self.space}
        entry: dict[str, Any] = {"preset": self.preset.name}
        if self.space:
            entry["search_space"] = "preset" if self.trials >= self.grid_size else dict(self.space)
        doc: dict[str, Any] = {
            "name": self.id,
            "models": {self.model: entry},
            "datasets": [self.dataset],
            "trials": self.trials,
            "search_space": file_space,
            "pruner": {"type": self.pruner} if self.pruner != "none" else "none",
            # the whole grid: every combination enqueued once; a part of it: TPE samples it
            "sampler": {"seed": 0, **({"type": "grid"} if self.space and self.trials >= self.grid_size else {})},
            "protocol": {
                "selection": "per-fold",
                "search": {"seeds": [0]},
                "final": {"folds": "all" if self.folds is None else list(self.folds),
                          "seeds": list(self.final_seeds),
                          **({"holdout": self.holdout} if self.holdout else {})},
            },
            "results": str(out_dir / f"{self.id}.csv"),
            "report": str(out_dir / f"{self.id}-report"),
        }
        if self.dataset_options:
            doc["dataset_options"] = dict(self.dataset_options)
        if data_root:
            doc["data_root"] = data_root
        if threads:
            doc["threads"] = threads
        return doc

    def describe(self) -> list[str]:
        """The plan in words (``reproduce --dry-run`` prints it before the sweep's own plan)."""
        p = self.paper
        std = "" if pd.isna(p["std"]) else f" ± {float(p['std']):.4f}"
        runs = "" if pd.isna(p["runs"]) else f" over {int(p['runs'])} runs"
        value = "not read (no number to compare with)" if pd.isna(p["value"]) else f"{float(p['value']):.4f}{std}"
        lines = [f"reproduction {self.id}: {self.model} preset {self.preset.name} on {self.dataset}",
                 f"  paper: {p['metric']} {value}{runs} — {p['source']} [{p['certainty']}]",
                 f"  paper protocol {self.protocol.name}: {self.protocol.description}"]
        if self.space:
            how = "the whole grid" if self.trials >= self.grid_size else f"{self.trials} sampled configurations"
            where = "inside every outer fold" if self.per_fold else "on the validation split"
            lines.append(f"  selection: the paper's grid ({self.grid_size} configurations: "
                         f"{', '.join(self.space)}), {how}, {where}; pruner {self.pruner}")
        else:
            lines.append("  selection: none — the preset point is the paper's configuration")
        hold = (f", each on a fresh random {self.holdout:.0%} holdout of the outer training set"
                if self.holdout else "")
        seeds = self.final_seeds
        shown = (f"{seeds[0]}..{seeds[-1]} ({len(seeds)})" if len(seeds) > 5 and seeds == tuple(range(seeds[0],
                 seeds[-1] + 1)) else str(list(seeds)))
        lines.append(f"  repetitions: seeds {shown} per split{hold}")
        lines += [f"  protocol difference: {d}" for d in self.differences] or ["  protocol difference: none"]
        return lines


def grid_size(preset: Preset) -> int:
    """Number of configurations in the preset's published grid (1 when it has none)."""
    return math.prod(len(v) for v in preset.grid.values()) if preset.grid else 1


def _splits_of(proto: PaperProtocol) -> int:
    """How many splits the paper's protocol averages over: the leading number of e.g. ``10-fold`` or ``10 geom-gcn
    splits``; 1 for one fixed split (``public``, ``lrgb``, ``fixed``, ``scaffold``)."""
    m = re.match(r"\s*(\d+)", proto.splits)
    return int(m.group(1)) if m and not proto.splits.startswith("random") else 1


def _random_protocol(proto: PaperProtocol, paper: pd.Series) -> tuple[int, dict[str, float]]:
    """(number of splits, train/val fractions) of a repeated-random-split protocol (``random 60/20/20``): as many
    splits as the published row's runs, the fractions read from the protocol."""
    m = re.match(r"random (\d+)/(\d+)/(\d+)", proto.splits)
    if not m or pd.isna(paper["runs"]):
        raise ReproductionError(f"{proto.name}: cannot read the split fractions ({proto.splits!r}) or the number of "
                                "random splits (the published row's runs) to repeat over")
    train, val, _ = (int(x) / 100 for x in m.groups())
    return int(paper["runs"]), {"train_fraction": train, "val_fraction": val}


def published_row(model: str, preset: Preset, dataset: str) -> pd.Series:
    """The published number this reproduction targets: the row of (model, preset, dataset)."""
    rows = published(model, dataset)
    rows = rows[rows["preset"] == preset.name]
    if rows.empty:
        have = published(model)
        listed = ", ".join(sorted({f"{r.preset}/{r.dataset}" for r in have.itertuples()})) or "none"
        raise ReproductionError(
            f"no published number for {model} preset {preset.name} on {dataset}; published rows of {model} "
            f"(preset/dataset): {listed} (`graphbench published {model}`)")
    return rows.iloc[0]


def make_plan(model: str, preset_name: str, dataset: str, *, trials: int | None = None,
              seeds: int | None = None, splits: int | None = None, pruner: str = "none") -> Plan:
    """Plan the reproduction of ``model``'s preset ``preset_name`` on ``dataset`` (see the module docstring).

    ``trials`` caps the configurations searched per study (default: the paper's whole grid); ``seeds`` caps the
    repetitions (default: the paper's count); ``splits`` runs only the first that many outer folds or random splits
    (the same studies as the whole run's, so a later run without the cap resumes and completes it). Every cap is
    recorded as a protocol difference.
    """
    model = MODELS.get(model).name
    dataset = DATASETS.get(dataset).name
    preset = get_preset(model, preset_name)
    paper = published_row(model, preset, dataset)
    proto = PROTOCOLS[paper["protocol"]]
    differences: list[str] = []
    n_splits = _splits_of(proto)
    k_fold = n_splits > 1
    options: dict[str, Any] = dict(preset.dataset_options)
    if proto.splits.startswith("random"):
        n_splits, fractions = _random_protocol(proto, paper)
        k_fold = True
        options.update(random_splits=n_splits, **fractions)
        differences.append(f"the paper's {n_splits} random splits drawn unseeded; graphbench draws {n_splits} seeded "
                           f"ones (split k: seed k; graphbench.data.splits.random_splits), one run each")
    searched = proto.selection in ("search", "test-cv") and bool(preset.grid)
    if proto.selection == "search" and not preset.grid:
        differences.append("the paper searched hyperparameters but published no grid; the preset point (the "
                           "paper's selected configuration) is run")
    if proto.selection in SELECTION_ON_TEST:
        differences.append(f"{SELECTION_ON_TEST[proto.selection]}; graphbench selects on validation inside each fold")
    size = grid_size(preset)
    space = preset.search_space() if searched else {}
    n_trials = size if searched else 1
    if trials is not None:
        if trials < 1:
            raise ReproductionError("--trials must be at least 1")
        if searched and trials < size:
            differences.append("only the preset point of the grid, run with no search (1 of its "
                               f"{size} configurations)" if trials == 1 else
                               f"{trials} of the grid's {size} configurations searched per study (the preset "
                               "point, then TPE samples)")
        n_trials = min(trials, size) if searched else 1
    if proto.splits.startswith("random"):
        final, holdout = (0,), None  # one run per random split, as those papers' trials
    elif k_fold and proto.name.startswith("errica"):
        final, holdout = tuple(range(ERRICA_FINAL_SEEDS)), ERRICA_HOLDOUT
    else:
        if pd.isna(paper["runs"]):
            runs = 1
            differences.append("the paper's number of runs is not recorded here: 1 run (--seeds N for more)")
        else:
            runs = int(paper["runs"])
        per_split = max(1, runs // n_splits) if k_fold and runs >= n_splits else runs
        final, holdout = tuple(range(per_split)), None
    if seeds is not None:
        if seeds < 1:
            raise ReproductionError("--seeds must be at least 1")
        if seeds < len(final):
            differences.append(f"{seeds} of the paper's {len(final)} repetitions per split")
        final = final[:seeds] if seeds < len(final) else tuple(range(seeds))
    folds = None
    if splits is not None:
        if splits < 1:
            raise ReproductionError("--splits must be at least 1")
        if not k_fold:
            raise ReproductionError(f"--splits: {proto.name} evaluates on one fixed split; there is nothing to cap")
        if splits < n_splits:
            folds = tuple(range(splits))
            differences.append(f"{splits} of the paper's {n_splits} "
                               f"{'random splits' if proto.splits.startswith('random') else 'folds'}")
    if pruner != "none":
        differences.append(f"search runs pruned by the {pruner} pruner (the paper trained every configuration "
                           "to its stopping rule)")
    if preset.deviations:
        differences.append(f"preset deviations: {preset.deviations}")
    return Plan(model=model, preset=preset, dataset=dataset, paper=paper, protocol=proto, per_fold=k_fold,
                space=space, trials=n_trials, grid_size=size, final_seeds=final, holdout=holdout, pruner=pruner,
                differences=tuple(differences), dataset_options=options, folds=folds)
