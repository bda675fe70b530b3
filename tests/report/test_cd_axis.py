"""The critical-difference diagram's rank axis runs 1..k with the CD bar above it, as in Demšar (2006) (issue 21).

Before, scikit-posthocs drew the CD bar from the best average rank, so for 4 models the axis ran 1.75 ... 5.0."""

from __future__ import annotations

import numpy as np
import pytest

from graphbench.report import select_rows
from graphbench.report.aggregate import aggregate
from graphbench.report.figures import cd_diagram, save
from graphbench.report.stats import cross_dataset_tests
from graphbench.results import read_results
from tests.report.fixtures import block_results


def _tests(tmp_path, m: np.ndarray):
    scores = {f"d{i}": {f"m{j}": [float(m[i, j])] for j in range(m.shape[1])} for i in range(m.shape[0])}
    sel = select_rows(read_results(block_results(tmp_path / "r.csv", scores, direction="max", metric="accuracy")))
    return cross_dataset_tests(aggregate(sel.counted), alpha=0.05)


@pytest.mark.parametrize("k, n", [(4, 6), (5, 12), (3, 3)])
def test_rank_axis_is_1_to_k_and_the_cd_bar_starts_at_rank_1_above_it(tmp_path, k, n):
    rng = np.random.default_rng(k)
    # the best model is never ranked 1 on every dataset: its average rank is above 1 (the old axis started there)
    t = _tests(tmp_path, np.arange(k) * 0.05 + rng.normal(0, 0.1, size=(n, k)))
    assert t.ranks.average.min() > 1
    fig, artists = cd_diagram(t)
    ax = fig.axes[0]
    assert list(ax.get_xticks()) == list(range(1, k + 1))
    assert ax.spines["top"].get_bounds() == (1, k)
    bar = artists["cd_bar"]
    assert list(bar.get_xdata()) == pytest.approx([1, 1 + t.nemenyi_cd])
    y = set(bar.get_ydata())
    assert len(y) == 1 and y.pop() > 0  # horizontal, above the axis (the axis is the line y = 0)
    assert artists["cd_label"].get_text() == f"CD = {t.nemenyi_cd:.2f}"
    left, right = ax.get_xlim()
    assert left <= 1 and right >= max(k, 1 + t.nemenyi_cd)  # everything drawn is inside the view
    low, high = ax.get_ylim()
    assert high > bar.get_ydata()[0]
    for marker in artists["markers"]:  # every model's average rank lies on the 1..k axis
        assert 1 <= marker.get_offsets()[0][0] <= k
    assert save(fig, tmp_path / "fig", "cd")[0].stat().st_size > 0
