"""Split protocols as pure functions of (labels, seed): stratified k-fold with inner hold-out, and hold-out."""

from __future__ import annotations

import numpy as np

from graphbench.data.base import Split


def _stratify_by(labels: np.ndarray) -> np.ndarray | None:
    """Labels usable for stratification (1-D class ids), or None for regression / multi-task targets."""
    labels = np.asarray(labels)
    if labels.ndim == 1 and np.issubdtype(labels.dtype, np.integer):
        return labels
    return None


def stratified_kfold(labels: np.ndarray, k: int = 10, *, seed: int = 0, val_fraction: float = 0.1) -> list[Split]:
    """Errica et al. (ICLR 2020) style outer folds: k stratified test folds; inside each outer training part a
    stratified hold-out of ``val_fraction`` is the validation set used for model selection.

    Deterministic for a given seed; the test folds are disjoint and cover every example once.
    """
    from sklearn.model_selection import StratifiedKFold, train_test_split  # on first use (see graphbench.metrics)

    labels = np.asarray(labels)
    strat = _stratify_by(labels)
    if strat is None:
        raise ValueError("stratified k-fold needs 1-D integer class labels")
    outer = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    splits = []
    for i, (train_val, test) in enumerate(outer.split(np.zeros(len(labels)), strat)):
        train, val = train_test_split(train_val, test_size=val_fraction, random_state=seed, stratify=strat[train_val])
        splits.append(Split(f"fold{i}", np.sort(train), np.sort(val), np.sort(test)))
    return splits


def holdout(num_examples: int, *, val_fraction: float, test_fraction: float, seed: int = 0,
            labels: np.ndarray | None = None) -> Split:
    """A single random (stratified when class labels are given) train/val/test split."""
    from sklearn.model_selection import train_test_split

    idx = np.arange(num_examples)
    strat = _stratify_by(labels) if labels is not None else None
    train_val, test = train_test_split(idx, test_size=test_fraction, random_state=seed, stratify=strat)
    rel_val = val_fraction / (1.0 - test_fraction)
    train, val = train_test_split(train_val, test_size=rel_val, random_state=seed,
                                  stratify=None if strat is None else strat[train_val])
    return Split("holdout", np.sort(train), np.sort(val), np.sort(test))
