from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from graphbench.report import aggregate, select_rows
from graphbench.report.figures import cd_diagram, drawn_cliques
from graphbench.report.stats import compare, cross_dataset_tests, nemenyi_cd, overall_verdict, significance
from graphbench.results import read_results
from tests.report.fixtures import block_results, make_row, write


def _summary_from_matrix(tmp_path, m: np.ndarray, direction="max", name="r.csv"):
    """Rows = datasets, columns = models; one run each."""
    scores = {f"d{i}": {f"m{j}": [float(m[i, j])] for j in range(m.shape[1])} for i in range(m.shape[0])}
    p = block_results(tmp_path / name, scores, direction=direction, metric="accuracy" if direction == "max" else "mae")
    sel = select_rows(read_results(p))
    return sel, aggregate(sel.counted)


def _brute_force_groups(sig: pd.DataFrame) -> set[frozenset[str]]:
    """Maximal sets of entries without a significant pair, by enumerating every subset (independent of networkx)."""
    names = list(sig.index)
    ok = [frozenset(c) for r in range(1, len(names) + 1) for c in itertools.combinations(names, r)
          if not any(sig.loc[a, b] for a, b in itertools.combinations(c, 2))]
    return {c for c in ok if not any(c < o for o in ok)}


def test_friedman_agrees_with_scipy(tmp_path):
    rng = np.random.default_rng(1)
    m = rng.uniform(0.5, 0.9, size=(8, 4))
    _, s = _summary_from_matrix(tmp_path, m)
    t = cross_dataset_tests(s, alpha=0.05)
    ref = stats.friedmanchisquare(*[-m[:, j] for j in range(4)])
    assert t.friedman_stat == pytest.approx(ref.statistic) and t.friedman_p == pytest.approx(ref.pvalue)
    # Direction does not change Friedman (ranks just reverse consistently); losses for 'min' are the raw values.
    _, s_min = _summary_from_matrix(tmp_path, m, direction="min", name="min.csv")
    assert cross_dataset_tests(s_min).friedman_p == pytest.approx(stats.friedmanchisquare(*m.T).pvalue)


def test_nemenyi_p_below_alpha_exactly_when_rank_gap_exceeds_cd(tmp_path):
    rng = np.random.default_rng(2)
    m = np.sort(rng.uniform(0, 1, size=(12, 5)), axis=1) + rng.normal(0, 0.15, size=(12, 5))
    _, s = _summary_from_matrix(tmp_path, m)
    for alpha in (0.05, 0.1):
        t = cross_dataset_tests(s, alpha=alpha)
        assert t.nemenyi_cd == pytest.approx(nemenyi_cd(5, 12, alpha))
        avg = t.ranks.average
        sig = t.nemenyi_significant()
        for a, b in itertools.combinations(avg.index, 2):
            assert sig.loc[a, b] == (abs(avg[a] - avg[b]) > t.nemenyi_cd)
    # Demšar (2006) Table 5: q_0.05 for k=5 is 2.728.
    assert nemenyi_cd(5, 1, 0.05) / np.sqrt(5 * 6 / 6) == pytest.approx(2.728, abs=1e-3)


def test_wilcoxon_holm_agrees_with_scipy_and_manual_holm(tmp_path):
    rng = np.random.default_rng(3)
    m = rng.uniform(0.5, 0.9, size=(10, 3)) + np.array([0.0, 0.05, 0.1])
    _, s = _summary_from_matrix(tmp_path, m)
    t = cross_dataset_tests(s, alpha=0.05)
    names = ["m0", "m1", "m2"]
    pairs = list(itertools.combinations(range(3), 2))
    raw = np.array([stats.wilcoxon(-m[:, i], -m[:, j], zero_method="zsplit").pvalue for i, j in pairs])
    order = np.argsort(raw)
    holm = np.empty(3)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (3 - rank) * raw[idx]))
        holm[idx] = running
    for (i, j), p in zip(pairs, holm, strict=True):
        assert t.wilcoxon_holm_p.loc[names[i], names[j]] == pytest.approx(p)


@pytest.mark.parametrize("seed", range(6))
def test_cd_diagram_cliques_equal_nemenyi_groups(tmp_path, seed):
    for attempt in range(50):  # first draw whose average ranks are distinct (ties can't be read back from lines)
        rng = np.random.default_rng(100 * seed + attempt)
        k = int(rng.integers(3, 7))
        m = np.arange(k) * rng.uniform(0.02, 0.3) + rng.normal(0, 0.2, size=(14, k))
        _, s = _summary_from_matrix(tmp_path, m, name=f"r{attempt}.csv")
        t = cross_dataset_tests(s, alpha=0.05)
        if not t.ranks.average.duplicated().any():
            break
    fig, artists = cd_diagram(t)
    drawn = {c for c in drawn_cliques(artists, t.ranks.average)}
    expected = {g for g in _brute_force_groups(t.nemenyi_significant()) if len(g) > 1}
    assert drawn == expected
    assert set(t.nemenyi_groups) == _brute_force_groups(t.nemenyi_significant())


def test_cd_diagram_draws_no_bar_when_all_pairs_differ(tmp_path):
    # scikit-posthocs #82: a single bar was drawn although every pair differed.
    m = np.tile(np.array([0.9, 0.6, 0.3]), (40, 1)) + np.random.default_rng(0).normal(0, 1e-3, size=(40, 3))
    _, s = _summary_from_matrix(tmp_path, m)
    t = cross_dataset_tests(s)
    assert significance(t.nemenyi_p, t.alpha).values.sum() == 6
    _, artists = cd_diagram(t)
    assert drawn_cliques(artists, t.ranks.average) == []


def test_too_few_models_or_datasets_noted_not_crashed(tmp_path):
    _, s = _summary_from_matrix(tmp_path, np.array([[0.5, 0.6], [0.7, 0.8]]))
    t = cross_dataset_tests(s)
    assert not t.friedman_done and any("Friedman/Nemenyi not run" in n for n in t.notes)
    _, s1 = _summary_from_matrix(tmp_path, np.array([[0.5, 0.6, 0.7]]), name="one.csv")
    assert not cross_dataset_tests(s1).friedman_done


def test_compare_paired_wilcoxon_direction_aware(tmp_path):
    base = [0.30, 0.31, 0.29, 0.33, 0.32, 0.30, 0.31]
    new = [0.25, 0.27, 0.24, 0.26, 0.28, 0.25, 0.26]  # lower MAE: better
    rows = [make_row("Z", "gin", v, split=f"fold{i}", metric="mae", direction="min") for i, v in enumerate(base)]
    rows += [make_row("Z", "mine", v, split=f"fold{i}", metric="mae", direction="min") for i, v in enumerate(new)]
    sel = select_rows(read_results(write(tmp_path / "r.csv", rows)))
    c = compare(sel.counted, aggregate(sel.counted), baseline="gin", model="mine")
    r = c.per_dataset.iloc[0]
    assert r["test"].startswith("Wilcoxon") and r["n_pairs"] == 7
    assert r["p"] == pytest.approx(stats.wilcoxon(np.array(new) - np.array(base), zero_method="zsplit").pvalue)
    assert r["delta"] == pytest.approx(np.mean(new) - np.mean(base)) and r["verdict"] == "better"


def test_compare_unpaired_uses_welch_and_across_datasets_wilcoxon(tmp_path):
    rows = []
    rng = np.random.default_rng(4)
    for d in range(6):
        for i in range(4):
            rows.append(make_row(f"D{d}", "gin", 0.70 + rng.normal(0, 0.01), split=f"fold{i}"))
            rows.append(make_row(f"D{d}", "mine", 0.60 + rng.normal(0, 0.01), split=f"fold{4 + i}"))  # no pairs
    sel = select_rows(read_results(write(tmp_path / "r.csv", rows)))
    summ = aggregate(sel.counted)
    c = compare(sel.counted, summ, baseline="gin", model="mine")
    assert set(c.per_dataset["test"]) == {"Welch t-test (unpaired split means)"}
    assert set(c.per_dataset["verdict"]) == {"worse"}
    d0 = sel.counted[sel.counted["dataset"] == "D0"]
    ref = stats.ttest_ind(d0[d0["entry"] == "mine"]["test_metric"], d0[d0["entry"] == "gin"]["test_metric"],
                          equal_var=False)
    assert c.per_dataset.iloc[0]["p"] == pytest.approx(ref.pvalue)
    assert c.overall_p == pytest.approx(stats.wilcoxon(c.per_dataset["delta"]).pvalue)
    assert overall_verdict(c).startswith("worse")


def test_missing_cells_drop_whichever_keeps_more_and_say_so(tmp_path):
    rows = [make_row(d, m, 0.5 + i / 10) for d in ("A", "B", "C") for i, m in enumerate(("a", "b", "c"))]
    rows.append(make_row("D", "a", 0.5))  # only one model ran D: dropping D keeps more cells than dropping b, c
    sel = select_rows(read_results(write(tmp_path / "r.csv", rows)))
    t = cross_dataset_tests(aggregate(sel.counted))
    assert t.ranks.dropped_datasets == ["D"] and t.ranks.dropped == [] and t.friedman_done
    assert any("Datasets where some entry has no result" in n for n in t.notes)
    rows.append(make_row("A", "z", 0.1))  # a model with one dataset only: now dropping the model is cheaper
    sel = select_rows(read_results(write(tmp_path / "r2.csv", rows)))
    t = cross_dataset_tests(aggregate(sel.counted))
    assert "z" in t.ranks.dropped


def test_all_tied_noted_not_crashed(tmp_path):
    rows = [make_row(d, m, 0.5) for d in ("A", "B", "C") for m in ("a", "b", "c")]
    sel = select_rows(read_results(write(tmp_path / "r.csv", rows)))
    t = cross_dataset_tests(aggregate(sel.counted))
    assert not t.friedman_done and any("ties on every dataset" in n for n in t.notes)


def test_compare_does_not_call_a_seeds_only_difference_on_one_fold_significant(tmp_path):
    """Issue 9: seeds on one split share its test set; pairing them used to give p = 0.016 for 7 seeds."""
    base = [0.70, 0.71, 0.69, 0.70, 0.72, 0.70, 0.71]
    new = [0.75, 0.76, 0.74, 0.75, 0.77, 0.75, 0.76]  # better on every seed, but all on fold0
    rows = [make_row("Z", "gin", v, seed=i) for i, v in enumerate(base)]
    rows += [make_row("Z", "mine", v, seed=i) for i, v in enumerate(new)]
    sel = select_rows(read_results(write(tmp_path / "r.csv", rows)))
    c = compare(sel.counted, aggregate(sel.counted), baseline="gin", model="mine")
    r = c.per_dataset.iloc[0]
    assert r["test"].startswith("none (one split") and r["verdict"] != "better" and np.isnan(r["p"])
    assert any("share its test set" in n for n in c.notes)


def test_compare_averages_seeds_within_each_fold_first(tmp_path):
    rows = []
    for f in range(6):
        for s in range(3):
            rows.append(make_row("Z", "gin", 0.70 + 0.01 * s, seed=s, split=f"fold{f}"))
            rows.append(make_row("Z", "mine", 0.80 + 0.01 * s + 0.001 * f, seed=s, split=f"fold{f}"))
    sel = select_rows(read_results(write(tmp_path / "r.csv", rows)))
    r = compare(sel.counted, aggregate(sel.counted), baseline="gin", model="mine").per_dataset.iloc[0]
    assert r["n_pairs"] == 6  # folds, not 18 fold × seed runs
    assert r["p"] == pytest.approx(stats.wilcoxon(np.full(6, -0.1) - 0.001 * np.arange(6)).pvalue)
