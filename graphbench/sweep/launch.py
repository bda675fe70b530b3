"""Run a sweep file: validate it, check storage and datasets, start the workers, show progress, summarise.

``run_sweep`` is what ``graphbench sweep FILE`` calls; ``plan`` is ``--dry-run``. With ``workers > 1`` the workers
are separate processes (``python -m graphbench.sweep.cli FILE --worker I``) sharing the storage and the results
CSV; each gets ``cores // workers`` torch threads and dies with its parent (``PR_SET_PDEATHSIG``), so a killed
sweep leaves no orphan training.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graphbench.registry import DATASETS
from graphbench.sweep.config import SweepFile, load_sweep
from graphbench.sweep.storage import default_url, describe, open_storage, storage_kind


@dataclass
class Options:
    workers: int = 1
    storage: str | None = None
    quiet: bool = False
    stale_after: float | None = None
    heartbeat: int = 60
    grace: int | None = None
    threads: int | None = None  # torch threads per worker (default: cores // workers)
    data_root: str | None = None  # overrides the file's data_root
    isa: str | None = None  # kernel instruction-set level pinned (overrides the file's isa; see graphbench.env)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def threads_per_worker(workers: int, given: int | None = None) -> int:
    return given or max(1, cores() // workers)


def storage_url(sweep: SweepFile, given: str | None) -> str:
    return given or sweep.storage or default_url(sweep.journal_path)


def _num_splits(sweep: SweepFile, dataset: str) -> int:
    return sweep.num_splits(dataset)


def check_datasets(sweep: SweepFile) -> dict[str, int]:
    """Load every dataset once (raises a clear error naming one that cannot be loaded); ``name -> splits``."""
    out = {}
    for d in sweep.datasets:
        try:
            n = _num_splits(sweep, d)
        except Exception as exc:
            raise RuntimeError(f"{sweep.path}: dataset {d!r} cannot be loaded here: {exc}") from None
        for phase, p in (("search", sweep.protocol.search), ("final", sweep.protocol.final)):
            if p.folds is not None and max(p.folds) >= n:
                raise RuntimeError(f"{sweep.path}: protocol.{phase}.folds names fold {max(p.folds)}, but {d!r} has "
                                   f"{n} split(s) (0..{n - 1})")
        out[d] = n
    return out


def final_counts(sweep: SweepFile, splits: dict[str, int]) -> dict[str, int]:
    return {s.name: len(s.final_runs(splits[s.dataset])) for s in sweep.studies()}


# -- dry run ----------------------------------------------------------------------------------------------------
def _seconds_per_run(sweep: SweepFile) -> dict[tuple[str, str], float]:
    """Median wall time of an ok run per (model, dataset) from the results file, when it has any."""
    from graphbench.results import read_results

    if not sweep.results.exists():
        return {}
    df = read_results(sweep.results)
    df = df[df["status"] == "ok"]
    return {(m, d): float(g["total_time_s"].median()) for (m, d), g in df.groupby(["model", "dataset"])}


def plan(path: str | Path, *, storage: str | None = None, workers: int = 1, out=None,
         data_root: str | None = None) -> int:
    """Print the plan of a sweep file (studies, trials, runs, a rough time estimate); trains nothing.
    ``data_root`` overrides the file's (as ``--data-root`` does for a real run)."""
    out = out or sys.stdout
    sweep = load_sweep(path, check_datasets=False)
    if data_root:
        sweep.data_root = data_root
    url = storage_url(sweep, storage)
    if storage_kind(url) == "sqlite" and workers > 1:
        open_storage(url, workers=workers)  # raises the explanation
    per_run = _seconds_per_run(sweep)
    print(f"sweep {sweep.name} ({sweep.path})", file=out)
    budget = " and ".join(x for x in (f"{sweep.trials} trials" if sweep.trials else "",
                                      f"{sweep.timeout:.0f} s compute" if sweep.timeout else "") if x)
    print(f"  budget per study: {budget}; pruner {sweep.pruner.type}; TPE seed {sweep.sampler_seed}", file=out)
    p = sweep.protocol
    final_folds = 'all' if p.final.folds is None else list(p.final.folds)
    holdout = f", each on a fresh random {p.final.holdout:.0%} holdout of the outer training set" \
        if p.final.holdout else ""
    if p.per_fold:
        print(f"  protocol {p.id} (per-fold, Errica et al.): for each outer fold {final_folds}, select on that "
              f"fold's inner validation × seeds {list(p.search.seeds)}; re-run the fold's selection × seeds "
              f"{list(p.final.seeds)}{holdout}", file=out)
    else:
        print(f"  protocol {p.id} (select-once, OPTIMISTIC on k-fold data): select on the mean validation metric "
              f"of folds {'all' if p.search.folds is None else list(p.search.folds)} × seeds {list(p.search.seeds)}"
              f"; final re-runs on folds {final_folds} × seeds {list(p.final.seeds)}{holdout}", file=out)
    if sweep.param_budget:
        print(f"  parameter budget {sweep.param_budget:,}: 'hidden' is solved per trial", file=out)
    print(f"  storage {describe(url)}; results {sweep.results}; workers {workers} × "
          f"{threads_per_worker(workers, sweep.threads)} thread(s)", file=out)
    print(f"\n  {'study':<52} {'params':>6} {'trials':>6} {'runs/trial':>10} {'final':>6}  searched", file=out)
    total_runs, total_s, unknown = 0, 0.0, []
    for d in sweep.datasets:
        if d not in DATASETS:
            unknown.append(f"{d}: unknown dataset in this installation")
            sweep._splits[d] = 1  # placeholder: one study line, run counts shown as '?'
            continue
        try:
            _num_splits(sweep, d)
        except Exception as exc:
            unknown.append(f"{d}: not loadable here ({str(exc).splitlines()[0][:80]})")
            sweep._splits[d] = 1
    bad = {u.split(":", 1)[0] for u in unknown}
    studies = sweep.studies()
    for spec in studies:
        n = None if spec.dataset in bad else sweep.num_splits(spec.dataset)
        search = len(spec.search_runs(n)) if n is not None else None
        final = len(spec.final_runs(n)) if n is not None else None
        trials = sweep.search_trials(spec)
        runs = (trials or 0) * (search or 0) + (final or 0)
        total_runs += runs
        secs = per_run.get((spec.model, spec.dataset))
        if secs is not None:
            total_s += secs * runs
        shown = spec.name if spec.dataset not in bad or not p.per_fold else spec.name.rsplit("/", 1)[0] + "/fold?"
        shown_trials = "∞" if trials is None else trials
        print(f"  {shown:<52} {len(spec.space):>6} {shown_trials:>6} {search or '?':>10} {final or '?':>6}  "
              f"{', '.join(spec.space) or '-'}", file=out)
    print(f"\n  {len(studies)} studies, at most {total_runs} runs"
          + (" (time budget: runs bounded by time)" if not sweep.trials else ""), file=out)
    if per_run:
        print(f"  rough time: {total_s / 60:.1f} min of compute from earlier runs in {sweep.results}, "
              f"≈ {total_s / 60 / workers:.1f} min wall with {workers} worker(s) (pruning shortens it)", file=out)
    else:
        est = sweep.timeout * len(studies) / workers if sweep.timeout else None
        print("  rough time: no earlier runs in the results file to time from" +
              (f"; at most ≈ {est / 60:.1f} min of search wall time by the time budget" if est else ""), file=out)
    for u in sorted(set(unknown)):
        print(f"  note: {u}", file=out)
    if sweep.expressiveness:
        e = sweep.expressiveness
        print(f"  then expressiveness (quick mode, untrained, float64): {', '.join(e['models'])} on "
              f"{', '.join(e['datasets'])} × seeds {e['seeds']}; rows appended to {sweep.results}", file=out)
    if sweep.compare:
        print(f"  report compares {sweep.compare[1]} against the baseline {sweep.compare[0]}", file=out)
    return 0


# -- running ----------------------------------------------------------------------------------------------------
def _die_with_parent() -> None:
    """In the child: get SIGKILL when the parent dies (Linux), so no worker outlives a killed sweep."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _sigterm_as_interrupt() -> None:
    def handler(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, handler)


def run_worker(path: str | Path, worker_id: int, opts: Options) -> int:
    """One worker process (``--worker I``): work until the sweep has nothing left."""
    import torch

    from graphbench.sweep.runner import work

    _sigterm_as_interrupt()
    sweep = load_sweep(path)
    if opts.data_root:
        sweep.data_root = opts.data_root
    torch.set_num_threads(threads_per_worker(opts.workers, opts.threads or sweep.threads))
    storage = open_storage(storage_url(sweep, opts.storage), workers=opts.workers,
                           heartbeat_interval=opts.heartbeat, grace_period=opts.grace)
    try:
        return work(sweep, storage, worker_id=worker_id, quiet=opts.quiet, stale_after=opts.stale_after)
    except KeyboardInterrupt:
        return 130


def _spawn(path: str | Path, i: int, opts: Options, sweep_threads: int | None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "graphbench.sweep.cli", str(path), "--worker", str(i), "--workers",
           str(opts.workers), "--heartbeat", str(opts.heartbeat)]
    if opts.storage:
        cmd += ["--storage", opts.storage]
    if opts.quiet:
        cmd.append("--quiet")
    if opts.stale_after is not None:
        cmd += ["--stale-after", str(opts.stale_after)]
    if opts.grace is not None:
        cmd += ["--grace", str(opts.grace)]
    if opts.data_root:
        cmd += ["--data-root", opts.data_root]
    if opts.isa:
        cmd += ["--isa", opts.isa]  # the pin itself is in the inherited environment (set before torch's import)
    threads = str(threads_per_worker(opts.workers, opts.threads or sweep_threads))
    cmd += ["--threads", threads]
    env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    return subprocess.Popen(cmd, env=env, preexec_fn=_die_with_parent)


def run_sweep(path: str | Path, opts: Options | None = None, *, out=None) -> int:
    """Validate, check, run all workers to the end, then summarise (and build the report if available)."""
    out = out or sys.stdout
    opts = opts or Options()
    sweep = load_sweep(path)
    if opts.data_root:
        sweep.data_root = opts.data_root
    url = storage_url(sweep, opts.storage)
    if storage_kind(url) == "sqlite" and opts.workers > 1:
        open_storage(url, workers=opts.workers)  # refused with the explanation, before anything is created
    splits = check_datasets(sweep)  # before the storage is opened: a failed check leaves no empty journal behind
    open_storage(url, workers=opts.workers, heartbeat_interval=opts.heartbeat, grace_period=opts.grace)
    print(f"sweep {sweep.name}: {len(sweep.studies())} studies, {opts.workers} worker(s), storage {describe(url)}, "
          f"results {sweep.results}", file=out, flush=True)
    progress = None
    if not opts.quiet:
        from graphbench.sweep.progress import LiveProgress

        progress = LiveProgress(sweep, lambda: open_storage(url, workers=opts.workers), final_counts(sweep, splits))
        progress.start()
    t0 = time.monotonic()
    try:
        if opts.workers == 1:
            code = run_worker(path, 0, opts)
        else:
            procs = [_spawn(path, i, opts, sweep.threads) for i in range(opts.workers)]
            try:
                codes = [p.wait() for p in procs]
            except KeyboardInterrupt:
                for p in procs:
                    if p.poll() is None:
                        p.send_signal(signal.SIGINT)
                for p in procs:
                    try:
                        p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                raise
            code = next((c for c in codes if c != 0), 0)
    except KeyboardInterrupt:
        if progress:
            progress.stop()
        print(f"\ninterrupted: run the same command again to resume ({sweep.name})", file=out, flush=True)
        return 130
    if progress:
        progress.stop()
    if code != 0:
        print(f"a worker exited with status {code}; run the same command again to resume", file=out)
        return code
    print(f"done in {time.monotonic() - t0:.0f} s", file=out)
    notes = budget_notes(sweep, open_storage(url, workers=opts.workers))
    print(summary(sweep, notes), file=out)
    if sweep.expressiveness:
        run_expressiveness(sweep, opts, out)
    _report(sweep, out, notes)
    return 0


def run_expressiveness(sweep: SweepFile, opts: Options, out: Any) -> None:
    """The sweep file's ``expressiveness:`` step: BREC's pair protocol on untrained models (quick mode, float64),
    one row per (model, dataset, category, seed) appended to the sweep's results file as each category finishes;
    categories already there are skipped, so a re-run repeats nothing (graphbench.expressiveness.runner)."""
    import torch

    from graphbench.expressiveness.runner import run as run_pairs
    from graphbench.report.expressiveness import expressiveness_table
    from graphbench.report.tables import to_markdown
    from graphbench.results import read_results

    spec = sweep.expressiveness
    torch.set_num_threads(threads_per_worker(1, opts.threads))
    t0 = time.monotonic()
    print(f"\nexpressiveness (quick mode: untrained models in float64, BREC's T² test): "
          f"{', '.join(spec['models'])} on {', '.join(spec['datasets'])}", file=out, flush=True)
    run_pairs(spec["models"], spec["datasets"], hparams=spec["hparams"], seeds=spec["seeds"],
              data_root=opts.data_root or sweep.data_root, max_pairs=spec["max_pairs"], device=sweep.device,
              results=sweep.results)
    rows = read_results(sweep.results)
    rows = rows[(rows["stage"] == "expressiveness") & rows["model"].isin(spec["models"])
                & rows["dataset"].isin(spec["datasets"])]
    table = expressiveness_table(rows)
    if table is not None:
        print(f"\n{table.title}\n\n{to_markdown(table)}", file=out)
    print(f"expressiveness done in {time.monotonic() - t0:.0f} s", file=out)


def budget_notes(sweep: SweepFile, storage) -> list[str]:
    """One line per study whose search the wall-clock budget (``timeout``) ended before its trial budget."""
    import optuna

    from graphbench.sweep.runner import search_status

    names = set(optuna.get_all_study_names(storage))
    notes = []
    for spec in sweep.studies():
        if spec.name not in names:
            continue
        st = search_status(optuna.load_study(study_name=spec.name, storage=storage), sweep)
        if st.why_done.startswith("time budget") and (sweep.trials is None or st.finished < sweep.trials):
            notes.append(f"{spec.name}: search cut by the time budget after {st.finished}"
                         f"{f' of {sweep.trials}' if sweep.trials else ''} trials ({st.why_done}); another machine "
                         "may run a different number of trials and select differently")
    return notes


def summary(sweep: SweepFile, notes: list[str] | None = None) -> str:
    """Final rows of this sweep: mean ± std (ddof=1) of the test metric over folds and seeds, with validation.

    Superseded final rows (of an earlier selection) are not counted; the protocol is named on the first line.
    """
    from graphbench.report.protocol import mark_superseded
    from graphbench.results import read_results

    if not sweep.results.exists():
        return "no results"
    df = mark_superseded(read_results(sweep.results))
    names = {s.name for s in sweep.studies()}
    df = df[(df["stage"] == "final") & df["study"].isin(names)]
    superseded = int(df["superseded"].sum())
    df = df[~df["superseded"]]
    if df.empty:
        return "no final rows (no study completed a trial)"
    p = sweep.protocol
    proto = ("per-fold selection (each outer fold's configuration selected on its own inner validation)"
             if p.per_fold else "select-once — OPTIMISTIC on k-fold data: one selection re-run on every fold")
    lines = [f"\nfinal runs, protocol {p.id}: {proto}; test scored once per final run — {sweep.results}",
             f"{'model':<10} {'dataset':<16} {'test':>17} {'val':>8} {'runs':>5} {'failed':>6} {'configs':>7}"]
    for (model, dataset), g in df.groupby(["model", "dataset"], sort=True):
        ok = g[g["status"] == "ok"]
        std = ok["test_metric"].std(ddof=1) if len(ok) > 1 else 0.0
        lines.append(f"{model:<10} {dataset:<16} {ok['test_metric'].mean():>8.4f} ± {std:<6.4f} "
                     f"{ok['val_metric'].mean():>8.4f} {len(ok):>5} {len(g) - len(ok):>6} "
                     f"{ok['config_hash'].nunique():>7}")
    if superseded:
        lines.append(f"({superseded} final row(s) of earlier selections are superseded and not counted)")
    lines += [f"note: {n}" for n in notes or []]
    return "\n".join(lines)


def _report(sweep: SweepFile, out: Any, notes: list[str] | None = None) -> None:
    from graphbench.report import build_report

    # default: reports/<name> beside the results folder (results/x.csv -> reports/<name>)
    target = sweep.report or sweep.results.parent.parent / "reports" / sweep.name
    baseline, model = sweep.compare or (None, None)
    result = build_report([sweep.results], target, title=f"graphbench sweep {sweep.name}", notes=notes,
                          baseline=baseline, model=model)
    print(f"results: {sweep.results}\nreport written: {result.html}", file=out)
