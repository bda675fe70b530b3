"""Cross-dataset statistics (average ranks, Friedman, Nemenyi, Wilcoxon–Holm) and the two-model compare mode.

Tests come from maintained libraries: :func:`scipy.stats.friedmanchisquare`, :func:`scipy.stats.wilcoxon`,
:func:`scipy.stats.ttest_ind` (Welch) and scikit-posthocs' ``posthoc_nemenyi_friedman`` and
``posthoc_wilcoxon(p_adjust="holm")``. References: Demšar, "Statistical Comparisons of Classifiers over Multiple
Data Sets", JMLR 7 (2006); Benavoli, Corani & Mangili, "Should We Really Use Post-Hoc Tests Based on Mean-Ranks?",
JMLR 17 (2016).

Every test is on losses (scores negated when higher is better), so rank 1 is always the best entry.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
import scikit_posthocs as sp
from scipy import stats

from graphbench.report.aggregate import better_key

MIN_MODELS_FRIEDMAN = 3
MIN_DATASETS_FRIEDMAN = 2


def loss_matrix(summary: pd.DataFrame, value: str = "test_mean") -> tuple[pd.DataFrame, list[str], list[str]]:
    """Datasets × entries matrix of losses (lower is better) with no missing cell, as ranks need a complete block.

    Missing cells are removed by dropping either the incomplete entries or the incomplete datasets, whichever keeps
    more cells (entries on a tie). Returns the matrix, the dropped entries and the dropped datasets.
    """
    if summary.empty:
        return pd.DataFrame(), [], []
    losses = summary.assign(loss=[better_key([v], d)[0] for v, d in zip(summary[value], summary["direction"],
                                                                         strict=True)])
    m = losses.pivot(index="dataset", columns="entry", values="loss")
    bad_entries = sorted(m.columns[m.isna().any()])
    bad_datasets = sorted(m.index[m.isna().any(axis=1)])
    by_entry, by_dataset = m.drop(columns=bad_entries), m.drop(index=bad_datasets)
    if by_dataset.size > by_entry.size:
        return by_dataset, [], bad_datasets
    return by_entry, bad_entries, []


def rank_matrix(losses: pd.DataFrame) -> pd.DataFrame:
    """Per-dataset ranks (1 = best), ties averaged (:func:`scipy.stats.rankdata`, method 'average')."""
    if losses.empty:
        return losses
    return pd.DataFrame(stats.rankdata(losses.to_numpy(), axis=1, method="average"), index=losses.index,
                        columns=losses.columns)


@dataclass
class RankSummary:
    ranks: pd.DataFrame  # datasets × entries
    average: pd.Series  # entry -> average rank, sorted best first
    wins: pd.Series  # entry -> number of datasets where it is (jointly) first
    dropped: list[str]  # entries left out for missing cells
    dropped_datasets: list[str] = field(default_factory=list)  # or datasets left out instead


def average_ranks(summary: pd.DataFrame, value: str = "test_mean") -> RankSummary:
    losses, dropped, dropped_ds = loss_matrix(summary, value)
    ranks = rank_matrix(losses)
    if ranks.empty:
        return RankSummary(ranks, pd.Series(dtype=float), pd.Series(dtype=int), dropped, dropped_ds)
    avg = ranks.mean(axis=0).sort_values(kind="stable")
    wins = (ranks == ranks.min(axis=1).to_numpy()[:, None]).sum(axis=0).reindex(avg.index)
    return RankSummary(ranks, avg, wins.astype(int), dropped, dropped_ds)


def nemenyi_cd(k: int, n: int, alpha: float) -> float:
    """Critical difference of the Nemenyi test: q_alpha * sqrt(k(k+1)/(6N)), q from the studentized range / sqrt 2."""
    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / math.sqrt(2)
    return float(q * math.sqrt(k * (k + 1) / (6.0 * n)))


def cliques(significant: pd.DataFrame) -> list[frozenset[str]]:
    """Maximal groups of entries no pair of which differs significantly (maximal cliques of 'not significant')."""
    g = nx.Graph()
    names = list(significant.index)
    g.add_nodes_from(names)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if not significant.loc[a, b]:
                g.add_edge(a, b)
    return sorted((frozenset(c) for c in nx.find_cliques(g)), key=lambda c: sorted(c))


@dataclass
class CrossDatasetTests:
    alpha: float
    n_datasets: int
    n_models: int
    ranks: RankSummary
    friedman_stat: float = float("nan")
    friedman_p: float = float("nan")
    nemenyi_p: pd.DataFrame | None = None
    nemenyi_cd: float = float("nan")
    nemenyi_groups: list[frozenset[str]] = field(default_factory=list)
    wilcoxon_holm_p: pd.DataFrame | None = None
    wilcoxon_groups: list[frozenset[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def friedman_done(self) -> bool:
        return not math.isnan(self.friedman_p)

    def nemenyi_significant(self) -> pd.DataFrame:
        assert self.nemenyi_p is not None
        return significance(self.nemenyi_p, self.alpha)


def significance(p: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Boolean matrix: pair differs significantly (p < alpha); the diagonal is False."""
    sig = (p < alpha).to_numpy(copy=True)
    np.fill_diagonal(sig, False)
    return pd.DataFrame(sig, index=p.index, columns=p.columns)


def cross_dataset_tests(summary: pd.DataFrame, *, alpha: float = 0.05, value: str = "test_mean") -> CrossDatasetTests:
    """Average ranks; Friedman + Nemenyi (CD); pairwise Wilcoxon signed-rank with Holm correction.

    With fewer than 3 entries or 2 datasets in the complete block the tests are not run and a note says why.
    """
    rs = average_ranks(summary, value)
    losses, _, _ = loss_matrix(summary, value)
    n, k = losses.shape if not losses.empty else (0, 0)
    res = CrossDatasetTests(alpha=alpha, n_datasets=n, n_models=k, ranks=rs)
    if rs.dropped:
        res.notes.append(f"Entries missing on some dataset are left out of the ranks and tests: {rs.dropped}.")
    if rs.dropped_datasets:
        res.notes.append("Datasets where some entry has no result are left out of the ranks and tests: "
                         f"{rs.dropped_datasets}.")
    if k < MIN_MODELS_FRIEDMAN or n < MIN_DATASETS_FRIEDMAN:
        res.notes.append(f"Friedman/Nemenyi not run: they need at least {MIN_MODELS_FRIEDMAN} models and "
                         f"{MIN_DATASETS_FRIEDMAN} datasets with results for every model (have {k} models, "
                         f"{n} datasets).")
    else:
        if (losses.nunique(axis=1) == 1).all():
            res.notes.append("Every model ties on every dataset: Friedman's statistic is undefined, no test run.")
            return res
        fr = stats.friedmanchisquare(*[losses[c].to_numpy() for c in losses.columns])
        res.friedman_stat, res.friedman_p = float(fr.statistic), float(fr.pvalue)
        res.nemenyi_p = sp.posthoc_nemenyi_friedman(losses.to_numpy())
        res.nemenyi_p.index = res.nemenyi_p.columns = list(losses.columns)
        res.nemenyi_cd = nemenyi_cd(k, n, alpha)
        res.nemenyi_groups = cliques(res.nemenyi_significant())
        if res.friedman_p >= alpha:
            res.notes.append(f"Friedman p = {res.friedman_p:.3g} ≥ alpha = {alpha}: no evidence that the models "
                             "differ; the post-hoc results below are shown for completeness only.")
        if n < 10:
            res.notes.append(f"Only {n} datasets: Friedman's chi-square approximation and the Nemenyi test have "
                             "little power with fewer than ~10 datasets (Demšar 2006).")
    if k >= 2 and n >= 2:
        melted = losses.reset_index().melt(id_vars="dataset", var_name="entry", value_name="loss")
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            p = sp.posthoc_wilcoxon(melted, val_col="loss", group_col="entry", p_adjust="holm",
                                    zero_method="zsplit")
        res.wilcoxon_holm_p = p.reindex(index=list(losses.columns), columns=list(losses.columns)).fillna(1.0)
        res.wilcoxon_groups = cliques(significance(res.wilcoxon_holm_p, alpha))
        if n < 6:
            res.notes.append(f"Wilcoxon–Holm on {n} datasets: the smallest possible two-sided p-value of an exact "
                             f"signed-rank test on {n} pairs is {2 / 2 ** n:.3g}, so no pair can reach "
                             f"alpha = {alpha} below 6 datasets.")
        res.notes.append("Wilcoxon–Holm compares each pair on its per-dataset means and ignores mean ranks, so its "
                         "groups may overlap and need not match the Nemenyi groups (Benavoli et al. 2016).")
    return res


# --------------------------------------------------------------------------------------------------------- compare
@dataclass
class Comparison:
    baseline: str
    model: str
    alpha: float
    per_dataset: pd.DataFrame
    overall_p: float
    overall_n: int
    notes: list[str]


def _verdict(delta_loss: float, p: float, alpha: float) -> str:
    if math.isnan(p):
        return "n/a"
    if p >= alpha:
        return "no significant difference"
    return "better" if delta_loss < 0 else "worse"


def compare(counted: pd.DataFrame, summary: pd.DataFrame, *, baseline: str, model: str,
            alpha: float = 0.05) -> Comparison:
    """Is ``model`` better than ``baseline``? Per dataset and across datasets, direction-aware.

    Runs are not independent samples: seeds on one split share its training and test graphs, so pairing every
    (split, seed) run would count one test set several times and inflate significance. Hence, per dataset:

    * the seeds of each split are **averaged first** (one value per split and entry);
    * when at least 2 splits pair up (cross-validation folds both entries ran), the exact two-sided Wilcoxon
      signed-rank test on the paired per-split differences (:func:`scipy.stats.wilcoxon`; it cannot reach
      p < 0.05 with fewer than 6 splits);
    * when the splits do not pair up, Welch's t-test on the two sets of per-split means (at least 2 each);
    * with a single split (a fixed split, seeds only) no per-dataset test is made: the seeds' spread measures
      training noise on one test set, not the difference between models on the data distribution.

    Across datasets, the Wilcoxon signed-rank test on the per-dataset mean losses (Demšar 2006, §3.1.3).
    ``delta`` is model − baseline in the metric's own units; ``verdict`` says better/worse from the metric direction.
    """
    entries = set(summary["entry"])
    for name in (baseline, model):
        if name not in entries:
            raise ValueError(f"{name!r} is not an entry of this report (entries: {sorted(entries)})")
    notes: list[str] = []
    rows = []
    for dataset, g in summary.groupby("dataset"):
        have = set(g["entry"])
        if not {baseline, model} <= have:
            notes.append(f"{dataset}: not compared, {sorted({baseline, model} - have)} has no results there.")
            continue
        direction = g["direction"].iloc[0]
        b = counted[(counted["dataset"] == dataset) & (counted["entry"] == baseline)]
        m = counted[(counted["dataset"] == dataset) & (counted["entry"] == model)]
        b_split = b.groupby("split")["test_metric"].mean()
        m_split = m.groupby("split")["test_metric"].mean()
        common = sorted(set(b_split.index) & set(m_split.index))
        b_mean, m_mean = float(b["test_metric"].mean()), float(m["test_metric"].mean())
        delta = m_mean - b_mean
        delta_loss = float(better_key([delta], direction)[0])
        if len(common) >= 2 and len(common) == len(b_split) == len(m_split):
            test = "Wilcoxon signed-rank (paired by split, seeds averaged)"
            diff = (better_key(m_split[common], direction) - better_key(b_split[common], direction))
            p = float("nan") if np.allclose(diff, 0) else float(stats.wilcoxon(diff, zero_method="zsplit").pvalue)
            n_pairs = len(common)
        elif len(b_split) >= 2 and len(m_split) >= 2:
            test = "Welch t-test (unpaired split means)"
            p = float(stats.ttest_ind(m_split, b_split, equal_var=False).pvalue)
            n_pairs = 0
        elif len(b_split) == 1 and len(m_split) == 1:
            test, p, n_pairs = "none (one split: its seeds share one test set)", float("nan"), 0
        else:
            test, p, n_pairs = "none (fewer than 2 splits)", float("nan"), 0
        rows.append({"dataset": dataset, "metric": g["metric"].iloc[0], "direction": direction,
                     "baseline_mean": b_mean, "model_mean": m_mean, "delta": delta,
                     "delta_pct": 100.0 * delta / abs(b_mean) if b_mean else float("nan"),
                     "n_baseline": len(b), "n_model": len(m), "n_pairs": n_pairs, "test": test, "p": p,
                     "verdict": _verdict(delta_loss, p, alpha) if not math.isnan(p) else
                     ("identical" if test.startswith("Wilcoxon") else "n/a")})
    per = pd.DataFrame(rows, columns=["dataset", "metric", "direction", "baseline_mean", "model_mean", "delta",
                                      "delta_pct", "n_baseline", "n_model", "n_pairs", "test", "p", "verdict"])
    if per["test"].str.startswith("Wilcoxon").any() and (per["n_pairs"].between(2, 5)).any():
        notes.append("Per-dataset Wilcoxon tests with fewer than 6 paired splits cannot reach p < 0.05 (more seeds "
                     "do not help: they are averaged within a split).")
    if per["test"].str.startswith("none (one split").any():
        notes.append("Datasets with one fixed split get no per-dataset test: seeds on one split share its test set, "
                     "so their spread is training noise, not evidence that the models differ; compare across "
                     "datasets instead.")
    overall_p = float("nan")
    if len(per) >= 2:
        d = np.array([better_key([r.model_mean], r.direction)[0] - better_key([r.baseline_mean], r.direction)[0]
                      for r in per.itertuples()])
        if not np.allclose(d, 0):
            overall_p = float(stats.wilcoxon(d, zero_method="zsplit").pvalue)
        if len(per) < 6:
            notes.append(f"Across {len(per)} datasets the Wilcoxon signed-rank test cannot reach p < 0.05 "
                         "(needs at least 6 datasets).")
    else:
        notes.append("Across-dataset test not run: it needs at least 2 datasets with both models.")
    return Comparison(baseline, model, alpha, per, overall_p, len(per), notes)


def overall_verdict(c: Comparison) -> str:
    if math.isnan(c.overall_p):
        return "n/a"
    wins = (c.per_dataset["verdict"] == "better").sum()
    d = np.array([better_key([r.model_mean], r.direction)[0] - better_key([r.baseline_mean], r.direction)[0]
                  for r in c.per_dataset.itertuples()])
    return _verdict(float(np.median(d)), c.overall_p, c.alpha) + f" ({wins}/{len(d)} datasets significantly better)"
