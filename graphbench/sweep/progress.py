"""One live progress display for a whole sweep, read from the storage (so it covers every worker).

On a terminal it is a single line rewritten in place; otherwise (logs) a plain line every ``log_every`` seconds.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass

import optuna

from graphbench.sweep.config import SweepFile
from graphbench.sweep.queue import FinalQueue
from graphbench.sweep.runner import QUEUE_ATTR, search_status


@dataclass
class Snapshot:
    studies: int
    studies_done: int
    trials_done: int
    trials_budget: int | None
    finals_done: int
    finals_total: int
    best: dict[str, float]


def snapshot(sweep: SweepFile, storage, final_counts: dict[str, int]) -> Snapshot:
    names = set(optuna.get_all_study_names(storage))
    done = trials = finals = ftotal = 0
    best: dict[str, float] = {}
    for spec in sweep.studies():
        if spec.name not in names:
            continue
        study = optuna.load_study(study_name=spec.name, storage=storage)
        st = search_status(study, sweep)
        trials += min(st.finished, sweep.trials or st.finished)
        if st.best is not None:
            best[f"{spec.model}/{spec.dataset}"] = st.best
        fname = study.user_attrs.get(QUEUE_ATTR)
        expected = final_counts.get(spec.name, 0)
        ftotal += expected
        if fname in names:
            ok = FinalQueue(fname, storage, study.direction.name.lower()).finished_items()
            finals += min(ok, expected)
            if st.state == "done" and ok >= expected:
                done += 1
        elif st.state == "done" and st.complete == 0:
            done += 1
    budget = sum(sweep.search_trials(spec) for spec in sweep.studies()) if sweep.trials else None
    return Snapshot(len(sweep.studies()), done, trials, budget, finals, ftotal, best)


def _clock(s: float) -> str:
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def render(snap: Snapshot, elapsed: float, start_units: int) -> str:
    units = snap.trials_done + snap.finals_done
    total = (snap.trials_budget or 0) + snap.finals_total
    eta = "?"
    if units > start_units and total:
        rate = (units - start_units) / elapsed
        eta = _clock(max(total - units, 0) / rate) if rate > 0 else "?"
    best = "  ".join(f"{k} {v:.3f}" for k, v in list(snap.best.items())[:4])
    more = f" +{len(snap.best) - 4}" if len(snap.best) > 4 else ""
    budget = f"/{snap.trials_budget}" if snap.trials_budget else ""
    return (f"studies {snap.studies_done}/{snap.studies} | trials {snap.trials_done}{budget} | finals "
            f"{snap.finals_done}/{snap.finals_total} | best {best or '-'}{more} | {_clock(elapsed)} ETA {eta}")


class LiveProgress:
    """A thread refreshing one status line from the storage until :meth:`stop`."""

    def __init__(self, sweep: SweepFile, storage_factory, final_counts: dict[str, int], *, interval: float = 1.0,
                 log_every: float = 30.0, stream=sys.stderr) -> None:
        self.sweep, self.factory, self.final_counts = sweep, storage_factory, final_counts
        self.interval, self.log_every, self.stream = interval, log_every, stream
        self.tty = getattr(stream, "isatty", lambda: False)()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._t0 = time.monotonic()
        self._start_units: int | None = None
        self._last = ""

    def start(self) -> LiveProgress:
        self._thread.start()
        return self

    def _line(self) -> str:
        snap = snapshot(self.sweep, self._storage, self.final_counts)
        if self._start_units is None:
            self._start_units = snap.trials_done + snap.finals_done
        return render(snap, time.monotonic() - self._t0, self._start_units)

    def _loop(self) -> None:
        self._storage = self.factory()
        last_log = 0.0
        while not self._stop.wait(self.interval):
            try:
                line = self._line()
            except Exception:  # a storage hiccup must not kill the display (or the sweep)
                continue
            if self.tty:
                self.stream.write("\r" + line[:200].ljust(len(self._last)))
                self.stream.flush()
            elif time.monotonic() - last_log >= self.log_every and line != self._last:
                print(line, file=self.stream, flush=True)
                last_log = time.monotonic()
            self._last = line

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        try:
            line = self._line()
        except Exception:
            line = self._last
        if self.tty:
            self.stream.write("\r" + line.ljust(len(self._last)) + "\n")
        else:
            print(line, file=self.stream, flush=True)
