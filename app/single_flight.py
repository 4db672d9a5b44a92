"""Single flight: callers asking for the same thing at the same moment share one query.

The query runs in a task of its own, and everyone (its starter included) waits on it shielded:
a caller that leaves never cancels a read the others share, and a database call is never cut
off halfway (which would leave its connection checked out). Keys start with the owner's id
(the runtime), so the owner can let its reads finish before it closes their database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

T = TypeVar("T")
_in_flight: dict[tuple[Any, ...], asyncio.Future[Any]] = {}


async def shared(key: tuple[Any, ...], load: Callable[[], Awaitable[T]]) -> T:
    pending = _in_flight.get(key)
    if pending is None:
        pending = asyncio.ensure_future(load())
        _in_flight[key] = pending
        pending.add_done_callback(lambda done: _forget(key, done))
    return cast(T, await asyncio.shield(pending))


def _forget(key: tuple[Any, ...], done: asyncio.Future[Any]) -> None:
    if _in_flight.get(key) is done:
        del _in_flight[key]
    if not done.cancelled():
        done.exception()  # retrieved: waiters re-raise it, nobody else needs to


async def settle(owner: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Let the owner's reads under way finish (before their database is closed)."""
    pending = [f for key, f in _in_flight.items() if key[1:2] == (owner,)]
    if pending:
        await asyncio.wait(pending, timeout=timeout)


def in_flight_count() -> int:
    return len(_in_flight)
