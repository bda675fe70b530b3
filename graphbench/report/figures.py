"""Report figures (matplotlib, headless: figures are built on ``matplotlib.figure.Figure``, never a GUI backend).

Each figure is written as PNG and PDF; functions return the paths written.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import scikit_posthocs as sp
from matplotlib.figure import Figure

from graphbench.report.aggregate import better_key
from graphbench.report.stats import CrossDatasetTests, significance


def save(fig: Figure, out_dir: Path, stem: str) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for ext in ("png", "pdf"):
        p = out_dir / f"{stem}.{ext}"
        fig.savefig(p, dpi=120 if ext == "png" else None, bbox_inches="tight")
        paths.append(p)
    return paths


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def dataset_strip(counted: pd.DataFrame, summary: pd.DataFrame, dataset: str) -> Figure:
    """Per-run test scores (dots) with mean ± std error bars, best entry first."""
    g = summary[summary["dataset"] == dataset]
    direction = g["direction"].iloc[0]
    g = g.sort_values("test_mean", ascending=(direction == "min"))
    fig = Figure(figsize=(max(4.0, 0.9 * len(g) + 2), 3.6))
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)  # fixed jitter: the figure is reproducible
    for i, r in enumerate(g.itertuples()):
        runs = counted[(counted["dataset"] == dataset) & (counted["entry"] == r.entry)]["test_metric"].to_numpy(float)
        ax.scatter(i + rng.uniform(-0.12, 0.12, len(runs)), runs, s=12, alpha=0.5, color="tab:blue", zorder=2)
        ax.errorbar(i, r.test_mean, yerr=0 if math.isnan(r.test_std) else r.test_std, fmt="o", color="black",
                    capsize=4, zorder=3)
    ax.set_xticks(range(len(g)), list(g["entry"]), rotation=30, ha="right")
    ax.set_ylabel(f"test {g['metric'].iloc[0]} ({'higher' if direction == 'max' else 'lower'} is better)")
    ax.set_title(f"{dataset}: runs and mean ± std (ddof=1)")
    ax.grid(axis="y", alpha=0.3)
    return fig


def pareto_front(cost: np.ndarray, loss: np.ndarray) -> np.ndarray:
    """Indices of points not dominated in (cost, loss), both lower-is-better, sorted by cost."""
    order = np.lexsort((loss, cost))
    front, best = [], math.inf
    for i in order:
        if loss[i] < best:
            front.append(i)
            best = loss[i]
    return np.array(front, dtype=int)


def metric_vs(summary: pd.DataFrame, dataset: str, x: str, xlabel: str) -> Figure | None:
    """Test mean vs a cost column (time per epoch or parameters), log x, with the Pareto front."""
    g = summary[(summary["dataset"] == dataset)].dropna(subset=[x])
    g = g[g[x].astype(float) > 0]
    if g.empty:
        return None
    direction = g["direction"].iloc[0]
    cost, score = g[x].to_numpy(float), g["test_mean"].to_numpy(float)
    front = pareto_front(cost, better_key(score, direction))
    fig = Figure(figsize=(5.2, 3.8))
    ax = fig.add_subplot()
    ax.errorbar(cost, score, yerr=np.nan_to_num(g["test_std"].to_numpy(float)), fmt="o", capsize=3, zorder=3)
    for c, s, name in zip(cost, score, g["entry"], strict=True):
        ax.annotate(name, (c, s), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.step(cost[front], score[front], where="post", color="tab:red", label="Pareto front", zorder=2)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"test {g['metric'].iloc[0]} ({'↑' if direction == 'max' else '↓'})")
    ax.set_title(dataset)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def cd_diagram(tests: CrossDatasetTests) -> tuple[Figure, dict]:
    """Critical-difference diagram in Demšar's style (JMLR 2006, Fig. 1): the rank axis runs from 1 to k (the
    number of models, best rank on the left), the CD bar of the Nemenyi test stands above it starting at rank 1,
    and a crossbar joins models whose ranks do not differ significantly.

    Markers, elbows, labels and crossbars are scikit-posthocs'; the significance matrix is passed already
    thresholded (p < alpha) so the crossbars use exactly the report's definition of significance. Returns the
    figure and the artists (``crossbars``, ``cd_bar``, ``cd_label`` are checked in tests).
    """
    assert tests.nemenyi_p is not None
    sig = significance(tests.nemenyi_p, tests.alpha)
    p_arr = np.where(sig.to_numpy(), 0.0, 1.0)
    np.fill_diagonal(p_arr, 1.0)
    p_like = pd.DataFrame(p_arr, index=sig.index, columns=sig.columns)
    k = len(sig)
    fig = Figure(figsize=(7, 0.6 * k + 2.0))
    ax = fig.add_subplot()
    # cd=None: scikit-posthocs would draw the bar from the best average rank, stretching the axis past k
    artists = sp.critical_difference_diagram(tests.ranks.average, p_like, alpha=tests.alpha, ax=ax)
    ax.set_xticks(range(1, k + 1))
    ax.spines["top"].set_bounds(1, k)
    cd = float(tests.nemenyi_cd)
    bar_y = 1.2  # above the axis and its rank labels (one unit is one label row)
    (bar,) = ax.plot([1, 1 + cd], [bar_y, bar_y], color="k", linewidth=1.5, clip_on=False)
    ends = ax.plot([1, 1], [bar_y - 0.15, bar_y + 0.15], [1 + cd, 1 + cd], [bar_y - 0.15, bar_y + 0.15],
                   color="k", linewidth=1.5, clip_on=False)
    label = ax.text(1 + cd / 2, bar_y + 0.3, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    low, _ = ax.get_ylim()
    ax.set_ylim(low, bar_y + 0.9)
    left, right = ax.get_xlim()
    ax.set_xlim(min(left, 1 - 0.05 * k), max(right, k + 0.05 * k, 1 + cd + 0.05))
    ax.set_title(f"Critical difference (Nemenyi, alpha={tests.alpha}, N={tests.n_datasets} datasets)", fontsize=9,
                 pad=12)
    return fig, {**artists, "cd_bar": bar, "cd_ends": ends, "cd_label": label}


def drawn_cliques(artists: dict, ranks: pd.Series) -> list[frozenset[str]]:
    """Entry sets joined by each drawn crossbar, read back from the line x-data (ranks must be distinct)."""
    by_rank = {round(float(v), 9): k for k, v in ranks.items()}
    out = []
    for lines in artists["crossbars"]:
        for line in lines:
            out.append(frozenset(by_rank[round(float(x), 9)] for x in line.get_xdata()))
    return out


def optuna_figures(storage: str, out_dir: Path) -> tuple[list[Path], list[str]]:
    """Optimization history and hyperparameter importances per study, via optuna.visualization.matplotlib.

    The matplotlib backend of Optuna is experimental; its ExperimentalWarning is recorded in the notes.
    """
    import matplotlib.pyplot as plt
    import optuna
    from optuna.visualization import matplotlib as ovm

    notes: list[str] = []
    paths: list[Path] = []
    store = _open_storage(storage)
    summaries = optuna.study.get_all_study_summaries(storage=store)
    if not summaries:
        notes.append(f"Optuna storage {storage} holds no studies.")
    queues = [s.study_name for s in summaries if is_final_queue(s.study_name, s.user_attrs)]
    if queues:
        notes.append(f"{len(queues)} final-run queue(s) left out of the Optuna figures: their trials are re-runs "
                     "of a selected configuration, not a search (no hyperparameters to plot).")
    for s in summaries:
        if s.study_name in queues:
            continue
        study = optuna.load_study(study_name=s.study_name, storage=store)
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", optuna.exceptions.ExperimentalWarning)
            ax = ovm.plot_optimization_history(study)
            paths += save(ax.figure, out_dir, f"optuna_history_{_safe(s.study_name)}")
            plt.close(ax.figure)
            if len(complete) >= 2 and any(t.params for t in complete):
                try:
                    ax = ovm.plot_param_importances(study)
                    paths += save(ax.figure, out_dir, f"optuna_importance_{_safe(s.study_name)}")
                    plt.close(ax.figure)
                except (ValueError, RuntimeError) as e:  # e.g. a single distinct parameter value
                    notes.append(f"study {s.study_name}: no parameter importances ({e})")
            else:
                notes.append(f"study {s.study_name}: fewer than 2 complete trials, no parameter importances")
        if any(issubclass(w.category, optuna.exceptions.ExperimentalWarning) for w in caught):
            notes.append("optuna.visualization.matplotlib is experimental (ExperimentalWarning recorded).")
    return paths, sorted(set(notes), key=notes.index)


def is_final_queue(name: str, user_attrs: dict) -> bool:
    """A sweep's final-run work queue (``.../final-...``, see :mod:`graphbench.sweep.queue`), not a search study."""
    return "gb.enqueued" in user_attrs or name.rsplit("/", 1)[-1].startswith("final")


def _open_storage(storage: str):
    import optuna

    if "://" in storage:
        return storage  # an RDB URL, opened by optuna itself
    path = Path(storage)
    if not path.exists():
        raise FileNotFoundError(f"Optuna journal file {path} does not exist")
    return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
