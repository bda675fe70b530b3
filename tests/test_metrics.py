"""The metrics' direct computations equal scikit-learn's, float for float (graphbench.metrics)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from graphbench.metrics import METRICS


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("classes", [2, 3, 7])
def test_accuracy_equals_sklearn_with_ties(seed: int, classes: int) -> None:
    """Scores drawn from a few values, so many rows tie for the highest score (the first one counts, as numpy's
    argmax); labels int64, int32 and [n, 1]-shaped, as the trainer passes them."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 200))
    y_true = rng.integers(0, classes, n)
    y_score = rng.integers(0, 3, (n, classes)).astype(np.float32)  # ties everywhere
    assert (np.sort(y_score, 1)[:, -1] == np.sort(y_score, 1)[:, -2]).any() or n < 10
    expected = skm.accuracy_score(y_true, y_score.argmax(-1))
    for labels in (y_true, y_true.astype(np.int32), y_true.reshape(-1, 1)):
        got = METRICS["accuracy"].fn(labels, y_score)
        assert got == expected and type(got) is float


def test_accuracy_counts_the_first_of_tied_scores() -> None:
    """A last-of-ties argmax (or any tie rule but numpy's) would give 0.0 here."""
    y_score = np.array([[1.0, 1.0, 0.0], [0.0, 2.0, 2.0]])
    assert METRICS["accuracy"].fn(np.array([0, 1]), y_score) == 1.0
    assert METRICS["accuracy"].fn(np.array([1, 2]), y_score) == 0.0


def test_accuracy_leaves_other_labels_to_sklearn() -> None:
    """Float labels with a NaN: scikit-learn's error, as before."""
    y_score = np.eye(3)
    with pytest.raises(ValueError):
        METRICS["accuracy"].fn(np.array([0.0, np.nan, 2.0]), y_score)
    assert METRICS["accuracy"].fn(np.array([0.0, 1.0, 1.0]), y_score) == skm.accuracy_score([0, 1, 1], [0, 1, 2])


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name,reference", [("mae", skm.mean_absolute_error), ("rmse", skm.root_mean_squared_error)])
def test_regression_metrics_equal_sklearn(seed: int, dtype, name: str, reference) -> None:
    """[n, 1] targets with unlabelled (NaN) rows, as the trainer passes them; values of very different sizes so
    that a different summation order or dtype would change the last bits."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 3000))
    y_true = (rng.standard_normal((n, 1)) * 10.0 ** rng.integers(-3, 4, (n, 1))).astype(dtype)
    y_pred = (y_true + rng.standard_normal((n, 1)) * 10.0 ** rng.integers(-4, 3, (n, 1))).astype(dtype)
    y_true[rng.random(n) < 0.2] = np.nan
    y_true[0] = 1.5
    labelled = ~np.isnan(y_true)
    expected = reference(y_true[labelled], y_pred[labelled])
    got = METRICS[name].fn(y_true, y_pred)
    assert got == expected and type(got) is float


@pytest.mark.parametrize("name", ["mae", "rmse"])
def test_regression_metrics_leave_non_finite_and_mixed_inputs_to_sklearn(name: str) -> None:
    """A diverged model's inf / NaN predictions still raise scikit-learn's error; mixed dtypes give its value."""
    y_true = np.array([[1.0], [2.0], [4.0]], dtype=np.float32)
    with pytest.raises(ValueError):
        METRICS[name].fn(y_true, np.array([[1.0], [np.inf], [3.0]], dtype=np.float32))
    y_pred = np.array([[1.1], [2.5], [3.0]], dtype=np.float64)
    reference = skm.mean_absolute_error if name == "mae" else skm.root_mean_squared_error
    assert METRICS[name].fn(y_true, y_pred) == reference(y_true.reshape(-1), y_pred.reshape(-1))
