"""The reproduction ledger: one row per (model, preset, dataset) that graphbench itself has reproduced.

The project's ledger ships with the package (``graphbench/reproductions.csv``, version :data:`LEDGER_VERSION`);
``graphbench reproduce`` appends its record to a ledger of the user's (``results/reproductions.csv`` by default),
whose rows are copied into the package's ledger when the project adopts them. A row records our mean ± std, the
paper's value, the gap and whether it lies within the combined std, every protocol difference, the command that
re-runs it, the commit, the machine (CPU model, torch's kernel ISA, threads) and the wall and CPU time. A row whose
status is ``not yet reproduced`` has no number: it records the planned protocol and its measured cost instead
(``cpu_hours`` is then the plan's upper bound from one measured epoch, or, for a preset that stops on its patience
alone, an estimate from one measured whole run, whose note says :data:`ESTIMATE_MARK`; ``graphbench reproduce
--record-plan``).

:func:`ledger_markdown` renders the docs page (``docs/reproductions.md``, kept in sync by a test) and
:func:`gap_figure` the figure a reader takes in at a glance: ours against the paper's number for every row, both
error bars, the line y = x, rows outside the combined std marked.
"""

from __future__ import annotations

import csv
import io
import math
import shlex
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from graphbench import atomic

LEDGER_VERSION = 1
COLUMNS = ("model", "preset", "dataset", "metric", "status", "ours_mean", "ours_std", "ours_runs", "paper_value",
           "paper_std", "paper_runs", "gap", "tolerance", "within", "configs_per_study", "grid_size",
           "protocol_differences", "command", "commit", "machine", "isa", "threads", "wall_hours", "cpu_hours",
           "date", "note")
STATUSES = ("reproduced", "partial", "not yet reproduced")
#: The words a "not yet reproduced" row's note carries when its cpu_hours come from one whole measured run.
ESTIMATE_MARK = "an estimate from one run, not a bound"
_NUMERIC = ("ours_mean", "ours_std", "ours_runs", "paper_value", "paper_std", "paper_runs", "gap", "tolerance",
            "configs_per_study", "grid_size", "threads", "wall_hours", "cpu_hours")


def read_ledger(path: str | Path | None = None) -> pd.DataFrame:
    """The ledger at ``path`` (default: the one shipped with the package), checked (:func:`check_ledger`)."""
    if path is None:
        text = resources.files("graphbench").joinpath("reproductions.csv").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    check_ledger(df, str(path or "graphbench/reproductions.csv"))
    for c in _NUMERIC:
        df[c] = pd.to_numeric(df[c].replace("", None), errors="raise")
    df["within"] = df["within"].map({"true": True, "false": False, "": None})
    return df


def check_ledger(df: pd.DataFrame, where: str = "ledger") -> None:
    """Refuse a malformed ledger: its columns, statuses, numbers, and a command that ``graphbench`` parses."""
    if tuple(df.columns) != COLUMNS:
        raise ValueError(f"{where}: columns {list(df.columns)}, expected {list(COLUMNS)}")
    for i, r in df.iterrows():
        row = f"{where} row {i + 2} ({r['model']}/{r['preset']}/{r['dataset']})"
        if r["status"] not in STATUSES:
            raise ValueError(f"{row}: status {r['status']!r} not in {STATUSES}")
        for c in _NUMERIC:
            if r[c] != "":
                try:
                    float(r[c])
                except ValueError:
                    raise ValueError(f"{row}: {c} {r[c]!r} is not a number") from None
        if r["within"] not in ("true", "false", ""):
            raise ValueError(f"{row}: within must be true, false or empty")
        if r["status"] != "not yet reproduced" and r["ours_mean"] == "":
            raise ValueError(f"{row}: a {r['status']} row needs ours_mean")
        if r["status"] == "not yet reproduced" and r["ours_mean"] != "":
            raise ValueError(f"{row}: a 'not yet reproduced' row has no number (ours_mean must be empty)")
        words = shlex.split(r["command"])
        if words[:2] != ["graphbench", "reproduce"]:
            raise ValueError(f"{row}: command must start with 'graphbench reproduce': {r['command']!r}")
    dup = df.duplicated(["model", "preset", "dataset"])
    if dup.any():
        raise ValueError(f"{where}: duplicate rows {df[dup][['model', 'preset', 'dataset']].values.tolist()}")


def _cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def write_row(path: str | Path, row: dict[str, Any]) -> None:
    """Add or replace the row of (model, preset, dataset) in the ledger at ``path`` (created with its header).

    The read, change and rewrite hold a lock on ``<ledger>.lock`` (``filelock``), so that reproductions finishing at
    once beside each other (several ``reproduce`` commands sharing one ledger) never drop each other's rows, and the
    new file is renamed over the old one (:func:`graphbench.atomic.write_text`), so that a crash never leaves half a
    ledger."""
    from filelock import FileLock

    path = Path(path)
    cells = {c: _cell(row.get(c)) for c in COLUMNS}
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        rows: list[dict[str, str]] = []
        if path.exists():
            with path.open(encoding="utf-8", newline="") as f:
                reader = csv.DictReader(f)
                if tuple(reader.fieldnames or ()) != COLUMNS:
                    raise ValueError(f"{path}: not a reproduction ledger of version {LEDGER_VERSION} (header "
                                     f"{reader.fieldnames}); write to another file with --ledger")
                rows = [r for r in reader if (r["model"], r["preset"], r["dataset"])
                        != (cells["model"], cells["preset"], cells["dataset"])]
        rows.append(cells)
        check_ledger(pd.DataFrame(rows, columns=list(COLUMNS)).fillna(""), str(path))
        text = io.StringIO()
        w = csv.DictWriter(text, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        atomic.write_text(path, text.getvalue())


def _fmt(v: float, digits: int = 3) -> str:
    return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def ledger_table(df: pd.DataFrame) -> pd.DataFrame:
    """The ledger as display strings: model, preset, dataset, ours, paper, gap, within std, CPU hours, status."""
    def pm(m, s):
        return "" if pd.isna(m) else _fmt(m) + ("" if pd.isna(s) else f" ± {_fmt(s)}")

    within = df["within"].map({True: "yes", False: "**no**", None: "n/a"}).fillna("n/a")
    return pd.DataFrame({
        "model": df["model"], "preset": df["preset"], "dataset": df["dataset"],
        "ours": [pm(m, s) + ("" if pd.isna(n) else f" (n={int(n)})")
                 for m, s, n in zip(df["ours_mean"], df["ours_std"], df["ours_runs"])],
        "paper": [pm(m, s) or "not read" for m, s in zip(df["paper_value"], df["paper_std"])],
        "gap": [("" if pd.isna(g) else ("+" if g >= 0 else "") + _fmt(g)) for g in df["gap"]],
        "within std": [w if st != "not yet reproduced" and not pd.isna(p) else ""
                       for w, st, p in zip(within, df["status"], df["paper_value"])],
        "CPU hours": [(("≈ " if ESTIMATE_MARK in note else "≤ ") if st == "not yet reproduced" and not pd.isna(h)
                       else "") + ("< 0.01" if 0 < h < 0.005 else _fmt(h, 2))
                      for h, st, note in zip(df["cpu_hours"], df["status"], df["note"])],
        "status": df["status"],
    })


def ledger_markdown(df: pd.DataFrame | None = None, figure: str | None = "reproductions.png") -> str:
    """The docs page of the ledger (``docs/reproductions.md``)."""
    df = read_ledger() if df is None else df
    df = df.sort_values(["model", "preset", "dataset"], kind="stable").reset_index(drop=True)  # one family together
    t = ledger_table(df)
    lines = ["# Reproductions graphbench has run", "",
             "<!-- generated by graphbench.reproduce.ledger.ledger_markdown(); a test keeps it in sync -->", "",
             "Each row re-ran a paper's table row at its full protocol with `graphbench reproduce` (the command "
             "is in the ledger, `graphbench/reproductions.csv`), and is reported whatever the result. *within std*: "
             "|ours − paper| ≤ √(std_ours² + std_paper²). Rows marked *not yet reproduced* carry the planned "
             "protocol and its measured cost, not a number. *paper: not read*: the paper reports the row but its table "
             "could not be read here (`graphbench published`, certainty `unread`); ours is recorded alone, with "
             "no gap, until the number is read.", ""]
    if figure and (df["status"] != "not yet reproduced").any():
        lines += [f"![ours against the paper's number]({figure})", ""]
    if t.empty:
        lines.append("No reproduction has been recorded yet.")
    else:
        lines.append("| " + " | ".join(t.columns) + " |")
        lines.append("|" + "---|" * len(t.columns))
        for r in t.itertuples(index=False):
            lines.append("| " + " | ".join(str(x) for x in r) + " |")
        lines += ["", "## Protocol differences and commands", ""]
        for r in df.itertuples(index=False):
            lines.append(f"- **{r.model} / {r.preset} / {r.dataset}** ({r.status}): `{r.command}`. "
                         f"{r.protocol_differences or 'No protocol difference.'}"
                         + (f" Machine: {r.machine}, ISA {r.isa}, {int(r.threads)} thread(s), commit "
                            f"{r.commit[:10]}." if r.machine else "") + (f" {r.note}" if r.note else ""))
    return "\n".join(lines) + "\n"


def _label_slot(x: float, y: float, width: float, line: float, bounds: tuple[float, float],
                placed: list[tuple[float, float, float]]) -> tuple[bool, int]:
    """The first free slot ``(leftwards, lines down)`` for a label of ``width`` at point ``(x, y)``: beside the point
    (to the right, else to the left), then one ``line`` lower each time; free when the label stays within ``bounds``
    and meets none of the ``placed`` boxes ``(left, right, baseline)``. The chosen box is appended to ``placed``."""
    def box(leftwards: bool, k: int) -> tuple[float, float, float]:
        a = x - width if leftwards else x
        return a, a + width, y - k * line

    def free(leftwards: bool, k: int) -> bool:
        a, b, base = box(leftwards, k)
        return bounds[0] <= a and b <= bounds[1] and not any(
            x0 < b and a < x1 and abs(y0 - base) < line for x0, x1, y0 in placed)

    slots = [(leftwards, k) for k in range(len(placed) + 1) for leftwards in (False, True)]
    slot = next((s for s in slots if free(*s)), (x > (bounds[0] + bounds[1]) / 2, 0))
    placed.append(box(*slot))
    return slot


def gap_plot(df: pd.DataFrame):
    """Ours against the paper's number for every row of ``df`` that has a number: both error bars, the line y = x,
    rows outside the combined std in red (a headless ``matplotlib.figure.Figure``); ``None`` when no row has one."""
    from matplotlib.figure import Figure

    d = df[df["status"] != "not yet reproduced"].dropna(subset=["ours_mean", "paper_value"])
    if d.empty:
        return None
    fig = Figure(figsize=(5.2, 5.0))
    ax = fig.add_subplot()
    lo = float(min(d["paper_value"].min(), d["ours_mean"].min()))
    hi = float(max(d["paper_value"].max(), d["ours_mean"].max()))
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.6", lw=1, ls="--", label="y = x")
    outside = d["within"].map(lambda w: w is False)
    for mask, colour, label in ((~outside, "tab:blue", "within combined std"),
                                (outside, "tab:red", "outside combined std")):
        part = d[mask]
        if part.empty:
            continue
        ax.errorbar(part["paper_value"], part["ours_mean"], xerr=part["paper_std"].fillna(0),
                    yerr=part["ours_std"].fillna(0), fmt="o", color=colour, ms=5, capsize=3, label=label)
    # labels are placed one by one, each at the first free slot: beside its point (to the right, else to the left),
    # then one line lower each time; a slot is free when the label stays inside the axes and its box meets no label
    # placed before. Boxes are estimated in data units from the text's length (a fontsize-7 character ≈ 1.35 % of
    # the axis, a line ≈ 3.1 %).
    span = hi - lo or 1.0
    char, line = 0.0135 * span, 0.031 * span
    placed: list[tuple[float, float, float]] = []  # (left, right, baseline) of every label so far
    for r in d.sort_values(["ours_mean", "paper_value"], ascending=False).itertuples():
        text = f"{r.model} {r.preset}" + ("" if str(r.preset).endswith(str(r.dataset)) else f"/{r.dataset}")
        leftwards, k = _label_slot(r.paper_value, r.ours_mean, char * len(text), line, (lo - pad, hi + pad), placed)
        ax.annotate(text, (r.paper_value, r.ours_mean), fontsize=7, xytext=(-4 if leftwards else 4, 4 - 9 * k),
                    textcoords="offset points", ha="right" if leftwards else "left")
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("paper (mean ± std)")
    ax.set_ylabel("graphbench (mean ± std)")
    ax.set_title("Reproductions: ours against the paper")
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def gap_figure(df: pd.DataFrame, path: str | Path) -> Path | None:
    """:func:`gap_plot` saved as a PNG at ``path`` (the docs page's figure); ``None`` when no row has a number."""
    fig = gap_plot(df)
    if fig is None:
        return None
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    return path


def reproduced_lookup(df: pd.DataFrame | None = None) -> dict[tuple[str, str, str], str]:
    """``(model, preset, dataset) -> "ours mean ± std (gap, within/outside std)"`` for ``graphbench published``."""
    df = read_ledger() if df is None else df
    out = {}
    for r in df.itertuples(index=False):
        if r.status == "not yet reproduced":
            text = f"not yet ({_fmt(r.cpu_hours, 1)} CPU-h planned)" if not pd.isna(r.cpu_hours) else "not yet"
        else:
            text = f"{_fmt(r.ours_mean)}" + ("" if pd.isna(r.ours_std) else f" ± {_fmt(r.ours_std)}")
            if pd.isna(r.paper_value):
                text += " (paper's number not read)"
            else:
                verdict = {True: "within std", False: "OUTSIDE std", None: "no std"}[r.within]
                text += f" ({'+' if r.gap >= 0 else ''}{_fmt(r.gap)}, {verdict})"
            if r.status == "partial":
                text += " partial"
        out[(r.model, r.preset, r.dataset)] = text
    return out


def write_docs(docs_dir: str | Path = "docs") -> list[Path]:
    """Regenerate the ledger's docs page (``reproductions.md``) and its figure (``reproductions.png``) from the
    shipped ledger."""
    docs_dir = Path(docs_dir)
    df = read_ledger()
    written = [docs_dir / "reproductions.md"]
    written[0].write_text(ledger_markdown(df), encoding="utf-8")
    png = gap_figure(df, docs_dir / "reproductions.png")
    return written + ([png] if png else [])


if __name__ == "__main__":  # python -m graphbench.reproduce.ledger [DOCS_DIR]
    import sys

    for p in write_docs(sys.argv[1] if len(sys.argv) > 1 else "docs"):
        print("wrote", p)
