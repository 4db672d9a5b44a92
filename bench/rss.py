"""A process's resident memory, read from ``/proc``, sampled in a background thread."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType

KIB = 1024


def memory_kib(pid: int, field: str = "VmRSS") -> int:
    """A ``/proc/<pid>/status`` memory field (``VmRSS``, ``VmHWM``...) in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    raise LookupError(f"no {field} for process {pid}")


class RssSampler:
    """Read a process's VmRSS every ``interval`` seconds while the ``with`` block runs."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.samples = 0
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            self._sample()
            next_at += self.interval
            self._stop.wait(max(0.0, next_at - time.monotonic()))

    def _sample(self) -> None:
        try:
            rss = memory_kib(self.pid)
        except (OSError, LookupError):  # the process has gone
            return
        self.samples += 1
        self.peak_kib = max(self.peak_kib, rss)
