"""Peak-memory measurement for one run."""

from __future__ import annotations

import threading

import psutil
import torch


class PeakMemory:
    """Context manager measuring peak memory in MiB while it is open.

    On CUDA devices: ``torch.cuda.max_memory_allocated`` (tensor memory, exact). On CPU: the peak resident set
    size of this process (it includes the interpreter and libraries, so compare runs of the same process setup).
    On Linux the kernel's own high-water mark is used: it is reset on entry (``/proc/self/clear_refs``) and read on
    exit (``VmHWM``), exact and free. Elsewhere a background thread samples the RSS every ``interval`` seconds
    (very short spikes may be missed; the sampling costs a few per cent of a single-threaded run's time).
    """

    def __init__(self, device: torch.device, interval: float = 0.02) -> None:
        self.device, self.interval = device, interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._kernel = False

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        elif _reset_high_water_mark():
            self._kernel = True
        else:
            proc = psutil.Process()
            self.peak_mb = proc.memory_info().rss / 2**20

            def sample() -> None:
                while not self._stop.wait(self.interval):
                    self.peak_mb = max(self.peak_mb, proc.memory_info().rss / 2**20)

            self._thread = threading.Thread(target=sample, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            self.peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20
        elif self._kernel:
            self.peak_mb = _high_water_mark_mb() or psutil.Process().memory_info().rss / 2**20
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.peak_mb = max(self.peak_mb, psutil.Process().memory_info().rss / 2**20)


def _reset_high_water_mark() -> bool:
    """Reset this process's peak RSS (Linux ≥ 4.0: write 5 to clear_refs); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _high_water_mark_mb() is not None
    except OSError:
        return False


def _high_water_mark_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None
