"""The clock port: everything that needs "now" asks a Clock, so tests can move time."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Protocol

from app.models.base import utcnow


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float:
        """Seconds that only ever grow, for deadlines and timeouts."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or utcnow()
        self._ahead = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        """Real elapsed time plus every ``advance``: deadlines still pass while tests wait,
        and a test can make one pass at once."""
        return time.monotonic() + self._ahead

    def advance(self, delta: timedelta) -> None:
        self._now += delta
        self._ahead += delta.total_seconds()
