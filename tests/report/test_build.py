from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from graphbench.report import build_report
from graphbench.report.cli import main
from tests.report.fixtures import make_row, write

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """4 datasets × 4 models × 3 seeds, one failed run, one model with fewer seeds on one dataset."""
    rng = np.random.default_rng(0)
    rows = []
    quality = {"gin": 0.80, "gcn": 0.75, "sage": 0.74, "mlp": 0.60}
    for d in ("ds_a", "ds_b", "ds_c", "ds_d"):
        mae = d == "ds_d"
        for m, q in quality.items():
            for seed in range(3):
                if d == "ds_c" and m == "sage" and seed == 2:
                    continue  # fewer seeds
                v = q + rng.normal(0, 0.01)
                rows.append(make_row(d, m, 1 - v if mae else v, seed=seed, metric="mae" if mae else "accuracy",
                                     direction="min" if mae else "max", num_params=int(1e4 * (q * 10 - 5)),
                                     time_per_epoch_s=q))
    rows.append(make_row("ds_a", "gcn", None, seed=3, status="failed"))
    return write(tmp_path_factory.mktemp("res") / "results.csv", rows)


@pytest.fixture(scope="module")
def journal(tmp_path_factory) -> str:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = tmp_path_factory.mktemp("optuna") / "journal.log"
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    study = optuna.create_study(study_name="gin/ds_a", storage=storage, direction="maximize",
                                sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: -(t.suggest_float("lr", 1e-4, 1e-1, log=True) - 0.01) ** 2
                   + 0.1 * t.suggest_int("layers", 1, 4), n_trials=8)
    return str(path)


@pytest.fixture(scope="module")
def report(results, journal, tmp_path_factory):
    return build_report([results], tmp_path_factory.mktemp("rep") / "out", baseline="gcn", model="gin",
                        storage=journal)


def test_report_writes_every_format_and_nonempty_figures(report):
    for p in report.paths:
        assert p.exists() and p.stat().st_size > 0, p
    names = {p.name for p in report.paths}
    for stem in ("cd_diagram", "runs_ds_a", "vs_time_ds_a", "vs_params_ds_d", "optuna_history_gin_ds_a",
                 "optuna_importance_gin_ds_a"):
        assert {f"{stem}.png", f"{stem}.pdf"} <= names, stem
    png = report.out_dir / "figures" / "cd_diagram.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (report.out_dir / "figures" / "cd_diagram.pdf").read_bytes()[:5] == b"%PDF-"


def test_report_states_provenance_failures_and_flags(report, results):
    md = report.markdown.read_text()
    assert "## Provenance" in md and str(results) in md and "abc123def456" in md and "torch version: 2.13.0" in md
    assert "ddof=1" in md
    assert f"| ds_a | gcn | fold0 | 3 | failed | CUDA OOM | {results} |" in md
    assert "| ds_c | sage | fold0 | 2 | missing |" in md
    assert "**sage** has 2 runs, fewer than the 3" in md and "sage †" in md
    prov = json.loads((report.out_dir / "provenance.json").read_text())
    assert prov["counted_runs"] == 47 and prov["not_counted_runs"] == 1 and prov["files"][0]["sha256"]


def test_report_compare_and_statistics(report):
    st = json.loads((report.out_dir / "stats.json").read_text())
    assert st["average_rank"]["gin"] == 1.0 and st["average_rank"]["mlp"] == 4.0
    assert st["friedman"]["p"] < 0.05 and st["nemenyi"]["cd"] > 0
    per = {r["dataset"]: r for r in st["compare"]["per_dataset"]}
    assert per["ds_d"]["delta"] < 0 and per["ds_d"]["direction"] == "min"  # lower MAE for gin
    # seeds on one split share its test set: no per-dataset test (issue 9); across datasets only
    assert {r["test"] for r in per.values()} == {"none (one split: its seeds share one test set)"}
    assert "cannot reach p < 0.05" in " ".join(st["compare"]["notes"])  # 3 pairs and 4 datasets: said plainly
    tex = report.latex.read_text()
    assert tex.count(r"\begin{tabular}") == 5 and r"\toprule" in tex


def test_html_is_self_contained(report):
    page = report.html.read_text()
    assert "data:image/png;base64," in page and "<script>" in page and 'class="sortable"' in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)


def test_cli_subprocess(results, tmp_path):
    out = tmp_path / "cli_out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "graphbench.report.cli", str(results), "--out", str(out),
                        "--no-figures", "--baseline", "gcn", "--model", "gin"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert f"report written: {out / 'index.html'}" in r.stdout and (out / "index.html").exists()
    r = subprocess.run([sys.executable, "-m", "graphbench.report.cli", "report", str(results), "--out",
                        str(out), "--baseline", "gcn", "--model", "nosuch", "--no-figures"],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert r.returncode == 2 and "'nosuch' is not an entry" in r.stderr


def test_register_adds_report_subcommand(results, tmp_path):
    import argparse

    from graphbench.report.cli import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="cmd"))
    args = parser.parse_args(["report", str(results), "--out", str(tmp_path / "o"), "--no-figures", "--alpha", "0.1"])
    assert args.alpha == 0.1 and args.func(args) == 0
    assert main([str(results), "--out", str(tmp_path / "o2"), "--no-figures", "--stage", "search"]) == 2


def test_report_with_too_few_models_says_so(tmp_path):
    rows = [make_row("A", m, v, seed=s) for m, v in (("a", 0.5), ("b", 0.6)) for s in range(2)]
    res = build_report([write(tmp_path / "r.csv", rows)], tmp_path / "o", figures=True)
    assert "Friedman/Nemenyi not run" in res.markdown.read_text()
    assert not (tmp_path / "o" / "figures" / "cd_diagram.png").exists()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"),
                                    reason="chromium not on PATH (apt-get install chromium); required when $CI is set")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    assert CHROMIUM, "in CI chromium must be installed (Debian package 'chromium')"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000",
           "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90)


def _console_lines(stderr: str) -> list[str]:
    """Every console message (log, warning, error, uncaught exception): the report page must log nothing."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


@needs_chromium
def test_console_detector_catches_page_errors(tmp_path):
    bad = tmp_path / "bad.html"
    bad.write_text('<html><body><script>console.error("boom"); notDefined();</script></body></html>')
    lines = _console_lines(_chromium(tmp_path, "--dump-dom", bad.as_uri()).stderr)
    assert any("boom" in ln for ln in lines) and any("Uncaught ReferenceError" in ln for ln in lines)


@needs_chromium
def test_html_renders_in_headless_chromium(report, tmp_path):
    url = report.html.as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    n_tables = len(re.findall(r'<table class="sortable"', report.html.read_text()))
    # the page's script ran (it stamps the count of sortable tables it wired) and the tables are in the DOM
    assert n_tables >= 6 and f'data-tables-ready="{n_tables}"' in dom.stdout
    assert dom.stdout.count("<table") == n_tables and "<td" in dom.stdout
    assert not _console_lines(dom.stderr), _console_lines(dom.stderr)
    shot = report.out_dir / "screenshot.png"
    r = _chromium(tmp_path, f"--screenshot={shot}", url)
    assert r.returncode == 0 and shot.exists() and shot.stat().st_size > 10_000, r.stderr[-2000:]
    assert shot.read_bytes()[:4] == b"\x89PNG"


def test_pareto_front_is_direction_aware():
    from graphbench.report.figures import pareto_front

    cost = np.array([1.0, 2.0, 3.0, 4.0])
    loss = np.array([0.5, 0.6, 0.3, 0.3])  # (2, 0.6) is dominated by (1, 0.5); (4, 0.3) by (3, 0.3)
    assert pareto_front(cost, loss).tolist() == [0, 2]
    from graphbench.report.aggregate import better_key

    acc = np.array([0.5, 0.4, 0.7, 0.7])  # higher is better: same front through better_key
    assert pareto_front(cost, better_key(acc, "max")).tolist() == [0, 2]


def test_mixed_commits_and_versions_are_warned(tmp_path):
    rows = [make_row("A", m, v, seed=s, git_commit=c, torch_version=tv)
            for m, v, c, tv in (("a", 0.5, "1111111111111", "2.13.0"), ("b", 0.6, "2222222222222", "2.12.0"))
            for s in range(2)]
    md = build_report([write(tmp_path / "r.csv", rows)], tmp_path / "o", figures=False).markdown.read_text()
    assert "Counted runs come from 2 commits" in md and "mix torch versions: 2.12.0, 2.13.0" in md
