"""Argon2id password hashing, off the event loop, with constant-time misses."""

from __future__ import annotations

import asyncio
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_DUMMY_PASSWORD = "adstudio-timing-equaliser"  # noqa: S105 (hashed once, never a credential)


class Passwords:
    """Hash and verify passwords. ``verify_unknown`` costs what a real check costs."""

    def __init__(self, *, time_cost: int, memory_cost_kib: int, parallelism: int = 1) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )

    @cached_property
    def _dummy_hash(self) -> str:
        return self._hasher.hash(_DUMMY_PASSWORD)

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> bool:
        return await asyncio.to_thread(self._verify, password_hash, password)

    async def verify_unknown(self, password: str) -> None:
        """Spend the same work as a failed check, for an account that does not exist."""
        await asyncio.to_thread(self._verify, self._dummy_hash, password + "\x00")

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    def _verify(self, password_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
