"""Tidy aggregation of results rows into one row per (dataset, model entry).

Definitions, stated once (they are repeated in every report):

* **Counted rows.** Rows with ``stage == "final"`` (a re-run of the selected configuration). When a set of files
  holds no final rows at all, rows with ``stage == "run"`` (direct ``graphbench run``) are counted instead and the
  report says so. Only rows with ``status == "ok"`` are averaged; failed and pruned rows are listed, never dropped.
* **Mean ± std** over the counted runs (seeds × folds) of one configuration; std with ``ddof=1`` (unbiased, as OGB).
  A single run has no std (shown as NaN / "n/a").
* **Entries.** A leaderboard entry is a (model, config_hash) pair. When a model has one configuration on a dataset
  its entry is named after the model; when it has several, each configuration is its own entry named
  ``model@hash7`` (``configs="split"``, the default) or the report is refused (``configs="refuse"``).
* **Protocol.** Per dataset all counted rows must share one metric, one direction, one split kind (the split name
  without its trailing digits: ``fold3`` -> ``fold``) and one selection protocol (:mod:`graphbench.report.protocol`);
  anything else is refused as incompatible. Tables of a select-once protocol are flagged as optimistic.
* **Superseded.** Final rows of a selection that a later, larger search replaced are listed, never counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from graphbench.report.protocol import mark_superseded, row_protocols

DDOF = 1
KEYS = ["dataset", "model"]


class ReportError(ValueError):
    """Results that cannot be honestly put into one report (mixed protocols, versions, configurations)."""


@dataclass
class Selection:
    """The rows a report counts, the rows it only lists, and what it had to say about choosing them."""

    counted: pd.DataFrame  # ok rows of the chosen stage, with an ``entry`` column
    not_ok: pd.DataFrame  # failed / pruned rows of the chosen stage
    stage: str
    notes: list[str] = field(default_factory=list)
    superseded: pd.DataFrame | None = None  # final rows of earlier selections (not counted)
    other_stages: dict[str, int] = field(default_factory=dict)  # rows of stages not counted (e.g. search)


def split_kind(split: str) -> str:
    return re.sub(r"\d+$", "", str(split))


def select_rows(df: pd.DataFrame, *, stage: str = "final", configs: str = "split") -> Selection:
    """Choose the rows to count (see the module docstring); raises :class:`ReportError` for mixed protocols."""
    if configs not in ("split", "refuse"):
        raise ValueError(f"configs must be 'split' or 'refuse', got {configs!r}")
    notes: list[str] = []
    if df.empty:
        raise ReportError("the results files hold no rows")
    df = mark_superseded(df)
    df["protocol"] = row_protocols(df)
    used = stage
    rows = df[df["stage"] == stage]
    if rows.empty and stage == "final":
        rows = df[df["stage"] == "run"]
        used = "run"
        if rows.empty:
            raise ReportError("no rows with stage 'final' or 'run' in the results files (sweep rows with stage "
                              "'search' are trials, not leaderboard entries: run the final stage, or pass "
                              "stage='search' explicitly)")
        notes.append("No rows with stage 'final' were found: this report counts direct `graphbench run` rows "
                     "(stage 'run'), whose configurations were not selected by a sweep.")
    elif rows.empty:
        raise ReportError(f"no rows with stage {stage!r} in the results files")
    rows = rows.copy()
    superseded = rows[rows["superseded"]]
    rows = rows[~rows["superseded"]]
    if len(superseded):
        notes.append(f"{len(superseded)} final row(s) belong to selections that a later search replaced "
                     "(superseded): listed, not counted.")
    _check_protocols(rows)
    ok = rows[rows["status"] == "ok"].copy()
    not_ok = rows[rows["status"] != "ok"].copy()
    missing_test = ok["test_metric"].isna()
    if missing_test.any():
        # An 'ok' row without a test metric cannot be averaged; list it with the failures instead of dropping it.
        bad = ok[missing_test].copy()
        bad["error"] = bad["error"].fillna("").astype("string") + " (status ok but no test_metric)"
        not_ok = pd.concat([not_ok, bad])
        ok = ok[~missing_test]
    ok["entry"] = _entry_names(ok, configs, notes)
    if not not_ok.empty:
        not_ok["entry"] = not_ok["model"]
    other = {str(k): int(v) for k, v in df[df["stage"] != used]["stage"].value_counts().items()}
    return Selection(ok, not_ok, used, notes, superseded, other)


def _check_protocols(rows: pd.DataFrame) -> None:
    problems = []
    for dataset, g in rows.groupby("dataset", sort=True):
        for col, what in (("metric", "metrics"), ("direction", "metric directions")):
            values = sorted(g[col].dropna().unique())
            if len(values) > 1:
                by_file = g.groupby(col)["source"].unique().map(lambda s: ", ".join(sorted(s))).to_dict()
                problems.append(f"dataset {dataset!r} mixes {what} {values} (files: {by_file})")
        protos = sorted(g["protocol"].dropna().unique())
        if len(protos) > 1:
            problems.append(f"dataset {dataset!r} mixes selection protocols {protos}")
        kinds = sorted({split_kind(s) for s in g["split"].dropna()})
        if len(kinds) > 1:
            by_file = {k: sorted(set(g.loc[g["split"].map(split_kind) == k, "source"])) for k in kinds}
            problems.append(f"dataset {dataset!r} mixes split protocols {kinds} (files: {by_file})")
    if problems:
        raise ReportError("incompatible protocols, refusing to rank these results together:\n  - "
                          + "\n  - ".join(problems))


def _entry_names(ok: pd.DataFrame, configs: str, notes: list[str]) -> pd.Series:
    entry = ok["model"].astype("string").copy()
    # per-fold selection: one configuration per outer fold is the protocol, not several entries
    per_fold = ok["protocol"] == "per-fold" if "protocol" in ok else pd.Series(False, index=ok.index)
    group = ok["split"].astype("string").where(per_fold, "")
    n_cfg = ok.assign(_g=group).groupby([*KEYS, "_g"])["config_hash"].transform("nunique")
    multi = n_cfg > 1
    if multi.any():
        groups = (ok[multi].groupby(KEYS)["config_hash"].unique()
                  .map(lambda h: ", ".join(sorted(x[:7] for x in h))))
        listing = "; ".join(f"{d}/{m}: {h}" for (d, m), h in groups.items())
        if configs == "refuse":
            raise ReportError(f"several configurations (config_hash) per model among the counted rows: {listing}. "
                              "Pass configs='split' (CLI: --configs split) to report each one separately, or "
                              "select one configuration per model.")
        entry[multi] = ok.loc[multi, "model"] + "@" + ok.loc[multi, "config_hash"].str.slice(0, 7)
        notes.append(f"Some models have several configurations among the counted rows; each is reported as its own "
                     f"entry named model@hash: {listing}. Picking the best of them by test score would be "
                     "selection on the test set.")
    return entry


def _std(x: pd.Series) -> float:
    x = x.dropna()
    return float(x.std(ddof=DDOF)) if len(x) > DDOF else float("nan")


def aggregate(counted: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, entry): mean ± std (ddof=1) of test/val/train, runs, params, times, direction."""
    cols = ["dataset", "entry", "model", "config_hash", "protocol", "metric", "direction", "n_runs", "n_seeds",
            "n_splits",
            "test_mean", "test_std", "val_mean", "val_std", "train_mean", "train_std", "num_params",
            "time_per_epoch_s", "train_time_s", "total_time_s", "total_time_sum_s", "ddof"]
    if counted.empty:
        return pd.DataFrame(columns=cols)
    out = []
    for (dataset, entry), g in counted.groupby(["dataset", "entry"], sort=True):
        params = g["num_params"].dropna()
        out.append({
            "dataset": dataset, "entry": entry, "model": g["model"].iloc[0],
            "config_hash": ",".join(sorted(g["config_hash"].unique())),
            "protocol": ",".join(sorted(g["protocol"].dropna().unique())) if "protocol" in g else "",
            "metric": g["metric"].iloc[0], "direction": g["direction"].iloc[0],
            "n_runs": len(g), "n_seeds": g["seed"].nunique(), "n_splits": g["split"].nunique(),
            "test_mean": float(g["test_metric"].mean()), "test_std": _std(g["test_metric"]),
            "val_mean": float(g["val_metric"].mean()) if g["val_metric"].notna().any() else float("nan"),
            "val_std": _std(g["val_metric"]),
            "train_mean": float(g["train_metric"].mean()) if g["train_metric"].notna().any() else float("nan"),
            "train_std": _std(g["train_metric"]),
            "num_params": int(params.median()) if len(params) else pd.NA,
            "time_per_epoch_s": float(g["time_per_epoch_s"].mean()) if g["time_per_epoch_s"].notna().any()
            else float("nan"),
            "train_time_s": float(g["train_time_s"].mean()) if g["train_time_s"].notna().any() else float("nan"),
            "total_time_s": float(g["total_time_s"].mean()),
            "total_time_sum_s": float(g["total_time_s"].sum()),
            "ddof": DDOF,
        })
    df = pd.DataFrame(out, columns=cols)
    df["num_params"] = df["num_params"].astype("Int64")
    return df.sort_values(["dataset", "entry"], ignore_index=True)


def better_key(values: pd.Series | np.ndarray, direction: str) -> np.ndarray:
    """Scores turned into losses (lower is better) so one ordering serves both directions."""
    v = np.asarray(values, dtype=float)
    return -v if direction == "max" else v


def place_marks(summary: pd.DataFrame, value: str = "test_mean") -> pd.Series:
    """Per dataset, 1 for the best entry, 2 for the second (ties share a place), 0 otherwise; direction-aware."""
    marks = pd.Series(0, index=summary.index)
    for _, g in summary.groupby("dataset"):
        loss = better_key(g[value], g["direction"].iloc[0])
        distinct = np.unique(loss[~np.isnan(loss)])
        for place, v in enumerate(distinct[:2], start=1):
            marks.loc[g.index[loss == v]] = place
    return marks


def missing_runs(counted: pd.DataFrame, not_ok: pd.DataFrame) -> pd.DataFrame:
    """(dataset, entry, split, seed) cells that other entries of the dataset ran but this entry has no ok row for.

    The expected grid of a dataset is the union of (split, seed) over its entries; a cell with a failed or pruned
    row says so in ``status``, a cell with no row at all is ``missing``.
    """
    rows = []
    for dataset, g in counted.groupby("dataset"):
        grid = set(zip(g["split"], g["seed"], strict=True))
        failed = not_ok[not_ok["dataset"] == dataset]
        for entry, e in g.groupby("entry"):
            have = set(zip(e["split"], e["seed"], strict=True))
            model = e["model"].iloc[0]
            for split, seed in sorted(grid - have, key=lambda t: (str(t[0]), int(t[1]))):
                hit = failed[(failed["model"] == model) & (failed["split"] == split) & (failed["seed"] == seed)]
                rows.append({"dataset": dataset, "entry": entry, "split": split, "seed": int(seed),
                             "status": hit["status"].iloc[0] if len(hit) else "missing"})
    # Models that only ever failed on a dataset have no entry at all: list them too.
    for (dataset, model), f in not_ok.groupby(["dataset", "model"]):
        if not ((counted["dataset"] == dataset) & (counted["model"] == model)).any():
            for _, r in f.iterrows():
                rows.append({"dataset": dataset, "entry": model, "split": r["split"], "seed": int(r["seed"]),
                             "status": r["status"]})
    return pd.DataFrame(rows, columns=["dataset", "entry", "split", "seed", "status"])


def missing_cells(summary: pd.DataFrame) -> pd.DataFrame:
    """(dataset, entry) pairs absent from the leaderboard although the entry appears on other datasets."""
    datasets = sorted(summary["dataset"].unique())
    rows = []
    for entry, g in summary.groupby("entry"):
        for d in sorted(set(datasets) - set(g["dataset"])):
            rows.append({"dataset": d, "entry": entry})
    return pd.DataFrame(rows, columns=["dataset", "entry"])


def fewer_runs_flags(summary: pd.DataFrame) -> pd.DataFrame:
    """Entries with fewer runs (seeds × folds) than the most-run entry of the same dataset."""
    if summary.empty:
        return summary.assign(max_runs=[])
    most = summary.groupby("dataset")["n_runs"].transform("max")
    flagged = summary[summary["n_runs"] < most].assign(max_runs=most[summary["n_runs"] < most])
    return flagged[["dataset", "entry", "n_runs", "max_runs"]].reset_index(drop=True)
