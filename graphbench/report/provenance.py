"""What a report was built from: files (with sha256), commits, versions, hosts, CPUs and kernel instruction sets,
devices, run counts."""

from __future__ import annotations

import datetime as _dt
import platform
from importlib import metadata
from pathlib import Path

import pandas as pd

import graphbench
from graphbench.hashing import sha256_file
from graphbench.results.schema import SCHEMA_VERSION


def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def _counts(s: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in s.fillna("(empty)").value_counts().sort_index().items()}


def provenance(df: pd.DataFrame, paths: list[Path], *, stage: str, alpha: float, extra: dict | None = None) -> dict:
    """A JSON-able description of the inputs and of the environment that built the report."""
    files = []
    for p in paths:
        rows = df[df["source"] == str(p)]
        files.append({"path": str(p), "sha256": sha256_file(p), "rows": len(rows)})
    commits = df.assign(git_commit=df["git_commit"].fillna("(none)"), git_dirty=df["git_dirty"].fillna(False))
    commit_info = {str(c): {"rows": len(g), "dirty_rows": int(g["git_dirty"].astype(bool).sum())}
                   for c, g in commits.groupby("git_commit")}
    return {
        "generated_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "schema_version": SCHEMA_VERSION,
        "files": files,
        "rows": len(df),
        "rows_by_stage": _counts(df["stage"]),
        "rows_by_status": _counts(df["status"]),
        "stage_counted": stage,
        "git_commits": commit_info,
        "versions_in_results": {c: _counts(df[c]) for c in ("graphbench_version", "torch_version", "dgl_version",
                                                              "python_version")},
        "hosts": _counts(df["host"]),
        "cpu_models": _counts(df["cpu_model"].fillna("(not recorded)")),
        # the instruction set torch's kernels used, and the level pinned (empty: the CPU's own best)
        "cpu_capabilities": _counts(df["cpu_capability"].fillna("(not recorded)")),
        "isa_pins": _counts(df["isa_pin"].fillna("(none)")),
        "devices": _counts(df["device"]),
        "deterministic_rows": int(df["deterministic"].fillna(False).astype(bool).sum()),
        "runs_started": [str(df["started_at"].min()), str(df["ended_at"].max())] if len(df) else [],
        "definitions": {"std": "sample std, ddof=1 (as OGB)", "alpha": alpha,
                        "selection": "test metric at the best-validation epoch of each run, as recorded per row",
                        "ranks": "scipy.stats.rankdata(method='average') on losses, 1 = best"},
        "report_environment": {"graphbench": graphbench.__version__, "python": platform.python_version(),
                               **{p: _version(p) for p in ("pandas", "numpy", "scipy", "scikit-posthocs",
                                                           "matplotlib", "optuna")}},
        **(extra or {}),
    }


def provenance_markdown(prov: dict) -> str:
    lines = [f"- Generated {prov['generated_at']} by graphbench {prov['report_environment']['graphbench']} "
             f"(results schema v{prov['schema_version']}).",
             f"- Counted stage: **{prov['stage_counted']}**; rows by stage {prov['rows_by_stage']}, "
             f"by status {prov['rows_by_status']}.",
             ]
    lines += [f"- File `{f['path']}` ({f['rows']} rows, sha256 `{f['sha256'][:16]}…`)" for f in prov["files"]]
    commits = ", ".join(f"`{c[:12]}` ({v['rows']} rows" + (f", {v['dirty_rows']} dirty" if v["dirty_rows"] else "")
                        + ")" for c, v in prov["git_commits"].items())
    lines.append(f"- Commits: {commits}")
    for k, v in prov["versions_in_results"].items():
        lines.append(f"- {k.replace('_', ' ')}: {', '.join(f'{a} ({b})' for a, b in v.items())}")
    lines.append(f"- Hosts: {prov['hosts']}; devices: {prov['devices']}; "
                 f"deterministic rows: {prov['deterministic_rows']}/{prov['rows']}")
    if "cpu_models" in prov:
        lines.append(f"- CPUs: {prov['cpu_models']}; kernel instruction set used by torch: "
                     f"{prov['cpu_capabilities']}; instruction-set pin: {prov['isa_pins']} (rows repeat bit for bit "
                     "across machines only under the same pin, seed, threads and library versions)")
    if prov["runs_started"]:
        lines.append(f"- Runs between {prov['runs_started'][0]} and {prov['runs_started'][1]}")
    if prov.get("protocols"):
        lines.append("- Selection protocol per dataset: " + ", ".join(
            f"{d}: **{p}**" + (" (optimistic)" if d in prov.get("optimistic_datasets", []) else "")
            for d, p in prov["protocols"].items()))
    d = prov["definitions"]
    lines.append(f"- Definitions: std = {d['std']}; alpha = {d['alpha']}; selection = {d['selection']}; "
                 f"ranks = {d['ranks']}")
    env = prov["report_environment"]
    lines.append("- Report built with " + ", ".join(f"{k} {v}" for k, v in env.items()))
    return "\n".join(lines)
