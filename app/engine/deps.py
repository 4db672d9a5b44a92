"""What workflow steps use, set once per process when the engine starts.

DBOS runs workflow functions by name, so they cannot take these as arguments; the process
registers its dependencies here at start-up instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.generation.catalog import Catalog
from app.generation.provider import Provider
from app.runtime import Runtime


@dataclass(slots=True)
class EngineDeps:
    runtime: Runtime
    provider: Provider
    catalog: Catalog
    poll_interval: float = 1.0
    deadline_seconds: float = 900.0
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    stopping: bool = False

    def now(self) -> datetime:
        """The time from the runtime's clock (the ``Clock`` port), for every timestamp."""
        return self.runtime.clock.now()

    def elapsed(self) -> float:
        """Seconds on the clock's monotonic scale, for deadlines."""
        return self.runtime.clock.monotonic()

    @contextmanager
    def running(self) -> Iterator[None]:
        """Track the current workflow's task, so a stopping process can interrupt it."""
        task = asyncio.current_task()
        if task is not None:
            self.tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self.tasks.discard(task)

    async def interrupt(self, grace_seconds: float = 5.0) -> None:
        """Stop this process's workflows mid-step; DBOS resumes them after a restart."""
        self.stopping = True
        tasks = [t for t in self.tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace_seconds)


_current: EngineDeps | None = None


def install(deps: EngineDeps | None) -> None:
    global _current  # noqa: PLW0603 (one engine per process, like DBOS itself)
    _current = deps


def current() -> EngineDeps:
    if _current is None:
        raise RuntimeError("the engine is not running in this process")
    return _current
