from __future__ import annotations

import pytest

from tests.report.fixtures import make_row, write

# Known answers (accuracy: higher is better; mae: lower is better).
#   A/gin 0.82 ± 0.02, A/gcn 0.72 ± 0.02, A/mlp 0.61 ± 0.01      ranks A: gin 1, gcn 2, mlp 3
#   B/gin 0.31 ± 0.01414, B/gcn 0.21 ± 0.01414, B/mlp 0.50 ± 0   ranks B: gcn 1, gin 2, mlp 3
#   average rank: gin 1.5, gcn 1.5, mlp 3.0
KNOWN = {
    ("A", "gin"): [0.80, 0.82, 0.84], ("A", "gcn"): [0.70, 0.72, 0.74], ("A", "mlp"): [0.60, 0.61, 0.62],
    ("B", "gin"): [0.30, 0.32], ("B", "gcn"): [0.20, 0.22], ("B", "mlp"): [0.50, 0.50],
}


@pytest.fixture
def known_file(tmp_path):
    rows = []
    for (d, m), values in KNOWN.items():
        metric, direction = ("accuracy", "max") if d == "A" else ("mae", "min")
        for seed, v in enumerate(values):
            rows.append(make_row(d, m, v, seed=seed, metric=metric, direction=direction,
                                 num_params={"gin": 3000, "gcn": 2000, "mlp": 1000}[m],
                                 time_per_epoch_s={"gin": 0.3, "gcn": 0.2, "mlp": 0.1}[m]))
    # a failed run and a pruned search row, which must be listed and never averaged
    rows.append(make_row("A", "gin", None, seed=3, status="failed"))
    rows.append(make_row("A", "gin", 0.99, seed=9, stage="search"))
    return write(tmp_path / "results.csv", rows)
