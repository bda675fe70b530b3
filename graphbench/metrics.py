"""Evaluation metrics: one table from metric name to a scikit-learn function and its direction.

Every metric takes ``(y_true, y_pred)`` as numpy arrays in the shapes produced by :func:`predictions_for`:
class scores ``[n, C]`` for multiclass, logits ``[n, T]`` for (multi-)label binary tasks, values ``[n, T]`` for
regression. Multi-task binary metrics follow OGB's ``Evaluator``: each task is scored on its labelled (non-NaN)
entries, tasks whose labels have a single class are skipped, and the mean over tasks is returned.

scikit-learn is the reference implementation. Accuracy, MAE and RMSE, which the trainer computes after every
epoch, run scikit-learn's own numpy expression directly on inputs its checks would pass unchanged (its input
validation costs about half a millisecond a call, against microseconds for the computation) and call
scikit-learn otherwise; ``tests/test_metrics.py`` checks the floats are equal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module

import numpy as np


def _sklearn(name: str) -> Callable:
    """``sklearn.metrics.<name>``, imported on first use: scikit-learn (with scipy.stats) adds more than a second to
    every ``graphbench`` command, most of which never score anything."""
    def fn(*args, **kwargs):
        return getattr(import_module("sklearn.metrics"), name)(*args, **kwargs)
    fn.__name__ = name
    return fn


@dataclass(frozen=True)
class Metric:
    """A named metric: ``fn(y_true, y_pred) -> float`` and whether higher is better."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    direction: str  # "max" or "min"

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "max"

    def better(self, a: float, b: float) -> bool:
        """True when score ``a`` is strictly better than ``b`` (NaN is never better)."""
        if np.isnan(a):
            return False
        if np.isnan(b):
            return True
        return a > b if self.higher_is_better else a < b

    def worst(self) -> float:
        return -np.inf if self.higher_is_better else np.inf


def _accuracy(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """The fraction of rows whose highest score (the first one on ties) is the label. Integer labels take the
    computation ``sklearn.metrics.accuracy_score`` runs on them, ``np.average(y_true == y_pred)``, without its input
    checks (about half a millisecond a call, run after every epoch); any other labels (float, NaN, …) go to
    scikit-learn itself, so its errors stay. tests/test_metrics.py checks both give the same float."""
    y_true, y_pred = y_true.reshape(-1), y_score.argmax(axis=-1)
    if y_true.dtype.kind in "iu" and y_pred.shape == y_true.shape and len(y_true) > 0:
        return float(np.average(y_true == y_pred))
    return float(_sklearn("accuracy_score")(y_true, y_pred))


def _f1_macro(y_true: np.ndarray, y_score: np.ndarray) -> float:
    return float(_sklearn("f1_score")(y_true.reshape(-1), y_score.argmax(axis=-1), average="macro"))


ScoreFn = Callable[[np.ndarray, np.ndarray], float]


def _per_task_binary(score_fn: ScoreFn) -> ScoreFn:
    def fn(y_true: np.ndarray, y_score: np.ndarray) -> float:
        y_true = y_true.reshape(len(y_true), -1)
        y_score = y_score.reshape(len(y_score), -1)
        scores = []
        for t in range(y_true.shape[1]):
            labelled = ~np.isnan(y_true[:, t])
            yt = y_true[labelled, t]
            if len(np.unique(yt)) < 2:  # undefined for one class (OGB skips such tasks too)
                continue
            scores.append(score_fn(yt, y_score[labelled, t]))
        if not scores:
            raise ValueError("no task has both positive and negative labels in this split; the metric is undefined")
        return float(np.mean(scores))

    return fn


def _regression_inputs_plain(y_true: np.ndarray, y_pred: np.ndarray) -> bool:
    """Whether scikit-learn's regression metrics would use ``y_true`` / ``y_pred`` as they are: 1-D, the same
    length (non-zero) and the same float dtype (its input checks then convert nothing), all values finite (else it
    raises, and must keep raising)."""
    return (y_true.ndim == y_pred.ndim == 1 and len(y_true) == len(y_pred) > 0
            and y_true.dtype == y_pred.dtype and y_true.dtype in (np.float32, np.float64)
            and bool(np.isfinite(y_true).all()) and bool(np.isfinite(y_pred).all()))


def _mean_absolute_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``sklearn.metrics.mean_absolute_error``: on plain inputs (:func:`_regression_inputs_plain`) its own numpy
    operations — one output column, its error averaged over rows, then over the one output — without its input
    checks; otherwise scikit-learn itself."""
    if not _regression_inputs_plain(y_true, y_pred):
        return float(_sklearn("mean_absolute_error")(y_true, y_pred))
    errors = np.average(np.abs(y_pred.reshape(-1, 1) - y_true.reshape(-1, 1)), axis=0)
    return float(np.average(errors))


def _root_mean_squared_error(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """``sklearn.metrics.root_mean_squared_error``, as :func:`_mean_absolute_error`: the square root of the
    column's mean squared error, averaged over the one output."""
    if not _regression_inputs_plain(y_true, y_pred):
        return float(_sklearn("root_mean_squared_error")(y_true, y_pred))
    errors = np.sqrt(np.average((y_true.reshape(-1, 1) - y_pred.reshape(-1, 1)) ** 2, axis=0))
    return float(np.average(errors))


def _masked_regression(error_fn: ScoreFn) -> ScoreFn:
    def fn(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        y_true = y_true.reshape(len(y_true), -1)
        y_pred = y_pred.reshape(len(y_pred), -1)
        labelled = ~np.isnan(y_true)
        return float(error_fn(y_true[labelled], y_pred[labelled]))

    return fn


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", _accuracy, "max"),
        Metric("f1_macro", _f1_macro, "max"),
        Metric("rocauc", _per_task_binary(_sklearn("roc_auc_score")), "max"),
        Metric("ap", _per_task_binary(_sklearn("average_precision_score")), "max"),
        Metric("mae", _masked_regression(_mean_absolute_error), "min"),
        Metric("rmse", _masked_regression(_root_mean_squared_error), "min"),
    )
}


def get_metric(name: str) -> Metric:
    """The metric called ``name``; raises ``KeyError`` listing the known metrics."""
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None
