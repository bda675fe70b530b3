"""``build_report``: results files -> leaderboard (Markdown, LaTeX, HTML), statistics, figures, provenance."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from graphbench.published import gap_display, reproduction_gap
from graphbench.report import figures as figs
from graphbench.report.aggregate import (
    DDOF,
    ReportError,
    aggregate,
    fewer_runs_flags,
    missing_cells,
    missing_runs,
    select_rows,
)
from graphbench.report.expressiveness import expressiveness_section, write_expressiveness_report
from graphbench.report.html import ReportResult, Section, render_html, render_markdown
from graphbench.report.protocol import OPTIMISTIC
from graphbench.report.provenance import provenance, provenance_markdown
from graphbench.report.stats import compare, cross_dataset_tests, overall_verdict
from graphbench.report.tables import (
    Table,
    dataset_tables,
    fmt,
    frame_table,
    mean_std,
    overall_table,
    to_latex,
    to_markdown,
)
from graphbench.results.reader import read_results
from graphbench.results.schema import SchemaError


def _read(paths: Iterable[str | os.PathLike]) -> tuple[pd.DataFrame, list[Path]]:
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, os.PathLike)) else paths)]
    if not paths:
        raise ReportError("no results files given")
    try:
        return read_results(paths), paths
    except SchemaError as e:
        raise ReportError(f"refusing to mix results of different schemas: {e}") from e


def build_report(paths: Iterable[str | os.PathLike] | str | os.PathLike, out_dir: str | os.PathLike, *,
                 baseline: str | None = None, model: str | None = None, alpha: float = 0.05,
                 storage: str | None = None, stage: str = "final", configs: str = "split",
                 figures: bool = True, title: str = "graphbench report",
                 notes: list[str] | None = None) -> ReportResult:
    """Write the report for ``paths`` into ``out_dir``; returns what was written.

    Raises :class:`ReportError` (with the reason) for mixed schema versions, incompatible protocols, several
    configurations per model when ``configs='refuse'``, or compare-mode names that are not entries.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if (baseline is None) != (model is None):
        raise ValueError("compare mode needs both baseline and model")
    df, paths = _read(paths)
    expressiveness = expressiveness_section(df)
    if expressiveness is not None and (df["stage"] == "expressiveness").all():
        return write_expressiveness_report(df, paths, out_dir, title=title)
    sel = select_rows(df, stage=stage, configs=configs)
    summary = aggregate(sel.counted)
    if summary.empty:
        raise ReportError(f"no successful rows with stage {sel.stage!r}: nothing to rank "
                          f"({len(sel.not_ok)} failed/pruned rows)")
    out = Path(out_dir)
    fig_dir = out / "figures"
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    notes = list(sel.notes) + list(notes or [])
    protocols = {str(d): ",".join(sorted(set(",".join(g["protocol"].astype(str)).split(","))))
                 for d, g in summary.groupby("dataset")}
    optimistic = sorted(d for d, p in protocols.items() if any(x in OPTIMISTIC for x in p.split(",")))
    if optimistic:
        notes.append(f"OPTIMISTIC protocol on {', '.join(optimistic)}: select-once chose one configuration on "
                     "validation graphs that are other folds' test graphs and re-ran it on every fold; per-fold "
                     "selection (Errica et al., the default) does not.")

    flags = fewer_runs_flags(summary)
    miss_runs = missing_runs(sel.counted, sel.not_ok)
    miss_cells = missing_cells(summary)
    tests = cross_dataset_tests(summary, alpha=alpha)
    cmp = compare(sel.counted, summary, baseline=baseline, model=model, alpha=alpha) if baseline else None

    sections: list[Section] = []
    n_runs = len(sel.counted)
    sections.append(Section("Summary", [
        f"{summary['dataset'].nunique()} datasets, {summary['entry'].nunique()} models, {n_runs} counted runs "
        f"(stage **{sel.stage}**, status ok) from {len(paths)} file(s); {len(sel.not_ok)} failed/pruned runs "
        f"listed below, never averaged. Mean ± std uses ddof={DDOF} (unbiased, as OGB); alpha = {alpha}.",
        *([notes] if notes else [])]))

    warn_items = []
    for r in flags.itertuples():
        warn_items.append(f"{r.dataset}: **{r.entry}** has {r.n_runs} runs, fewer than the {r.max_runs} of the "
                          "best-covered model (marked †).")
    warn_items += _environment_warnings(sel.counted)
    for r in miss_cells.itertuples():
        warn_items.append(f"{r.dataset}: **{r.entry}** has no successful runs on this dataset.")
    if warn_items:
        sections.append(Section("Warnings", [warn_items]))

    # Leaderboards
    ds_tables = dataset_tables(summary, flags=set(zip(flags["dataset"], flags["entry"], strict=True)))
    sections.append(Section("Leaderboard per dataset", ds_tables))
    ov = overall_table(summary, tests.ranks.average, tests.ranks.wins)
    sections.append(Section("Overall", [ov]))
    gap = reproduction_gap(sel.counted)  # graphbench.published: ours vs the papers' numbers
    ledger_items = _ledger_items(sel.counted, fig_dir if figures else None, written)
    if not gap.empty or ledger_items:
        items: list = []
        if not gap.empty:
            items += [GAP_TEXT, frame_table("Reproduction gap", gap_display(gap))]
            gap.to_csv(out / "reproduction_gap.csv", index=False)
            written.append(out / "reproduction_gap.csv")
        sections.append(Section("Reproduction gap (ours vs published)", items + ledger_items))

    # Statistics
    st_items: list = []
    if tests.friedman_done:
        st_items.append(f"Friedman test over {tests.n_datasets} datasets and {tests.n_models} models: "
                        f"chi² = {tests.friedman_stat:.3f}, p = {tests.friedman_p:.4g} "
                        f"({'significant' if tests.friedman_p < alpha else 'not significant'} at alpha = {alpha}). "
                        f"Nemenyi critical difference CD = {tests.nemenyi_cd:.3f}.")
        st_items.append("Nemenyi groups (no pair within a group differs significantly): "
                        + "; ".join("{" + ", ".join(sorted(g)) + "}" for g in tests.nemenyi_groups))
        st_items.append(_pmatrix_table("Nemenyi p-values", tests.nemenyi_p))
    if tests.wilcoxon_holm_p is not None:
        st_items.append(_pmatrix_table("Wilcoxon signed-rank p-values, Holm-adjusted (on per-dataset means)",
                                       tests.wilcoxon_holm_p))
        st_items.append("Wilcoxon–Holm groups: " + "; ".join("{" + ", ".join(sorted(g)) + "}"
                                                            for g in tests.wilcoxon_groups))
    if tests.notes:
        st_items.append(list(tests.notes))
    sections.append(Section("Statistical comparison across datasets", st_items))
    if expressiveness is not None:
        sections.append(expressiveness)

    # Compare mode
    if cmp is not None:
        per = cmp.per_dataset.copy()
        c_items: list = [
            f"Is **{cmp.model}** better than **{cmp.baseline}**? delta = {cmp.model} − {cmp.baseline} in the "
            f"metric's units; the verdict follows each metric's direction. Per dataset: exact Wilcoxon signed-rank "
            f"on runs paired by (split, seed) when they pair up, otherwise Welch's t-test; across datasets: "
            f"Wilcoxon signed-rank on per-dataset means (n = {cmp.overall_n}), p = {fmt(cmp.overall_p)} → "
            f"**{overall_verdict(cmp)}**.",
            frame_table(f"{cmp.model} vs {cmp.baseline}", per.assign(
                baseline=[mean_std(a, b) for a, b in _mean_std_pairs(summary, per, cmp.baseline)],
                model=[mean_std(a, b) for a, b in _mean_std_pairs(summary, per, cmp.model)])[
                ["dataset", "metric", "direction", "baseline", "model", "delta", "delta_pct", "n_pairs", "test",
                 "p", "verdict"]])]
        if cmp.notes:
            c_items.append(cmp.notes)
        sections.append(Section(f"Compare: {cmp.model} vs {cmp.baseline}", c_items))

    # Figures
    fig_notes: list[str] = []
    if figures:
        fig_items: list = []
        for d in sorted(summary["dataset"].unique()):
            fig_items.append(_save(figs.dataset_strip(sel.counted, summary, d), fig_dir, f"runs_{d}", written))
            for col, label, stem in (("train_time_s", "training time per run (s)", "vs_time"),
                                     ("num_params", "trainable parameters", "vs_params")):
                fig = figs.metric_vs(summary, d, col, label)
                if fig is not None:
                    fig_items.append(_save(fig, fig_dir, f"{stem}_{d}", written))
        if tests.friedman_done:
            fig, _ = figs.cd_diagram(tests)
            fig_items.insert(0, _save(fig, fig_dir, "cd_diagram", written))
        if storage:
            paths_opt, opt_notes = figs.optuna_figures(storage, fig_dir)
            written += paths_opt
            fig_items += [p for p in paths_opt if p.suffix == ".png"]
            fig_notes += opt_notes
        if fig_notes:
            fig_items.append(fig_notes)
        sections.append(Section("Figures", fig_items))

    # Runs not counted
    nc_items: list = []
    if not sel.not_ok.empty:
        nc = sel.not_ok[["dataset", "model", "split", "seed", "status", "error", "source"]].astype(str)
        nc_items.append(frame_table("Failed and pruned runs", nc.reset_index(drop=True)))
    if not miss_runs.empty:
        nc_items.append(frame_table("Missing runs (cells other models of the dataset ran)", miss_runs.astype(str)))
    if sel.superseded is not None and not sel.superseded.empty:
        sup = sel.superseded[["dataset", "model", "study", "split", "seed", "config_hash", "selection_trials"]]
        nc_items.append(frame_table("Superseded final runs (an earlier selection of the same study)",
                                    sup.astype(str).reset_index(drop=True)))
    others = ", ".join(f"{n} {k} row(s)" for k, n in sorted(sel.other_stages.items()))
    n_sup = 0 if sel.superseded is None else len(sel.superseded)
    nc_items.insert(0, f"Counted: {n_runs} ok row(s) of stage '{sel.stage}'. Not counted: {len(sel.not_ok)} "
                       f"failed/pruned row(s) of stage '{sel.stage}', {n_sup} superseded row(s)"
                       + (f", and {others} (search rows are selection trials: they never score the test part "
                          "and never enter a leaderboard)" if others else "") + "; "
                       + (f"{len(miss_runs)} missing cell(s) listed below." if not miss_runs.empty
                          else "no missing (split, seed) cells."))
    sections.append(Section("Runs not counted", nc_items))

    prov = provenance(df, paths, stage=sel.stage, alpha=alpha,
                      extra={"counted_runs": n_runs, "not_counted_runs": len(sel.not_ok),
                             "protocols": protocols, "optimistic_datasets": optimistic,
                             "superseded_runs": n_sup, "rows_not_counted_by_stage": sel.other_stages,
                             "optuna_storage": storage, "notes": notes + tests.notes + fig_notes})
    sections.append(Section("Provenance", [[line[2:] for line in provenance_markdown(prov).splitlines()]]))

    # Write everything
    md_path, tex_path, html_path = out / "report.md", out / "tables.tex", out / "index.html"
    md_path.write_text(render_markdown(title, sections, out), encoding="utf-8")
    tex = ["% graphbench leaderboard tables; needs \\usepackage{booktabs}", ""]
    for i, t in enumerate([*ds_tables, ov]):
        tex += [to_latex(t, label=f"tab:graphbench-{i}"), ""]
    tex_path.write_text("\n".join(tex), encoding="utf-8")
    html_path.write_text(render_html(title, sections, footer=f"Generated {prov['generated_at']} by graphbench "
                                     f"{prov['report_environment']['graphbench']}; opens offline."),
                         encoding="utf-8")
    summary_path, prov_path, stats_path = out / "summary.csv", out / "provenance.json", out / "stats.json"
    summary.to_csv(summary_path, index=False)
    prov_path.write_text(json.dumps(prov, indent=2, default=str), encoding="utf-8")
    stats_path.write_text(json.dumps(_stats_json(tests, cmp), indent=2, default=str), encoding="utf-8")
    written += [md_path, tex_path, html_path, summary_path, prov_path, stats_path]
    return ReportResult(out, html_path, md_path, tex_path, written, summary, sel.stage, notes + tests.notes)


GAP_TEXT = ("Our test mean ± std (ddof=1) beside the published value of the same model on the same dataset "
            "(`graphbench published`), the difference ours − paper, and whether it lies within the combined standard "
            "deviation sqrt(std_ours² + std_paper²). A row whose protocol (splits, model selection, preset) differs "
            "from the paper's says how; its difference is not a reproduction gap. The certainty of each published "
            "number is in brackets: paper-table, released-logs, quoted, or recalled (verify before citing).")


def _environment_warnings(counted: pd.DataFrame) -> list[str]:
    """Counted runs that come from several commits, dirty checkouts or library versions: said, not refused."""
    out = []
    commits = sorted(counted["git_commit"].fillna("(none)").unique())
    if len(commits) > 1:
        out.append(f"Counted runs come from {len(commits)} commits: {', '.join(c[:12] for c in commits)}.")
    dirty = int(counted["git_dirty"].fillna(False).astype(bool).sum())
    if dirty:
        out.append(f"{dirty} counted runs ran from a checkout with uncommitted changes (git_dirty).")
    for col in ("graphbench_version", "torch_version", "dgl_version", "device"):
        values = sorted(counted[col].dropna().unique())
        if len(values) > 1:
            out.append(f"Counted runs mix {col.replace('_', ' ')}s: {', '.join(values)}.")
    kernels = sorted({f"{c} kernels" + (f" (pinned {p})" if isinstance(p, str) and p else " (not pinned)")
                      for c, p in zip(counted["cpu_capability"].fillna("?"), counted["isa_pin"], strict=True)})
    if len(kernels) > 1:
        out.append(f"Counted runs used CPU kernels of several instruction sets: {', '.join(kernels)}; their last "
                   "bits differ, and training amplifies that as much as another seed does (pin with "
                   "--deterministic or isa: avx2).")
    return out


def _ledger_items(counted: pd.DataFrame, fig_dir: Path | None, written: list[Path]) -> list:
    """The project's reproduction ledger (graphbench/reproductions.csv) for this report's models and datasets:
    its table and, where rows have numbers, the figure of ours against the paper (y = x, outliers in red)."""
    from graphbench.reproduce.ledger import gap_plot, ledger_table, read_ledger

    ledger = read_ledger()
    rows = ledger[ledger["model"].isin(set(counted["model"])) & ledger["dataset"].isin(set(counted["dataset"]))]
    if rows.empty:
        return []
    items: list = ["Reproductions graphbench itself has run at the papers' full protocols (the ledger shipped with "
                   "the package, `graphbench/reproductions.csv`; `graphbench reproduce` re-runs a row): ours "
                   "against the paper's number, the gap, whether it lies within the combined std, the CPU hours.",
                   frame_table("Reproduction ledger", ledger_table(rows.reset_index(drop=True)))]
    fig = gap_plot(rows) if fig_dir is not None else None
    if fig is not None:
        items.append(_save(fig, fig_dir, "reproductions", written))
    return items


def _save(fig, fig_dir: Path, stem: str, written: list[Path]) -> Path:
    paths = figs.save(fig, fig_dir, figs._safe(stem))
    written += paths
    return paths[0]


def _mean_std_pairs(summary: pd.DataFrame, per: pd.DataFrame, entry: str):
    for d in per["dataset"]:
        r = summary[(summary["dataset"] == d) & (summary["entry"] == entry)].iloc[0]
        yield r.test_mean, r.test_std


def _pmatrix_table(title: str, p: pd.DataFrame) -> Table:
    return frame_table(title, p.reset_index(names="model"))


def _nan_to_none(x):
    return None if isinstance(x, float) and math.isnan(x) else x


def _stats_json(tests, cmp) -> dict:
    d = {"alpha": tests.alpha, "n_datasets": tests.n_datasets, "n_models": tests.n_models,
         "average_rank": tests.ranks.average.to_dict(), "wins": tests.ranks.wins.to_dict(),
         "dropped_for_missing_cells": tests.ranks.dropped,
         "friedman": {"statistic": _nan_to_none(tests.friedman_stat), "p": _nan_to_none(tests.friedman_p)},
         "nemenyi": None if tests.nemenyi_p is None else {
             "cd": tests.nemenyi_cd, "p": tests.nemenyi_p.to_dict(),
             "groups": [sorted(g) for g in tests.nemenyi_groups]},
         "wilcoxon_holm": None if tests.wilcoxon_holm_p is None else {
             "p": tests.wilcoxon_holm_p.to_dict(), "groups": [sorted(g) for g in tests.wilcoxon_groups]},
         "notes": tests.notes}
    if cmp is not None:
        d["compare"] = {"baseline": cmp.baseline, "model": cmp.model, "overall_p": _nan_to_none(cmp.overall_p),
                        "overall_verdict": overall_verdict(cmp),
                        "per_dataset": cmp.per_dataset.to_dict(orient="records"), "notes": cmp.notes}
    return d


# ------------------------------------------------------------------------------------------------ CLI leaderboard
def format_leaderboard(df: pd.DataFrame, *, stage: str = "final") -> str:
    """Compact Markdown leaderboard per dataset from a :func:`read_results` frame (for ``graphbench run``).

    Counts stage ``final`` rows, falling back to ``run`` rows; several configurations of a model are separate
    entries (``model@hash``). Never raises for empty or failed-only input: it says so instead.
    """
    try:
        sel = select_rows(df, stage=stage, configs="split")
    except ReportError as e:
        return f"(no leaderboard: {e})"
    summary = aggregate(sel.counted)
    out = []
    if summary.empty:
        out.append(f"(no successful runs; {len(sel.not_ok)} failed/pruned)")
    else:
        for t in dataset_tables(summary):
            out += [f"{t.title} — stage {sel.stage}, mean ± std (ddof={DDOF})", to_markdown(t), ""]
    if len(sel.not_ok):
        out.append(f"{len(sel.not_ok)} run(s) failed or pruned (not averaged): " + ", ".join(
            f"{r.dataset}/{r.model}/{r.split}/seed{r.seed}: {r.status}" for r in sel.not_ok.itertuples()))
    return "\n".join(out).rstrip() + "\n"
