"""Peak-memory measurement for one run."""

from __future__ import annotations

import threading

import psutil
import torch


class PeakMemory:
    """Context manager measuring peak memory in MiB while it is open.

    On CUDA devices: ``torch.cuda.max_memory_allocated`` (tensor memory, exact). On CPU: the peak resident set
    size of this process, sampled every ``interval`` seconds by a background thread (it includes the interpreter
    and libraries, so compare runs of the same process setup; very short spikes may be missed).
    """

    def __init__(self, device: torch.device, interval: float = 0.02) -> None:
        self.device, self.interval = device, interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
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
        else:
            self._stop.set()
            if self._thread is not None:
                self._thread.join()
            self.peak_mb = max(self.peak_mb, psutil.Process().memory_info().rss / 2**20)
