"""Argon2id password hashing, off the event loop, a few at a time, with constant-time misses."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_DUMMY_PASSWORD = "adstudio-timing-equaliser"  # noqa: S105 (hashed once, never a credential)
T = TypeVar("T")


class HashGate:
    """At most ``limit`` hashes at once, each in a worker thread; the rest wait their turn.

    Every Argon2 run holds its whole memory cost, so the cap bounds the memory a burst of
    sign-ins can take. ``in_flight`` and ``peak`` count the hashes actually running (in the
    worker threads), ``waiting`` those queued for a slot, ``runs`` every hash ever started.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._semaphore = asyncio.Semaphore(limit)
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.runs = 0
        self.waiting = 0

    async def run(self, work: Callable[[], T]) -> T:
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            return await asyncio.to_thread(self._counted, work)
        finally:
            self._semaphore.release()

    def _counted(self, work: Callable[[], T]) -> T:
        with self._lock:
            self.in_flight += 1
            self.runs += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            return work()
        finally:
            with self._lock:
                self.in_flight -= 1


class Passwords:
    """Hash and verify passwords. ``verify_unknown`` costs what a real check costs."""

    def __init__(
        self, *, time_cost: int, memory_cost_kib: int, parallelism: int = 1, concurrency: int = 4
    ) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self.gate = HashGate(concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await self.gate.run(lambda: self._hasher.hash(password))

    async def verify(self, password_hash: str, password: str) -> bool:
        return await self.gate.run(lambda: self._verify(password_hash, password))

    async def verify_unknown(self, password: str) -> None:
        """Spend the same work as a failed check, for an account that does not exist."""
        await self.gate.run(lambda: self._verify(self._dummy(), password + "\x00"))

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _dummy(self) -> str:
        """Hashed once, in a worker thread, on the first miss (a benign race hashes it twice)."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
        return self._dummy_hash

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
