"""Published results and the reproduction gap: "does our baseline match its paper?".

``published_results.csv`` (in this package, version :data:`PUBLISHED_VERSION`) holds one row per (model, preset,
dataset, metric) with the paper's value, its standard deviation (empty where the paper gives none), the number of
runs behind it, the protocol that produced it, the citation, and how sure we are of the number:

* ``paper-table`` — read from the paper's table (named in ``source``);
* ``released-logs`` — read in, or computed from, the authors' released repository at a commit: training logs,
  results files, or the results table of its README (named in ``source``; such a table may be an updated version of
  the paper's);
* ``quoted`` — as quoted by another paper, leaderboard or results page (named in ``source``), not read in the
  paper itself; where the quote gives no standard deviation the row has none;
* ``recalled`` — transcribed from memory of the paper's table: every such row was checked against the stored copies
  of the paper and of pages quoting it, and the ones that remain could not be found there; their ``note`` starts
  with ``unverified:`` and says what was searched (:data:`RECALLED_PREFIX`). Verify before citing (the report shows
  the certainty beside every number);
* ``unread`` — the paper reports this row (model, dataset, protocol: named in ``source``), but no copy of its table
  could be read here, so the row has **no value**: its ``value`` and ``std`` are empty and its ``note`` starts with
  ``unread:`` and says what was searched (:data:`UNREAD_PREFIX`). It exists so that ``graphbench reproduce`` can run
  the paper's protocol and record ours; the comparison waits for the number (:func:`reproduction_gap` skips it).

``preset`` is empty for a published number that no graphbench preset reproduces (e.g. PathNN's TU runs); every
row's model, preset (when given) and dataset are registered names (tests/test_published.py checks it).

Values are in graphbench's metric units (accuracy as a fraction, not a percentage).

Protocols (``PROTOCOLS``) say how a number was made; a reproduction is compared as "same protocol" only when our
runs follow it — same split scheme and the same kind of model selection — and is otherwise shown with the reason
it differs (never silently). :func:`reproduction_gap` computes, per (dataset, model entry) of a results table, our
mean ± std beside the paper's value, the difference, and whether it lies within the combined standard deviation
``sqrt(std_ours² + std_paper²)`` (our std alone when the paper states none).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

PUBLISHED_VERSION = 1
COLUMNS = ("model", "preset", "dataset", "metric", "value", "std", "runs", "protocol", "source", "certainty", "note")
CERTAINTIES = ("paper-table", "released-logs", "quoted", "recalled", "unread")
#: A ``recalled`` row's note starts with this, followed by why the number could not be checked.
RECALLED_PREFIX = "unverified:"
#: An ``unread`` row's note starts with this, followed by what was searched for the paper's table.
UNREAD_PREFIX = "unread:"


@dataclass(frozen=True)
class Protocol:
    """How a published number was produced: the split scheme and how the configuration/epoch was selected."""

    name: str
    splits: str  # "public" (one fixed split), "10-fold", "10 geom-gcn splits", "random 80/10/10", ...
    #: "fixed" (one configuration, no search), "search" (grid/validation search), "test-cv" (epoch chosen on the
    #: test folds' mean), "no-validation" (fixed final epochs scored on the held-out fold, no validation set)
    selection: str
    description: str


PROTOCOLS = {p.name: p for p in (
    Protocol("planetoid-public", "public", "fixed", "Planetoid public split (20 labels per class / 500 / 1000), "
             "one fixed configuration, mean over random initialisations"),
    Protocol("errica-10fold", "10-fold", "search", "Errica et al. 2020: 10 outer folds, grid search on an inner "
             "hold-out inside each fold, test accuracy averaged over folds"),
    Protocol("xu-10fold-cv", "10-fold", "test-cv", "Xu et al. 2019: 10-fold cross-validation without a validation "
             "set; the epoch is chosen by the accuracy averaged over the 10 test folds (optimistic)"),
    Protocol("lrgb-fixed", "lrgb", "fixed", "LRGB official split (Peptides: 10 873 / 2 331 / 2 331), one paper "
             "configuration at a ~500k parameter budget, test score at the best-validation epoch, mean ± std over "
             "seeds"),
    Protocol("borf-random-splits", "random 60/20/20", "search", "Nguyen et al. 2023 (BORF, FoSR's code): random "
             "60/20/20 node splits, 100 trials, rewiring setting chosen on a grid; mean and 95% CI (2σ/√trials). "
             "As the released code runs it (run_node_classification.py), each trial trains on num_splits = 3 fresh "
             "random splits and keeps the best of their 3 test accuracies (each at the epoch training stops)"),
    Protocol("zinc-fixed", "fixed", "fixed", "ZINC-12k official split (10 000 / 1 000 / 1 000), one paper "
             "configuration, test MAE at the best-validation epoch, mean ± std over seeds"),
    Protocol("ogb-scaffold", "scaffold", "fixed", "OGB's scaffold split, one paper configuration, test score at the "
             "best-validation epoch, mean ± std over seeds"),
    Protocol("geom-gcn-10splits", "10 geom-gcn splits", "fixed", "Pei et al.'s 10 fixed node splits of the geom-gcn "
             "repository (files NAME_split_0.6_0.2_K.npz, K = 0..9; nominal 60/20/20, actually 48/32/20), one "
             "configuration per dataset, test accuracy averaged over the 10 splits; ± is the std over the splits "
             "unless the row's note says otherwise"),
    Protocol("fosr-tu-random-splits", "random 80/10/10", "fixed", "Karhadkar et al. 2023 (FoSR), as the released "
             "code runs it (kedar2/FoSR@1a7360c: run_graph_classification.py, experiments/graph_classification.py): "
             "every trial draws a fresh unseeded random 80/10/10 train/validation/test split (torch random_split), "
             "rewiring is applied once before the trials, one fixed configuration per dataset (4 layers of width 64, "
             "dropout 0.5, Adam lr 1e-3, ReduceLROnPlateau at its defaults stepped on the training loss, batch 64), "
             "training stops after 100 epochs without a validation accuracy 1% above the best, and the trial's "
             "score is the test accuracy of that LAST epoch (not of the best-validation epoch); 100 trials; the "
             "value is the mean and ± is 2σ/√trials (σ the population std over trials, a 95% confidence interval), "
             "so std = ± × √trials / 2. The authors' development results files of September 2022 "
             "(kedar2/FoSR@e5e1303: results/graph_classification*.csv, deleted in e4ac1d2) log σ/√trials instead; "
             "for the runs they hold that are the paper's, Table 1 prints the same mean with ± ≈ 1.96σ/√trials"),
    Protocol("laser-tu-random-splits", "random 80/10/10", "fixed", "Barbero et al. 2024 (LASER), as the released "
             "GraphGym configs run it (Fedzbar/laser-release@597af16: configs/TUDataset-laser/*.yaml, "
             "laser/loader/split_generator.py): a random 80/10/10 split drawn per seed (sklearn ShuffleSplit with "
             "random_state = the run's seed), one configuration per dataset (4 message-passing layers of width 64, "
             "batch norm, mean pooling, 1 post-MP layer, batch 128, AdamW lr 1e-3, plateau schedule factor 0.5 "
             "patience 20, min lr 1e-5, 100 epochs), GraphGym's best-validation-epoch test accuracy; the configs set "
             "dataset.repeat = 50. What the paper's ± is must be read in its table caption (see the row's note)"),
    Protocol("prmpnn-tu-10fold", "10-fold", "test-cv", "Qian et al. 2024 (PR-MPNN), as the released TU code reads "
             "(chendiqian/PR-MPNN, backup branch, data/get_data.py get_TU): fold i of 10 is the test part of a fresh "
             "StratifiedKFold(random_state=i), so the ten test parts do not partition the dataset, and the test "
             "part doubles as the validation part (the epoch is chosen on it)"),
    Protocol("spen-10fold-last10", "10-fold", "no-validation", "Mitton & Murray-Smith (SPEN), as the released code "
             "runs it (JoshuaMitton/LPEGN@72f5e04: lpegn/main_scripts/main_10fold_experiment.py, "
             "lpegn/trainers/trainer.py, lpegn/utils/doc_utils.py): 10-fold cross-validation with no validation "
             "set (the held-out fold is evaluated every epoch), a fixed number of epochs per dataset "
             "(utils/config.py's 10-fold override CHOSEN_EPOCH = 50 on every dataset, over the configs' 36-1000; "
             "AdamW, StepLR ×0.1 every 30 epochs), a fold's score is the held-out accuracy averaged over its last "
             "10 epochs (a mean of per-batch accuracies), and the value is the mean ± population std over the "
             "10 folds"),
)}


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    text = resources.files("graphbench").joinpath("published_results.csv").read_text(encoding="utf-8")
    import io

    df = pd.read_csv(io.StringIO(text), dtype={"preset": "string", "note": "string"}, keep_default_na=False,
                     na_values={"value": [""], "std": [""], "runs": [""]})
    check_table(df)
    return df


def check_table(df: pd.DataFrame) -> None:
    """Refuse a malformed published table (columns, certainty, protocol, value ranges), naming the row."""
    if tuple(df.columns) != COLUMNS:
        raise ValueError(f"published_results.csv: columns {list(df.columns)}, expected {list(COLUMNS)}")
    for i, r in df.iterrows():
        where = f"published_results.csv row {i + 2} ({r['model']}/{r['dataset']})"
        if r["certainty"] not in CERTAINTIES:
            raise ValueError(f"{where}: certainty {r['certainty']!r} not in {CERTAINTIES}")
        if r["protocol"] not in PROTOCOLS:
            raise ValueError(f"{where}: unknown protocol {r['protocol']!r}; known: {sorted(PROTOCOLS)}")
        if not r["source"]:
            raise ValueError(f"{where}: no source citation")
        if r["certainty"] == "recalled" and not str(r["note"]).startswith(RECALLED_PREFIX):
            raise ValueError(f"{where}: a recalled number needs a note starting {RECALLED_PREFIX!r} that says why "
                             "it could not be checked against the paper")
        unread = r["certainty"] == "unread"
        if unread and (not pd.isna(r["value"]) or not pd.isna(r["std"])
                       or not str(r["note"]).startswith(UNREAD_PREFIX)):
            raise ValueError(f"{where}: an unread row has no value and no std, and a note starting "
                             f"{UNREAD_PREFIX!r} that says what was searched for the paper's table")
        if not unread and pd.isna(r["value"]):
            raise ValueError(f"{where}: no value; a row whose number could not be read has certainty 'unread'")
        if r["metric"] == "accuracy" and not unread and not 0 <= float(r["value"]) <= 1:
            raise ValueError(f"{where}: accuracy {r['value']} is not a fraction in [0, 1]")
    dup = df.duplicated(["model", "preset", "dataset", "metric"])
    if dup.any():
        raise ValueError(f"published_results.csv: duplicate rows {df[dup][['model', 'dataset']].values.tolist()}")


def published(model: str | None = None, dataset: str | None = None) -> pd.DataFrame:
    """The published rows, optionally of one model (registry name or alias) and/or one dataset."""
    df = _table()
    if model is not None:
        from graphbench.registry import MODELS

        name = MODELS.get(model).name if model in MODELS else model.lower()
        df = df[df["model"] == name]
    if dataset is not None:
        df = df[df["dataset"] == dataset.lower()]
    return df.reset_index(drop=True)


def run_protocol(rows: pd.DataFrame) -> tuple[str, str]:
    """(split scheme, selection) of a group of our results rows: ``public`` / ``k-fold`` / ``k geom-gcn splits``
    (splits ``geom0..``), and ``fixed`` for direct
    runs (stage run: one configuration, e.g. a preset) or ``search`` for a sweep's final runs."""
    splits = set(rows["split"].astype(str))
    if splits == {"public"}:
        scheme = "public"
    elif all(re.fullmatch(r"fold\d+", s) for s in splits):
        scheme = f"{len(splits)}-fold"
    elif all(re.fullmatch(r"geom\d+", s) for s in splits):
        scheme = f"{len(splits)} geom-gcn splits"
    else:
        scheme = ",".join(sorted(splits))
    stages = set(rows["stage"].astype(str))
    return scheme, "search" if stages == {"final"} else "fixed"


#: How a paper protocol that scores on the test part itself selected (``Protocol.selection``), where graphbench
#: always selects on validation: said by the gap table and by every reproduction plan.
SELECTION_ON_TEST = {
    "test-cv": "the paper chose the epoch on the test folds' mean accuracy",
    "no-validation": "the paper scored its last epochs on the held-out fold without a validation set",
}


def _protocol_difference(ours: tuple[str, str], paper: Protocol) -> str:
    """Empty when our runs follow the paper's protocol, else why they do not."""
    why = []
    if ours[0] != paper.splits:
        why.append(f"splits: ours {ours[0]}, paper {paper.splits}")
    if paper.selection in SELECTION_ON_TEST:
        why.append(f"{SELECTION_ON_TEST[paper.selection]}; ours selects on validation")
    elif ours[1] != paper.selection:
        what = {"fixed": "one fixed configuration", "search": "a configuration searched on validation"}
        why.append(f"selection: ours {what[ours[1]]}, paper {what[paper.selection]}")
    return "; ".join(why)


def _match(pub: pd.DataFrame, model: str, dataset: str, metric: str, presets: set[str],
           ours: tuple[str, str]) -> pd.Series | None:
    cand = pub[(pub["model"] == model) & (pub["dataset"] == dataset) & (pub["metric"] == metric)
               & pub["value"].notna()]
    if cand.empty:
        return None
    same_preset = cand[cand["preset"].isin(presets)]
    if not same_preset.empty:
        return same_preset.iloc[0]
    same_protocol = cand[[not _protocol_difference(ours, PROTOCOLS[p]) for p in cand["protocol"]]]
    return (same_protocol if not same_protocol.empty else cand).iloc[0]


def _std(x: pd.Series) -> float:
    x = x.dropna().astype(float)
    return float(x.std(ddof=1)) if len(x) > 1 else float("nan")


def within_combined_std(diff: float, std_ours: float, std_paper: float) -> tuple[float, bool | None]:
    """The tolerance ``sqrt(std_ours² + std_paper²)`` (over the stds that are known; NaN when neither is) and whether
    ``|diff|`` lies within it (None when no std is known): the one rule every reproduction-gap verdict uses."""
    parts = [s for s in (std_ours, std_paper) if not math.isnan(s)]
    tol = math.sqrt(sum(s * s for s in parts)) if parts else float("nan")
    return tol, None if math.isnan(tol) else bool(abs(diff) <= tol)


def reproduction_gap(counted: pd.DataFrame, table: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (dataset, entry) of ``counted`` (results rows with an ``entry`` column, e.g. a report's counted
    rows) that has a published number: ours (mean, std, runs), the paper's (value, std, runs), ``diff`` = ours −
    paper, ``tolerance`` (combined std), ``within`` (True/False, or None when no std is known on either side),
    ``protocol`` ("same" or why not), and the published row's source, preset and certainty."""
    pub = _table() if table is None else table
    out = []
    if "entry" not in counted.columns:
        counted = counted.assign(entry=counted["model"])
    for (dataset, entry), g in counted.groupby(["dataset", "entry"], sort=True):
        model, metric = str(g["model"].iloc[0]), str(g["metric"].iloc[0])
        presets = set(g["preset"].dropna().astype(str)) if "preset" in g.columns else set()
        ours = run_protocol(g)
        row = _match(pub, model, str(dataset), metric, presets, ours)
        if row is None:
            continue
        mean, std = float(g["test_metric"].astype(float).mean()), _std(g["test_metric"])
        p_std = float(row["std"]) if not pd.isna(row["std"]) else float("nan")
        diff = mean - float(row["value"])
        tol, within = within_combined_std(diff, std, p_std)
        differs = _protocol_difference(ours, PROTOCOLS[row["protocol"]])
        if not presets or str(row["preset"]) not in presets:
            preset_note = "our runs are not the paper's preset"
            differs = f"{differs}; {preset_note}" if differs else preset_note
        out.append({
            "dataset": dataset, "entry": entry, "metric": metric, "ours_mean": mean, "ours_std": std,
            "ours_runs": len(g), "paper_value": float(row["value"]), "paper_std": p_std,
            "paper_runs": row["runs"], "diff": diff, "tolerance": tol,
            "within": within,
            "protocol": "same" if not differs else f"differs: {differs}",
            "paper_preset": row["preset"], "source": row["source"], "certainty": row["certainty"],
        })
    cols = ["dataset", "entry", "metric", "ours_mean", "ours_std", "ours_runs", "paper_value", "paper_std",
            "paper_runs", "diff", "tolerance", "within", "protocol", "paper_preset", "source", "certainty"]
    return pd.DataFrame(out, columns=cols)


def gap_display(gap: pd.DataFrame, digits: int = 4) -> pd.DataFrame:
    """The reproduction-gap table as strings for a report: ours, paper, diff, within, protocol, source."""
    from graphbench.report.tables import fmt, mean_std

    def within(r) -> str:
        if r["within"] is None:
            return "n/a (no std)"
        verdict = "yes" if r["within"] else "no"
        return verdict if r["protocol"] == "same" else f"{verdict} (protocol differs)"

    return pd.DataFrame({
        "dataset": gap["dataset"], "model": gap["entry"],
        "ours": [mean_std(m, s, digits) + f" (n={n})" for m, s, n in
                 zip(gap["ours_mean"], gap["ours_std"], gap["ours_runs"])],
        "paper": [mean_std(m, s, digits) for m, s in zip(gap["paper_value"], gap["paper_std"])],
        "diff": [("+" if d >= 0 else "") + fmt(d, digits) for d in gap["diff"]],
        "within combined std": [within(r) for _, r in gap.iterrows()],
        "protocol": gap["protocol"],
        "source": [f"{s} [{c}]" for s, c in zip(gap["source"], gap["certainty"])],
    })


def format_published(df: pd.DataFrame, reproduced: dict[tuple[str, str, str], str] | None = None) -> str:
    """Plain-text listing for ``graphbench published``: one line per number, with beside it whether graphbench has
    reproduced it and how close (``reproduced``: ``(model, preset, dataset) -> text``, from the reproduction ledger
    :func:`graphbench.reproduce.ledger.reproduced_lookup`; "not reproduced" where the ledger has no row)."""
    if df.empty:
        return "no published results match"
    reproduced = reproduced or {}
    rows = []
    for r in df.itertuples():
        value = ("not read" if pd.isna(r.value) else
                 f"{r.value:.3f}" + (f" ± {r.std:.3f}" if not pd.isna(r.std) else ""))
        runs = "" if pd.isna(r.runs) else str(int(r.runs))
        ours = reproduced.get((r.model, r.preset, r.dataset), "not reproduced")
        rows.append((r.model, r.preset or "-", r.dataset, r.metric, value, runs, ours, r.protocol, r.certainty,
                     r.source))
    head = ("model", "preset", "dataset", "metric", "value", "runs", "graphbench reproduction", "protocol",
            "certainty", "source")
    widths = [max(len(str(x[i])) for x in [head, *rows]) for i in range(len(head) - 1)]
    right = {4, 5}  # value, runs

    def line(cells) -> str:
        out = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(out) + "  " + str(cells[-1])

    lines = [line(head)] + [line(r) for r in rows]
    used = sorted(set(df["protocol"]))
    lines.append("")
    lines += [f"{p}: {PROTOCOLS[p].description}" for p in used]
    lines.append("certainty: paper-table / released-logs (the authors' repository) / quoted (by the source named) / "
                 "recalled (from memory of the paper's table, not found in a stored copy; verify before citing) / "
                 "unread (the paper reports the row, its table could not be read here: no value). "
                 "Values in graphbench units (accuracy as a fraction). graphbench reproduction: ours from the "
                 "reproduction ledger (graphbench/reproductions.csv; `graphbench reproduce` re-runs a row).")
    return "\n".join(lines)


def published_datasets() -> set[str]:
    """Dataset names that have at least one published row."""
    return set(_table()["dataset"])
