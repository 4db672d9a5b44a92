"""CPU time that PostgreSQL spends for one database: its backend processes, read from ``/proc``.

Every backend of the postmaster carries a title such as
``postgres: 15/main: postgres adstudio_bench_42 127.0.0.1(50412) idle``; the backends of our
database, and the parallel workers they lead (``parallel worker for PID 1234``), are the ones
counted. Pools open and close sessions while a run goes on, so the backends are sampled every
``interval`` seconds: a backend that appears counts from zero, and one that exits keeps what it
had used at its last sample (at most one interval of its work is lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import cpu_seconds

# "postgres: [cluster: ]user database host(port)|[local] state"
_BACKEND = re.compile(r"^postgres: (?:[^:]+: )?(\S+) (\S+) (?:\S+\(\d+\)|\[local\])(?: |$)")
_PARALLEL = re.compile(r"parallel worker for PID (\d+)")
SAMPLE_INTERVAL_SECONDS = 0.1


def backend_database(title: str) -> str | None:
    """The database a backend's process title names, or None for other processes."""
    found = _BACKEND.match(title)
    if not found or "parallel worker" in title:
        return None
    return found.group(2)


def parallel_leader(title: str) -> int | None:
    found = _PARALLEL.search(title)
    return int(found.group(1)) if found else None


def find_postmaster(proc: Path = Path("/proc")) -> int:
    """The pid of the local PostgreSQL server: a ``postgres`` whose parent is not one."""
    for entry in proc.iterdir():
        if entry.name.isdigit() and _comm(entry) == "postgres":
            parent = _ppid(entry)
            if _comm(proc / str(parent)) != "postgres":
                return int(entry.name)
    raise RuntimeError("no PostgreSQL server process on this machine")


def _comm(entry: Path) -> str:
    try:
        return (entry / "comm").read_text().strip()
    except OSError:
        return ""


def _ppid(entry: Path) -> int:
    stat = (entry / "stat").read_text()
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def _title(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


@dataclass
class DatabaseCpu:
    """Accumulates the CPU of ``database``'s backends between ``start`` and ``stop``."""

    database: str
    postmaster: int = field(default_factory=find_postmaster)
    _first: dict[int, float] = field(default_factory=dict)
    _last: dict[int, float] = field(default_factory=dict)
    _titles: dict[int, str] = field(default_factory=dict)
    _started: bool = False

    def _children(self) -> list[int]:
        path = Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children")
        return [int(p) for p in path.read_text().split()]

    def sample(self) -> None:
        children = self._children()
        ours = set()
        for pid in children:
            if pid not in self._titles:
                self._titles[pid] = _title(pid)
            if backend_database(self._titles[pid]) == self.database:
                ours.add(pid)
        for pid in children:
            leader = parallel_leader(self._titles[pid])
            if pid in ours or (leader is not None and leader in ours):
                with contextlib.suppress(OSError, ValueError):
                    used = cpu_seconds(pid)
                    # A backend seen first after the start began at zero inside the window.
                    self._first.setdefault(pid, used if not self._started else 0.0)
                    self._last[pid] = used

    def start(self) -> None:
        self._first.clear()
        self._last.clear()
        self._started = False
        self.sample()
        self._started = True

    def seconds(self) -> float:
        """CPU seconds used since ``start``, as of the latest sample."""
        return sum(self._last[pid] - self._first[pid] for pid in self._last)

    async def run(self, interval: float = SAMPLE_INTERVAL_SECONDS) -> None:
        """Sample until cancelled."""
        while True:
            await asyncio.sleep(interval)
            self.sample()
