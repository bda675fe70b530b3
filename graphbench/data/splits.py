"""Split protocols as pure functions of (labels, seed): stratified k-fold with inner hold-out, hold-out, and
repeated random splits."""

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


def random_splits(num_examples: int, count: int, *, train_fraction: float, val_fraction: float,
                  seed: int = 0) -> list[Split]:
    """``count`` independent random train/validation/test splits (``random0`` … ``random{count-1}``), as papers that
    average over repeated random splits draw them (e.g. Nguyen et al.'s BORF and Karhadkar et al.'s FoSR: a fresh
    split per trial). Split ``k`` is :func:`holdout` with seed ``seed + k`` (test part first, then validation out
    of the rest, not stratified), so every split is reproducible where those papers' draws were unseeded.
    """
    if count < 1:
        raise ValueError(f"random_splits: count must be at least 1, got {count}")
    test_fraction = 1.0 - train_fraction - val_fraction
    if not (0 < train_fraction < 1 and 0 < val_fraction < 1 and test_fraction > 1e-9):
        raise ValueError(f"random_splits: train_fraction {train_fraction} and val_fraction {val_fraction} must be in "
                         "(0, 1) and leave a test part (their sum below 1)")
    out = []
    for k in range(count):
        s = holdout(num_examples, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed + k)
        out.append(Split(f"random{k}", s.train, s.val, s.test))
    return out
