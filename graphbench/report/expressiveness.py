"""Expressiveness rows (``stage == "expressiveness"``) as a table of models × pair categories.

One entry per (model, configuration): the configuration is the row's ``hparams`` (the model's hyperparameters and
the protocol's ``expr_*`` settings). When a model appears with several configurations, each entry's label names
the settings that differ (``gin (pe=rwse)`` / ``gin (pe=none)``). A cell is ``distinguished/pairs``; over several
seeds it is the range ``lo–hi/pairs``; ``†`` marks cells where a reliability check failed (BREC counts such a result
as unreliable); ``failed`` marks a model that raised (its error is listed under the table).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from graphbench.report.html import Section
from graphbench.report.tables import Table, frame_table

STAGE = "expressiveness"


def expressiveness_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The expressiveness rows of a typed results frame (``read_results`` / ``rows_frame``)."""
    if "stage" not in df.columns or "expr_category" not in df.columns:
        return df.iloc[0:0]
    return df[df["stage"] == STAGE]


def _labels(rows: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(model, hparams JSON) → display label naming the settings that differ between a model's configurations."""
    out = {}
    for model, group in rows.groupby("model", sort=False):
        configs = list(dict.fromkeys(group["hparams"].astype(str)))
        if len(configs) == 1:
            out[(model, configs[0])] = str(model)
            continue
        parsed = [json.loads(c) for c in configs]
        keys = sorted({k for p in parsed for k in p})
        differing = [k for k in keys if len({json.dumps(p.get(k), sort_keys=True) for p in parsed}) > 1]
        for text, p in zip(configs, parsed, strict=True):
            shown = ", ".join(f"{k.removeprefix('expr_')}={p.get(k)}" for k in differing)
            out[(model, text)] = f"{model} ({shown})"
    return out


def _columns(rows: pd.DataFrame) -> list[tuple[str, str]]:
    """(dataset, category) in order of first appearance."""
    return list(dict.fromkeys(zip(rows["dataset"].astype(str), rows["expr_category"].astype(str), strict=True)))


def _cell(cell_rows: pd.DataFrame) -> tuple[str, float | None]:
    ok = cell_rows[cell_rows["status"] == "ok"]
    if ok.empty:
        return ("failed" if len(cell_rows) else "–"), None
    d = ok["expr_distinguished"].astype(int)
    n = int(ok["expr_pairs"].max())
    text = f"{d.min()}/{n}" if d.min() == d.max() else f"{d.min()}–{d.max()}/{n}"
    if int(ok["expr_reliability_failures"].fillna(0).sum()) > 0:
        text += " †"
    return text, float(d.mean()) / max(n, 1)


def expressiveness_table(df: pd.DataFrame, *, title: str = "Expressiveness: pairs told apart") -> Table | None:
    """Models × (dataset, category) table of the expressiveness rows of ``df``; ``None`` when there are none."""
    from graphbench.report.tables import Cell

    rows = expressiveness_rows(df)
    if rows.empty:
        return None
    columns = _columns(rows)
    per_dataset: dict[str, list[str]] = {}
    for d, c in columns:
        per_dataset.setdefault(d, []).append(c)
    header = ["Model", "mode"]
    keys: list[tuple[str, str | None]] = []
    for d, cats in per_dataset.items():
        for c in cats:
            header.append(d if c == d else f"{d}: {c}")
            keys.append((d, c))
        if len(cats) > 1:
            header.append(f"{d}: all")
            keys.append((d, None))
    header += ["reliability fails", "seeds", "time (s)"]
    labels = _labels(rows)
    body = []
    for (model, hp), group in rows.groupby(["model", rows["hparams"].astype(str)], sort=False):
        mode = json.loads(hp).get("expr_mode", "")
        cells = [Cell(labels[(model, hp)], sort=labels[(model, hp)]), Cell(str(mode), sort=str(mode))]
        for d, c in keys:
            sel = group[group["dataset"] == d]
            if c is not None:
                text, sort = _cell(sel[sel["expr_category"] == c])
            else:  # a dataset's total: per seed, the sum over its categories
                ok = sel[sel["status"] == "ok"]
                if ok.empty or (sel["status"] != "ok").any():
                    text, sort = ("failed" if len(sel) else "–"), None
                else:
                    per_seed = ok.groupby("seed")[["expr_distinguished", "expr_pairs",
                                                   "expr_reliability_failures"]].sum().reset_index()
                    per_seed["status"] = "ok"
                    text, sort = _cell(per_seed)
            cells.append(Cell(text, sort=sort if sort is not None else ""))
        ok = group[group["status"] == "ok"]
        fails = int(ok["expr_reliability_failures"].fillna(0).sum())
        seeds = group["seed"].nunique()
        seconds = float(ok["total_time_s"].sum()) / max(seeds, 1)
        cells += [Cell(str(fails), sort=fails), Cell(str(seeds), sort=seeds), Cell(f"{seconds:.3g}", sort=seconds)]
        body.append(cells)
    caption = ("Pairs of non-isomorphic graphs the model tells apart (BREC's RPC: Hotelling's T² over relabellings, "
               "threshold in expr_threshold, with a reliability check on each pair). lo–hi = range over seeds; "
               "† = some reliability check failed (counts not trustworthy); time = seconds per seed over all "
               "categories. quick = untrained, float64; trained = BREC's siamese contrastive training per pair.")
    return Table(title, header, body, caption, [False, False, *[True] * (len(header) - 2)])


def expressiveness_section(df: pd.DataFrame) -> Section | None:
    """The report section for the expressiveness rows of ``df`` (table + failures); ``None`` when there are none."""
    table = expressiveness_table(df)
    if table is None:
        return None
    rows = expressiveness_rows(df)
    items: list = [table]
    failed = rows[rows["status"] != "ok"]
    if not failed.empty:
        items.append(frame_table("Expressiveness runs that failed", failed[
            ["dataset", "expr_category", "model", "seed", "error"]].astype(str).reset_index(drop=True)))
    thresholds = sorted(set(rows["expr_threshold"].dropna().round(2)))
    items.append(f"T² threshold(s): {', '.join(f'{t:g}' for t in thresholds)}. Rows with stage "
                 "**expressiveness** are never counted in leaderboards.")
    return Section("Expressiveness", items)


def write_expressiveness_report(df: pd.DataFrame, paths: list[Path], out_dir: str | Path, *,
                                title: str = "graphbench report"):
    """A report for results files that hold only expressiveness rows (``build_report`` delegates here)."""
    from graphbench.report.html import ReportResult, render_html, render_markdown
    from graphbench.report.provenance import provenance, provenance_markdown
    from graphbench.report.tables import to_latex

    section = expressiveness_section(df)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    alphas = {json.loads(h).get("expr_alpha") for h in expressiveness_rows(df)["hparams"].astype(str)}
    alpha = alphas.pop() if len(alphas) == 1 else float("nan")
    prov = provenance(df, paths, stage=STAGE, alpha=alpha, extra={"expressiveness_rows": len(df)})
    sections = [section, Section("Provenance", [[line[2:] for line in provenance_markdown(prov).splitlines()]])]
    md, tex, html, csv = out / "report.md", out / "tables.tex", out / "index.html", out / "expressiveness.csv"
    md.write_text(render_markdown(title, sections, out), encoding="utf-8")
    tex.write_text("% graphbench expressiveness table; needs \\usepackage{booktabs}\n\n"
                   + to_latex(section.items[0], label="tab:graphbench-expressiveness") + "\n", encoding="utf-8")
    html.write_text(render_html(title, sections, footer=f"Generated {prov['generated_at']} by graphbench."),
                    encoding="utf-8")
    expressiveness_rows(df).drop(columns=["source"], errors="ignore").to_csv(csv, index=False)
    return ReportResult(out, html, md, tex, [md, tex, html, csv], pd.DataFrame(), STAGE, [])
