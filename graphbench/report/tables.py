"""Leaderboard tables in Markdown (READMEs), LaTeX booktabs (papers) and HTML (the report page).

Tables are built once as :class:`Table` (cells with their text, a best/second mark and a sort key) and rendered
three ways, so the formats cannot disagree. Best is **bold**, second is underlined, by the metric's direction.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

import pandas as pd

from graphbench.report.aggregate import place_marks
from graphbench.report.protocol import OPTIMISTIC


@dataclass
class Cell:
    text: str
    mark: int = 0  # 1 best, 2 second
    sort: float | str | None = None


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list[Cell]]
    caption: str = ""
    numeric: list[bool] = field(default_factory=list)


def fmt(x, digits: int = 4) -> str:
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    x = float(x)
    if x != 0 and (abs(x) >= 1e5 or abs(x) < 10 ** -(digits - 1)):
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}f}"


def mean_std(mean, std, digits: int = 4) -> str:
    if isinstance(std, float) and math.isnan(std):
        return fmt(mean, digits)
    return f"{fmt(mean, digits)} ± {fmt(std, digits)}"


def fmt_params(n) -> str:
    if n is None or n is pd.NA:
        return "n/a"
    n = int(n)
    return f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n / 1e3:.1f}k" if n >= 1000 else str(n)


def fmt_time(s) -> str:
    if s is None or (isinstance(s, float) and math.isnan(s)):
        return "n/a"
    return f"{s:.3g}"


def _nan_sort(x) -> float:
    return float("nan") if x is None or x is pd.NA else float(x)


def dataset_tables(summary: pd.DataFrame, *, digits: int = 4, flags: set[tuple[str, str]] = frozenset()
                   ) -> list[Table]:
    """One table per dataset, sorted best first; ``flags`` marks (dataset, entry) with fewer runs (†)."""
    marks = place_marks(summary)
    tables = []
    for dataset, g in summary.assign(mark_=marks).groupby("dataset", sort=True):
        direction = g["direction"].iloc[0]
        g = g.sort_values("test_mean", ascending=(direction == "min"), kind="stable")
        arrow = "↑" if direction == "max" else "↓"
        metric = g["metric"].iloc[0]
        rows = []
        for place, r in enumerate(g.itertuples(), start=1):
            name = r.entry + (" †" if (dataset, r.entry) in flags else "")
            rows.append([Cell(str(place), sort=place), Cell(name, sort=r.entry),
                         Cell(mean_std(r.test_mean, r.test_std, digits), r.mark_, r.test_mean),
                         Cell(mean_std(r.val_mean, r.val_std, digits), 0, r.val_mean),
                         Cell(str(r.n_runs), sort=r.n_runs),
                         Cell(fmt_params(r.num_params), sort=_nan_sort(r.num_params)),
                         Cell(fmt_time(r.time_per_epoch_s), sort=r.time_per_epoch_s),
                         Cell(fmt_time(r.total_time_s), sort=r.total_time_s)])
        protocol = ",".join(sorted(set(",".join(g["protocol"].astype(str)).split(",")))) \
            if "protocol" in g else ""
        optimistic = any(p in OPTIMISTIC for p in protocol.split(","))
        proto_note = (f" Protocol: {protocol}." if protocol else "") + (
            " OPTIMISTIC: one configuration was selected on validation graphs that are other folds' test graphs "
            "and re-run on every fold (select-once); not comparable to per-fold selection (Errica et al.)."
            if optimistic else "")
        tables.append(Table(
            title=f"{dataset} ({metric} {arrow})" + (" — optimistic protocol (select-once)" if optimistic else ""),
            header=["#", "Model", f"Test {metric}", f"Val {metric}", "Runs", "Params", "Time/epoch (s)",
                    "Time/run (s)"],
            rows=rows, numeric=[True, False, True, True, True, True, True, True],
            caption=f"{dataset}: mean ± std (ddof=1) over runs (seeds × folds); {metric}, "
                    f"{'higher' if direction == 'max' else 'lower'} is better. Best in bold, second underlined."
                    + (" † fewer runs than the best-covered model." if any((dataset, e) in flags for e in g["entry"])
                       else "") + proto_note))
    return tables


def overall_table(summary: pd.DataFrame, avg_rank: pd.Series, wins: pd.Series, *, digits: int = 4) -> Table:
    """Entries × datasets (test mean ± std) with average rank and wins; best per column marked."""
    marks = place_marks(summary)
    s = summary.assign(mark_=marks)
    datasets = sorted(s["dataset"].unique())
    entries = list(avg_rank.index) + sorted(set(s["entry"]) - set(avg_rank.index))
    heads = []
    for d in datasets:
        g = s[s["dataset"] == d]
        heads.append(f"{d} ({g['metric'].iloc[0]} {'↑' if g['direction'].iloc[0] == 'max' else '↓'})")
    rank_marks = {}
    if len(avg_rank):
        distinct = sorted(set(avg_rank.round(10)))
        for e, v in avg_rank.items():
            rank_marks[e] = 1 if round(v, 10) == distinct[0] else 2 if len(distinct) > 1 and round(v, 10) == \
                distinct[1] else 0
    rows = []
    for e in entries:
        row = [Cell(e, sort=e)]
        for d in datasets:
            hit = s[(s["dataset"] == d) & (s["entry"] == e)]
            if hit.empty:
                row.append(Cell("—", sort=None))
            else:
                r = hit.iloc[0]
                row.append(Cell(mean_std(r.test_mean, r.test_std, digits), int(r.mark_), float(r.test_mean)))
        if e in avg_rank.index:
            row += [Cell(f"{avg_rank[e]:.2f}", rank_marks.get(e, 0), float(avg_rank[e])),
                    Cell(str(int(wins[e])), sort=int(wins[e]))]
        else:
            row += [Cell("n/a (missing cells)", sort=None), Cell("—", sort=None)]
        rows.append(row)
    optimistic = sorted(d for d in datasets if "protocol" in s and any(
        p in OPTIMISTIC for p in ",".join(s[s["dataset"] == d]["protocol"].astype(str)).split(",")))
    flag = (f" OPTIMISTIC protocol (select-once) on {', '.join(optimistic)}: one configuration selected on "
            "validation graphs that are other folds' test graphs." if optimistic else "")
    return Table("Overall" + (" — includes optimistic protocol (select-once)" if optimistic else ""),
                 ["Model", *heads, "Avg. rank ↓", "Wins"], rows,
                 caption="Test mean ± std per dataset; average rank across datasets (1 = best, ties averaged); wins = "
                         "datasets where the model is first. Best in bold, second underlined." + flag,
                 numeric=[False, *[True] * len(datasets), True, True])


def frame_table(title: str, df: pd.DataFrame, caption: str = "") -> Table:
    """A plain table from a DataFrame (missing runs, failures, comparisons): no marks."""
    rows = []
    numeric = [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]
    for r in df.itertuples(index=False):
        cells = []
        for v in r:
            if isinstance(v, float):
                cells.append(Cell(fmt(v), sort=v))
            else:
                cells.append(Cell("" if v is None or v is pd.NA else str(v), sort=str(v)))
        rows.append(cells)
    return Table(title, [str(c) for c in df.columns], rows, caption, numeric)


# ------------------------------------------------------------------------------------------------------ renderers
def _md_escape(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(t: Table) -> str:
    def cell(c: Cell) -> str:
        s = _md_escape(c.text)
        return f"**{s}**" if c.mark == 1 else f"<u>{s}</u>" if c.mark == 2 else s

    align = ["---:" if (t.numeric and i < len(t.numeric) and t.numeric[i]) else ":---" for i in range(len(t.header))]
    lines = ["| " + " | ".join(_md_escape(h) for h in t.header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in t.rows]
    return "\n".join(lines)


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_LATEX_UNICODE = {"±": r"$\pm$", "↑": r"$\uparrow$", "↓": r"$\downarrow$", "—": "--", "†": r"$^\dagger$",
                  "–": "--", "×": r"$\times$"}


def latex_escape(text: str) -> str:
    out = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    for k, v in _LATEX_UNICODE.items():
        out = out.replace(k, v)
    return out


def to_latex(t: Table, label: str = "") -> str:
    """A booktabs table (needs ``\\usepackage{booktabs}``)."""
    def cell(c: Cell) -> str:
        s = latex_escape(c.text)
        return rf"\textbf{{{s}}}" if c.mark == 1 else rf"\underline{{{s}}}" if c.mark == 2 else s

    cols = "".join("r" if (t.numeric and i < len(t.numeric) and t.numeric[i]) else "l" for i in range(len(t.header)))
    lines = [r"\begin{table}[t]", r"\centering", r"\small"]
    if t.caption:
        lines.append(rf"\caption{{{latex_escape(t.caption)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{cols}}}", r"\toprule", " & ".join(latex_escape(h) for h in t.header) + r" \\",
              r"\midrule"]
    lines += [" & ".join(cell(c) for c in row) + r" \\" for row in t.rows]
    lines += [r"\bottomrule", r"\end{tabular}", r"\end{table}"]
    return "\n".join(lines)


def to_html(t: Table, table_id: str = "") -> str:
    """A sortable HTML table: clicking a header sorts by the cells' ``data-sort`` keys (see html.py's script)."""
    def cell(c: Cell, i: int) -> str:
        s = html.escape(c.text)
        s = f"<strong>{s}</strong>" if c.mark == 1 else f"<u>{s}</u>" if c.mark == 2 else s
        key = c.sort
        if key is None or (isinstance(key, float) and math.isnan(key)):
            attr = ' data-sort=""'
        else:
            attr = f' data-sort="{html.escape(str(key))}"'
        left = "" if (i < len(t.numeric) and t.numeric[i]) else ' class="l"'
        return f"<td{attr}{left}>{s}</td>"

    idattr = f' id="{html.escape(table_id)}"' if table_id else ""
    head = "".join(f'<th scope="col" title="click to sort">{html.escape(h)}</th>' for h in t.header)
    body = "\n".join("<tr>" + "".join(cell(c, i) for i, c in enumerate(row)) + "</tr>" for row in t.rows)
    cap = f"<caption>{html.escape(t.caption)}</caption>" if t.caption else ""
    return (f'<table class="sortable"{idattr}>{cap}<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>'
            f"</table>")
