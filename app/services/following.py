"""Following a stored event stream live without losing or repeating an event.

Listen first, then read everything after the last sequence number seen, then wait for a hint
(or a heartbeat timeout) and read again; sequence numbers make duplicates impossible. Every
wake-up re-checks that the follower may still see the workspace.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlmodel import col

from app.errors import ForbiddenError
from app.models import JobEvent
from app.runtime import Runtime
from app.services.events import workspace_stream

HEARTBEAT_SECONDS = 25.0
MEMBERSHIP_ENDED = "MEMBERSHIP_ENDED"  # the reason of the FORBIDDEN that ends a stream
PAGE = 500
T = TypeVar("T")
_in_flight: dict[tuple[Any, ...], asyncio.Future[Any]] = {}


async def shared(key: tuple[Any, ...], load: Callable[[], Awaitable[T]]) -> T:
    """Single flight: followers woken together by one hint share one query per key.

    The query runs in a task of its own, and everyone (its starter included) waits on it
    shielded: a follower that leaves never cancels a read the others share, and a database
    call is never cut off halfway (which would leave its connection checked out).
    """
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


async def read_after(runtime: Runtime, stream: str, after: int) -> list[JobEvent]:
    return await shared(
        ("events", id(runtime), stream, after), lambda: _read_after(runtime, stream, after)
    )


async def _read_after(runtime: Runtime, stream: str, after: int) -> list[JobEvent]:
    async with runtime.read_sessionmaker() as session:
        statement = (
            sa.select(JobEvent)
            .where(col(JobEvent.stream_id) == stream, col(JobEvent.seq) > after)
            .order_by(col(JobEvent.seq))
            .limit(PAGE)
        )
        return list((await session.execute(statement)).scalars())


Guard = Callable[[], Awaitable[None]]


async def follow(
    runtime: Runtime,
    *,
    guard: Guard,
    stream: str,
    after: int,
    finished: Callable[[], Awaitable[bool]],
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[JobEvent]:
    """The stream's events after ``after``; ``guard`` re-checks the follower's rights after
    every read, before anything is sent, and after every wake-up (it raises to end)."""
    async with runtime.hub.listen(stream) as hints:
        last = after
        while True:
            events = await read_after(runtime, stream, last)
            if events:
                await guard()
            for event in events:
                last = event.seq
                yield event
            if len(events) == PAGE:
                continue
            if await finished():
                events = await read_after(runtime, stream, last)  # anything written meanwhile
                if events:
                    await guard()
                for event in events:
                    last = event.seq
                    yield event
                return
            await hints.wait(heartbeat)
            await guard()


async def read_workspace_after(
    runtime: Runtime, workspace_id: uuid.UUID, after: int
) -> list[JobEvent]:
    async with runtime.read_sessionmaker() as session:
        statement = (
            sa.select(JobEvent)
            .where(col(JobEvent.workspace_id) == workspace_id, col(JobEvent.workspace_seq) > after)
            .order_by(col(JobEvent.workspace_seq))
            .limit(PAGE)
        )
        return list((await session.execute(statement)).scalars())


async def last_workspace_seq(runtime: Runtime, workspace_id: uuid.UUID) -> int:
    async with runtime.read_sessionmaker() as session:
        last = await session.scalar(
            sa.select(sa.func.max(col(JobEvent.workspace_seq))).where(
                col(JobEvent.workspace_id) == workspace_id
            )
        )
    return int(last or 0)


async def follow_workspace(
    runtime: Runtime,
    *,
    guard: Guard,
    workspace_id: uuid.UUID,
    after: int | None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[JobEvent]:
    """Every event of the workspace after ``after`` (None: from now on), in commit order,
    until the follower's rights end. Pages by the workspace sequence, never by a clock."""
    async with runtime.hub.listen(workspace_stream(workspace_id)) as hints:
        cursor = after if after is not None else await last_workspace_seq(runtime, workspace_id)
        while True:
            events = await read_workspace_after(runtime, workspace_id, cursor)
            if events:
                await guard()
            for event in events:
                cursor = event.workspace_seq
                yield event
            if len(events) == PAGE:
                continue  # more are waiting: no need for a hint
            await hints.wait(heartbeat)
            await guard()


def membership_ended() -> ForbiddenError:
    return ForbiddenError("You are no longer a member of this workspace.", reason=MEMBERSHIP_ENDED)
