"""The self-contained report page: inline CSS and JS, figures embedded as base64 PNG, no external URL.

Clicking a column header sorts the table by the cells' ``data-sort`` keys (numbers numerically, empty keys last).
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graphbench.report.tables import Table, to_html, to_markdown

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class ReportResult:
    """What a report build wrote: its folder, the three documents, every file, the summary table and notes."""

    out_dir: Path
    html: Path
    markdown: Path
    latex: Path
    paths: list[Path]  # every file written
    summary: pd.DataFrame
    stage: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Section:
    """A report section; items are str (a paragraph, Markdown-light), Table, Path (a PNG figure) or list[str]."""

    title: str
    items: list = field(default_factory=list)
    level: int = 2


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1200px;color:#222;
padding:0 1em;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:1em 0;font-size:.9em}caption{caption-side:bottom;text-align:left;color:#555;
font-size:.85em;padding-top:.4em}th,td{padding:.3em .7em;border-bottom:1px solid #e4e4e4;text-align:right}
td.l,th:first-child{text-align:left}thead th{border-bottom:2px solid #333;cursor:pointer;user-select:none}
thead th.asc::after{content:" \\25B2"}thead th.desc::after{content:" \\25BC"}tbody tr:hover{background:#f6f8fa}
img{max-width:100%;border:1px solid #eee;margin:.5em 0}.notes li{color:#8a4b00}
code{background:#f3f3f3;padding:0 .25em;border-radius:3px}footer{margin-top:3em;color:#666;font-size:.85em}
"""

JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener('click', function () {
      var asc = !th.classList.contains('asc');
      Array.prototype.forEach.call(heads, function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(asc ? 'asc' : 'desc');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-sort'), y = b.cells[col].getAttribute('data-sort');
        if (x === '' || x === null) return 1;
        if (y === '' || y === null) return -1;
        var nx = parseFloat(x), ny = parseFloat(y), c;
        if (!isNaN(nx) && !isNaN(ny) && isFinite(x) && isFinite(y)) c = nx - ny; else c = x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.body.setAttribute('data-tables-ready', String(document.querySelectorAll('table.sortable').length));
"""


def _inline(text: str) -> str:
    """Escape, then render `code` and **bold** spans (the only Markdown the report's paragraphs use)."""
    import re

    s = html.escape(text)
    s = re.sub(r"`([^`]+)`", r"<code>\1</code>", s)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", s)


def render_html(title: str, sections: list[Section], footer: str = "") -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]
    n_table = 0
    for sec in sections:
        parts.append(f"<h{sec.level}>{html.escape(sec.title)}</h{sec.level}>")
        for item in sec.items:
            if isinstance(item, Table):
                n_table += 1
                if item.title and item.title != sec.title:
                    parts.append(f"<h{sec.level + 1}>{html.escape(item.title)}</h{sec.level + 1}>")
                parts.append(to_html(item, f"table-{n_table}"))
            elif isinstance(item, Path):
                data = base64.b64encode(item.read_bytes()).decode("ascii")
                parts.append(f'<figure><img alt="{html.escape(item.stem)}" src="data:image/png;base64,{data}">'
                             f"<figcaption>{html.escape(item.stem)} (PDF beside the PNG in figures/)</figcaption>"
                             "</figure>")
            elif isinstance(item, list):
                parts.append('<ul class="notes">' + "".join(f"<li>{_inline(x)}</li>" for x in item) + "</ul>")
            else:
                parts.append(f"<p>{_inline(str(item))}</p>")
    if footer:
        parts.append(f"<footer>{_inline(footer)}</footer>")
    parts.append(f"<script>{JS}</script></body></html>")
    return "\n".join(parts)


def render_markdown(title: str, sections: list[Section], base: Path) -> str:
    out = [f"# {title}", ""]
    for sec in sections:
        out += ["#" * sec.level + " " + sec.title, ""]
        for item in sec.items:
            if isinstance(item, Table):
                if item.title and item.title != sec.title:
                    out += ["#" * (sec.level + 1) + " " + item.title, ""]
                out += [to_markdown(item), ""]
                if item.caption:
                    out += [f"*{item.caption}*", ""]
            elif isinstance(item, Path):
                rel = item.relative_to(base) if item.is_relative_to(base) else item
                out += [f"![{item.stem}]({rel.as_posix()})", ""]
            elif isinstance(item, list):
                out += [f"- {x}" for x in item] + [""]
            else:
                out += [str(item), ""]
    return "\n".join(out)
