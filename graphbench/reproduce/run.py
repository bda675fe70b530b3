"""Run a reproduction (:mod:`graphbench.reproduce.plan`) through the sweep runner and record it in a ledger.

``reproduce(...)`` writes the plan's sweep file into the output folder, runs it with :func:`graphbench.sweep.launch.
run_sweep` (resumable: the same command again continues where a stopped one ended and repeats nothing; run beside
a running one, it adds workers), then computes the record from the sweep's current final rows — ours (mean ± std
over every fold × repetition), the paper's value and std, the gap, whether it lies within the combined std, the
protocol differences, the command, the commit, the machine, the CPU time summed over every invocation and the wall
time over the union of their intervals (:class:`Clock`) — prints it, writes it as JSON beside the results and adds
it to the ledger (:mod:`graphbench.reproduce.ledger`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from graphbench import atomic
from graphbench.reproduce.ledger import ESTIMATE_MARK, write_row
from graphbench.reproduce.plan import Plan, make_plan


def command_line(plan: Plan, trials: int | None, seeds: int | None, pruner: str, splits: int | None = None) -> str:
    """The command that re-runs this reproduction (recorded in the ledger)."""
    words = ["graphbench", "reproduce", plan.model, "--preset", plan.preset.name, "--dataset", plan.dataset]
    if trials is not None:
        words += ["--trials", str(trials)]
    if seeds is not None:
        words += ["--seeds", str(seeds)]
    if splits is not None:
        words += ["--splits", str(splits)]
    if pruner != "none":
        words += ["--pruner", pruner]
    return shlex.join(words)


def _cpu_seconds() -> float:
    """CPU seconds (user + system) of this process, of its descendants still running (the sweep's worker
    processes) and of those that have ended."""
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    total = t.user + t.system + t.children_user + t.children_system
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
        except psutil.Error:  # ended in between: its time is in children_* once reaped
            continue
        total += c.user + c.system
    return total


def _read_state(state_path: Path) -> dict[str, Any]:
    """The time file beside the results: the totals of every invocation (wall seconds over the union of their
    intervals, CPU seconds summed) and, under ``runs``, each invocation's own interval and CPU seconds, so that
    invocations running at once (a worker added by running the same command again) each keep their time. A file
    written before the per-invocation log (totals only) becomes the ``earlier`` part of the totals."""
    if not state_path.exists():
        return {"wall_s": 0.0, "cpu_s": 0.0, "invocations": 0, "earlier": None, "runs": {}}
    state = json.loads(state_path.read_text())
    if "runs" not in state:
        state = {**state, "earlier": {k: state[k] for k in ("wall_s", "cpu_s", "invocations")}, "runs": {}}
    return state


def _totals(earlier: dict[str, float] | None, runs: dict[str, dict[str, float]]) -> dict[str, float]:
    """Wall seconds of the union of the invocations' intervals (two at once count their overlap once), CPU seconds
    and invocations summed, plus the ``earlier`` totals of a file from before the log."""
    wall, end = 0.0, -math.inf
    for start, stop in sorted((r["start"], r["end"]) for r in runs.values()):
        wall += max(0.0, stop - max(start, end))
        end = max(end, stop)
    base = earlier or {"wall_s": 0.0, "cpu_s": 0.0, "invocations": 0}
    return {"wall_s": base["wall_s"] + wall, "cpu_s": base["cpu_s"] + sum(r["cpu_s"] for r in runs.values()),
            "invocations": base["invocations"] + len(runs)}


def _read_totals(state_path: Path) -> dict[str, float]:
    """The wall and CPU seconds and invocations kept beside the results (zeros before the first run)."""
    state = _read_state(state_path)
    return {k: state[k] for k in ("wall_s", "cpu_s", "invocations")}


class Clock:
    """This invocation's wall and CPU seconds, kept as its own entry of the time file beside the results (resumed
    runs add up; invocations running at once each keep theirs, and their overlapping wall time counts once) and
    rewritten every ``every_s`` seconds while the run goes on, so that an invocation killed without warning
    (SIGKILL, the end of a working session) loses at most that much of its time from the record. Each rewrite
    holds a lock on ``<file>.lock`` (``filelock``) and replaces the file whole."""

    def __init__(self, state_path: Path, every_s: float = 30.0) -> None:
        import socket
        import uuid

        self.path, self.every_s = Path(state_path), every_s
        self.key = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="reproduce-clock")

    def _write(self) -> dict[str, float]:
        from filelock import FileLock

        mine = {"start": self.start, "end": self.start + time.monotonic() - self.t0,
                "cpu_s": _cpu_seconds() - self.c0}
        with FileLock(str(self.path) + ".lock"):
            state = _read_state(self.path)
            runs = {**state["runs"], self.key: mine}
            totals = _totals(state["earlier"], runs)
            atomic.write_text(self.path, json.dumps({**totals, "earlier": state["earlier"], "runs": runs}, indent=1))
        return totals

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self._write()

    def __enter__(self) -> Clock:
        self.start, self.t0, self.c0 = time.time(), time.monotonic(), _cpu_seconds()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.final = self._write()


def write_sweep(plan: Plan, out_dir: Path, *, data_root: str | None, threads: int | None) -> Path:
    """The plan's sweep file in ``out_dir`` (rewritten each time: a changed --trials raises the budget and resumes;
    written to a temporary file and renamed, so that an invocation running beside this one never reads half)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{plan.id}.yaml"
    header = (f"# graphbench reproduce: {plan.model} preset {plan.preset.name} on {plan.dataset} "
              f"(written by the command; edit the command, not this file)\n")
    text = header + yaml.safe_dump(plan.sweep(out_dir, data_root=data_root, threads=threads), sort_keys=False)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        atomic.write_text(path, text)
    return path


def final_rows(plan: Plan, sweep_path: Path):
    """The sweep's counted final rows (ok, not superseded) of this reproduction's studies."""
    from graphbench.report.protocol import mark_superseded
    from graphbench.results import read_results
    from graphbench.sweep.config import load_sweep

    sweep = load_sweep(sweep_path)
    if not sweep.results.exists():
        return None, sweep
    df = mark_superseded(read_results(sweep.results))
    names = {s.name for s in sweep.studies()}
    df = df[(df["stage"] == "final") & df["study"].isin(names) & ~df["superseded"]]
    return df, sweep


def _plan_fields(plan: Plan, command: str) -> dict[str, Any]:
    """The ledger fields every record of ``plan`` carries, run or not: the table row, the paper's number, the
    protocol, the command, the commit, the machine and the date."""
    from graphbench.env import environment

    paper, env = plan.paper, environment()
    return {
        "model": plan.model, "preset": plan.preset.name, "dataset": plan.dataset, "metric": str(paper["metric"]),
        "paper_value": float(paper["value"]),  # NaN for an ``unread`` published row: ours is recorded alone
        "paper_std": float(paper["std"]) if paper["std"] == paper["std"] else float("nan"),
        "paper_runs": None if paper["runs"] != paper["runs"] else int(paper["runs"]),
        "configs_per_study": plan.trials, "grid_size": plan.grid_size,
        "protocol_differences": "; ".join(plan.differences), "command": command,
        "commit": env.get("git_commit", ""), "machine": env["cpu_model"], "isa": env["cpu_capability"],
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"), "note": "",
    }


def record(plan: Plan, sweep_path: Path, command: str, totals: dict[str, float]) -> dict[str, Any]:
    """The reproduction's record from the sweep's current final rows (see the module docstring)."""
    from graphbench.published import within_combined_std

    df, sweep = final_rows(plan, sweep_path)
    ok = df[df["status"] == "ok"] if df is not None else None
    expected = sum(len(s.final_runs(sweep.num_splits(plan.dataset))) for s in sweep.studies())
    rec: dict[str, Any] = {
        **_plan_fields(plan, command), "threads": None, "wall_hours": totals["wall_s"] / 3600,
        "cpu_hours": totals["cpu_s"] / 3600, "source": str(plan.paper["source"]), "expected_runs": expected,
    }
    if ok is None or ok.empty:
        rec.update(status="not yet reproduced", ours_runs=0)
        return rec
    values = ok["test_metric"].astype(float)
    mean = float(values.mean())
    std = float(values.std(ddof=1)) if len(values) > 1 else float("nan")
    gap = mean - rec["paper_value"]
    if math.isnan(rec["paper_value"]):  # the paper's number could not be read: nothing to compare with
        tol, within = float("nan"), None
    else:
        tol, within = within_combined_std(gap, std, rec["paper_std"])
    rec.update(status="reproduced" if len(ok) >= expected else "partial", ours_mean=mean, ours_std=std,
               ours_runs=int(len(ok)), gap=gap, tolerance=tol, within=within,
               threads=int(ok["threads"].dropna().astype(int).mode().iloc[0]) if ok["threads"].notna().any()
               else None)
    notes = []
    if rec["status"] == "partial":
        notes.append(f"{len(ok)} of {expected} final runs finished; re-run the command to complete it")
    # the commit that ran the counted rows (a resumed run: the latest), not the one that recorded them
    commits = ok.sort_values("started_at")["git_commit"].dropna().astype(str)
    commits = list(dict.fromkeys(c for c in commits if c))
    if commits:
        rec["commit"] = commits[-1]
        if len(commits) > 1:
            notes.append("its runs come from commits " + ", ".join(c[:10] for c in commits))
    # the machines that ran the counted rows (a worker may have joined from another), not the recording one's
    for col, key, what in (("cpu_model", "machine", "CPUs"), ("cpu_capability", "isa", "kernel ISAs")):
        counts = ok[col].dropna().astype(str).loc[lambda v: v != ""].value_counts()
        if len(counts):
            rec[key] = counts.index[0]
            if len(counts) > 1:
                notes.append(f"its runs ran on {what} " + ", ".join(f"{v} ({n} runs)" for v, n in counts.items())
                             + (": compare them as different seeds (docs/results-schema.md)" if key == "isa" else ""))
    rec["note"] = "; ".join(notes)
    return rec


def format_record(rec: dict[str, Any]) -> str:
    """The record as the lines ``graphbench reproduce`` prints at the end."""
    def pm(m, s):
        return f"{m:.4f}" + ("" if s is None or math.isnan(s) else f" ± {s:.4f}")

    lines = [f"\nreproduction {rec['model']} / {rec['preset']} / {rec['dataset']}: {rec['status']}"]
    if rec["status"] != "not yet reproduced":
        lines.append(f"  ours   {rec['metric']} {pm(rec['ours_mean'], rec['ours_std'])} over {rec['ours_runs']} runs"
                     f" (of {rec['expected_runs']})")
        if math.isnan(rec["paper_value"]):
            lines.append(f"  paper  not read (no gap: the published row is 'unread') — {rec['source']}")
        else:
            within = {True: "yes", False: "NO — investigate", None: "n/a (no std on either side)"}[rec["within"]]
            lines += [f"  paper  {pm(rec['paper_value'], rec['paper_std'])} — {rec['source']}",
                      f"  gap    {rec['gap']:+.4f}; combined std {rec['tolerance']:.4f}; within: {within}"]
    lines += [f"  protocol differences: {rec['protocol_differences'] or 'none'}",
              f"  command: {rec['command']}", f"  commit {rec['commit'] or '(not a git checkout)'}; machine "
              f"{rec['machine']}; kernel ISA {rec['isa']}; threads {rec['threads']}",
              f"  time: {rec['wall_hours']:.3f} h wall, {rec['cpu_hours']:.3f} h CPU (all invocations)"]
    if rec.get("note"):
        lines.append(f"  note: {rec['note']}")
    return "\n".join(lines)


#: A preset whose epoch limit is this many times its patience stops on its patience alone (FoSR's code trains up to
#: a million epochs): the epoch bound says nothing, so the estimate times one whole run instead.
UNBOUNDED_EPOCHS = 10


def estimate(plan: Plan, *, data_root: str | None) -> dict[str, float]:
    """Time one epoch of the preset on the first split (no test scoring) and scale it to the plan: an upper bound
    (every run to its epoch limit) and the measured epoch, in CPU seconds (the wall time scaled by the timing run's
    CPU share, so a loaded machine does not inflate it). Where the epoch limit is no bound (at least
    :data:`UNBOUNDED_EPOCHS` × the patience), one whole run of the first split to its stopping rule is timed as well
    (``run_s``, ``run_epochs``): the plan's cost is then that run's time per run, an estimate rather than a bound."""
    from graphbench.presets import apply_preset
    from graphbench.train.runner import RunSpec, run_one

    hparams, options, _ = apply_preset(plan.model, plan.preset.name)
    epochs = int(hparams.get("epochs", 100))
    patience = hparams.get("patience")
    whole = patience is not None and epochs >= UNBOUNDED_EPOCHS * int(patience)
    timed = hparams if whole else {**hparams, "epochs": 2, "patience": 2}
    cpu0 = time.process_time()  # one thread: the process's CPU time is the run's cost on a shared machine too
    row = run_one(RunSpec(plan.model, plan.dataset, hparams=timed, dataset_options=options, data_root=data_root,
                          score_test=False, threads=1))
    cpu_s = time.process_time() - cpu0
    if row["status"] != "ok":
        raise RuntimeError(f"the timing run failed: {row.get('error')}")
    # the trainer times epochs on the wall clock; on a shared machine the run got only part of a core, so scale by
    # the timing run's CPU share (one thread: CPU time / wall time ≤ 1) to estimate CPU seconds
    share = min(1.0, cpu_s / float(row["total_time_s"])) if float(row["total_time_s"]) > 0 else 1.0
    epoch_s = float(row["time_per_epoch_s"]) * share
    ran = int(row["epochs"]) if whole else 2
    est = {"epoch_s": epoch_s, "epochs": epochs, "prep_s": float(row["total_time_s"]) * share - ran * epoch_s}
    if whole:
        est.update(run_s=cpu_s, run_wall_s=float(row["total_time_s"]), run_epochs=ran)
    return est


def _cost_lines(est: dict[str, float], runs: int, workers: int) -> tuple[float, str]:
    """(CPU-hours, the sentence that says how they were measured) of ``runs`` runs at the estimate ``est``."""
    if "run_s" in est:
        total = runs * est["run_s"]
        return total / 3600, (f"one whole run of split 0 to its stopping rule: {est['run_epochs']} epochs, "
                              f"{est['run_s']:.1f} s CPU ({est['run_wall_s']:.1f} s wall; 1 thread; the epoch limit "
                              f"{est['epochs']} is no bound); {runs} "
                              f"runs ≈ {total / 3600:.1f} CPU-hours (≈ {total / 3600 / workers:.1f} h wall with "
                              f"{workers} worker(s); {ESTIMATE_MARK})")
    total = runs * (est["epochs"] * est["epoch_s"] + max(est["prep_s"], 0.0))
    return total / 3600, (f"{est['epoch_s']:.3f} CPU s per training epoch (1 thread, split 0, validation excluded; "
                          "the wall time scaled by the timing run's CPU share); "
                          f"{runs} runs × up to {est['epochs']} epochs ≤ {total / 3600:.1f} CPU-hours (≈ "
                          f"{total / 3600 / workers:.1f} h wall with {workers} worker(s); early stopping shortens it)")


def _record_plan(plan: Plan, command: str, ledger: str | Path, cpu_hours: float | None, note: str, out) -> None:
    """A ledger row for a reproduction not yet run: its planned protocol and measured cost, no number."""
    write_row(ledger, {**_plan_fields(plan, command), "status": "not yet reproduced", "threads": 1,
                       "cpu_hours": cpu_hours, "note": note})
    print(f"  ledger: {ledger} (not yet reproduced; planned cost recorded)", file=out)


def reproduce(model: str, preset: str, dataset: str, *, workers: int = 1, data_root: str | None = None,
              out_dir: str | Path = "results/reproduce", ledger: str | Path | None = "results/reproductions.csv",
              trials: int | None = None, seeds: int | None = None, splits: int | None = None,
              pruner: str = "none", dry_run: bool = False,
              quiet: bool = False, threads: int | None = None, record_plan: bool = False, record_only: bool = False,
              out=None) -> int:
    """``graphbench reproduce``: plan, (dry run: print the plan and a measured-epoch estimate; ``record_plan``: also
    add it to the ledger as "not yet reproduced" with that cost), run, record (``record_only``: record a stopped
    run from the rows it has, training nothing)."""
    from graphbench.sweep.launch import Options, run_sweep
    from graphbench.sweep.launch import plan as sweep_plan

    out = out or sys.stdout
    plan = make_plan(model, preset, dataset, trials=trials, seeds=seeds, splits=splits, pruner=pruner)
    out_dir = Path(out_dir)
    command = command_line(plan, trials, seeds, pruner, splits)
    print("\n".join(plan.describe()), file=out)
    if dry_run or record_plan:
        # The dry run writes nothing into out_dir: the sweep file goes to a temporary folder.
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            path = write_sweep(plan, Path(tmp), data_root=data_root, threads=threads)
            sweep_plan(path, workers=workers, out=out, data_root=data_root)
            from graphbench.sweep.config import load_sweep

            sweep = load_sweep(path, check_datasets=False)
            try:
                n = sweep.num_splits(plan.dataset)
            except Exception as exc:  # the data is not here: the plan is still shown
                why = f"{plan.dataset} cannot be loaded here ({str(exc).splitlines()[0]})"
                print(f"  no time estimate: {why}", file=out)
                if record_plan and ledger is not None:
                    _record_plan(plan, command, ledger, None, f"cost not measured: {why}", out)
                return 0
            studies = sweep.studies()
            runs = sum(sweep.search_trials(s) * len(s.search_runs(n)) + len(s.final_runs(n)) for s in studies)
            est = estimate(plan, data_root=data_root)
            hours, how = _cost_lines(est, runs, workers)
            print(f"  measured: {how}", file=out)
            if record_plan and ledger is not None:
                _record_plan(plan, command, ledger, hours, f"planned, cpu_hours measured as: {how}", out)
        return 0
    clock_path = out_dir / f"{plan.id}.time.json"
    if record_only and not (out_dir / f"{plan.id}.yaml").exists():
        raise ValueError(f"no run of this reproduction in {out_dir} ({plan.id}.yaml is missing): run the "
                         "command without --record-only first, or give the --out folder it ran in")
    # this command's plan (with --record-only too: an earlier invocation may have capped --splits)
    path = write_sweep(plan, out_dir, data_root=data_root, threads=threads)
    if record_only:  # a stopped run, recorded from its rows so far (partial) without training anything
        code, totals = 0, _read_totals(clock_path)
    else:
        with Clock(clock_path) as clock:
            code = run_sweep(path, Options(workers=workers, quiet=quiet, data_root=data_root, threads=threads),
                             out=out)
        totals = clock.final
    rec = record(plan, path, command, totals)
    if record_only and rec["status"] == "not yet reproduced":
        raise ValueError(f"the run in {out_dir} has no finished final run yet: nothing to record; run the command "
                         "without --record-only to go on with it")
    print(format_record(rec), file=out)
    atomic.write_text(out_dir / f"{plan.id}.record.json", json.dumps(rec, indent=2, default=str))
    if ledger is not None and code == 0:
        write_row(ledger, rec)
        print(f"  ledger: {ledger}", file=out)
    return code
