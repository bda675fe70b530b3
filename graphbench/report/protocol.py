"""Which selection protocol produced a row, and which final rows a later selection superseded.

* ``per-fold`` — Errica et al. (ICLR 2020): each outer fold's configuration is selected on that fold's inner
  validation only; the test part of a fold is never seen by its selection.
* ``select-once`` — one configuration selected on the inner validation of some folds and re-run on every fold.
  On k-fold data those validation graphs are test graphs of other folds, so the numbers are **optimistic**; every
  report table built from such rows says so.
* Final rows of schema v1 files carry no protocol: graphbench ≤ v1 only had select-once, so they are read as
  ``select-once (v1)`` and flagged the same way. Direct ``graphbench run`` rows have no selection (``run``).
"""

from __future__ import annotations

import pandas as pd

OPTIMISTIC = ("select-once", "select-once (v1)")


def row_protocols(df: pd.DataFrame) -> pd.Series:
    """The protocol of each row (see the module docstring)."""
    proto = df["protocol"].astype("string").copy()
    empty = proto.isna() | (proto == "")
    v1_final = empty & (df["stage"] == "final")
    proto[v1_final] = "select-once (v1)"
    proto[empty & ~v1_final] = "run"
    return proto


def mark_superseded(df: pd.DataFrame) -> pd.DataFrame:
    """Add the derived boolean column ``superseded``: a final row whose study later selected another configuration.

    Per study, the current selection is the ``config_hash`` of its final rows with the largest
    ``selection_trials`` (the selection made after the most search trials); when several configurations share
    that count — the same selection hashed differently by another graphbench version (e.g. one that added a
    hyperparameter with its default), so the resumed sweep ran it again — the current one is that of the latest
    final row (``started_at``). Final rows of any other configuration are superseded: listed, never counted.
    Rows without ``selection_trials`` (schema v1, direct runs) are never superseded.
    """
    df = df.copy()
    df["superseded"] = False
    final = df[(df["stage"] == "final") & df["study"].notna() & df["selection_trials"].notna()]
    for _, g in final.groupby("study"):
        top = g[g["selection_trials"] == g["selection_trials"].max()].dropna(subset=["config_hash"])
        current = set(top["config_hash"])
        if len(current) > 1:
            current = {top.loc[top["started_at"].astype(str).idxmax(), "config_hash"]}
        df.loc[g.index[~g["config_hash"].isin(current)], "superseded"] = True
    return df
