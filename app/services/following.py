"""Following a stored event stream live without losing or repeating an event.

Listen first, then read everything after the last sequence number seen, then wait for a hint
(or a heartbeat timeout) and read again; sequence numbers make duplicates impossible. Every
wake-up re-checks that the follower may still see the workspace.

Event streams (``jobEvents``, ``workspaceActivity``) share one reader per stream in the
process (``app.services.stream_readers``); ``follow`` keeps a reader per follower for the
subscriptions that only need to be woken (``jobUpdated``, ``generationUpdated``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable

import sqlalchemy as sa
from sqlmodel import col

from app.errors import ForbiddenError
from app.models import JobEvent
from app.runtime import Runtime
from app.services.buffering import Bounds, Guard, Room, buffered
from app.services.events import workspace_stream
from app.services.stream_readers import Spec, follow_shared
from app.single_flight import shared

HEARTBEAT_SECONDS = 25.0
MEMBERSHIP_ENDED = "MEMBERSHIP_ENDED"  # the reason of the FORBIDDEN that ends a stream
PAGE = 500


async def read_after(
    runtime: Runtime, stream: str, after: int, limit: int = PAGE
) -> list[JobEvent]:
    limit = min(limit, PAGE)
    return await shared(
        ("events", id(runtime), stream, after, limit),
        lambda: _read_after(runtime, stream, after, limit),
    )


async def _read_after(runtime: Runtime, stream: str, after: int, limit: int) -> list[JobEvent]:
    async with runtime.read_sessionmaker() as session:
        statement = (
            sa.select(JobEvent)
            .where(col(JobEvent.stream_id) == stream, col(JobEvent.seq) > after)
            .order_by(col(JobEvent.seq))
            .limit(limit)
        )
        return list((await session.execute(statement)).scalars())


def _bounds(runtime: Runtime, *, resumable: bool) -> Bounds:
    settings = runtime.settings
    grace = settings.subscriber_grace_seconds if resumable else None
    return Bounds(capacity=settings.subscriber_buffer_events, grace=grace)


async def follow(
    runtime: Runtime,
    *,
    guard: Guard,
    stream: str,
    after: int,
    finished: Callable[[], Awaitable[bool]],
    resumable: bool = True,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[JobEvent]:
    """The stream's events after ``after``; ``guard`` re-checks the follower's rights after
    every read and every wake-up, before anything is sent (it raises to end). A resumable
    stream ends a subscriber that falls too far behind; any other waits for it."""

    def pages(room: Room) -> AsyncGenerator[list[JobEvent], None]:
        return _stream_pages(runtime, stream, after, finished, room, heartbeat)

    bounds = _bounds(runtime, resumable=resumable)
    async for event in buffered(pages, bounds=bounds, guard=guard, position=_seq, after=after):
        yield event


def follow_job_events(
    runtime: Runtime,
    *,
    guard: Guard,
    stream: str,
    after: int,
    finished: Callable[[], Awaitable[bool]],
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[list[JobEvent]]:
    """A job's events after ``after``, page by page, each page read once for every follower
    of the stream in this process (``app.services.stream_readers``); ``finished`` must not
    depend on the follower (the reader asks it for everyone). Resumable: a follower that falls
    too far behind ends with SUBSCRIBER_TOO_SLOW."""

    async def read(position: int, limit: int) -> list[JobEvent]:
        return await read_after(runtime, stream, position, limit)

    spec = Spec(("events", stream), stream, read, _seq, finished, heartbeat)
    bounds = _bounds(runtime, resumable=True)
    return follow_shared(runtime, spec, guard=guard, after=after, bounds=bounds)


def _seq(event: JobEvent) -> int:
    return event.seq


def _workspace_seq(event: JobEvent) -> int:
    return event.workspace_seq


async def _stream_pages(
    runtime: Runtime,
    stream: str,
    after: int,
    finished: Callable[[], Awaitable[bool]],
    room: Room,
    heartbeat: float,
) -> AsyncGenerator[list[JobEvent], None]:
    """Pages read after ``after``; the reader (not the sender) holds the hub listener, so an
    overflow releases it at once. Listening starts before the first read: nothing is missed."""
    async with runtime.hub.listen(stream) as hints:
        last, woken = after, False
        while True:
            limit = min(await room(), PAGE)
            events = await read_after(runtime, stream, last, limit)
            if events or woken:
                yield events  # an empty page after a wake-up still re-checks the rights
            if events:
                last = events[-1].seq
            if len(events) == limit:
                continue  # more may be waiting: no need for a hint
            if await finished():
                events = await read_after(runtime, stream, last)  # anything written meanwhile
                if events:
                    yield events
                return
            await hints.wait(heartbeat)
            woken = True


async def read_workspace_after(
    runtime: Runtime, workspace_id: uuid.UUID, after: int, limit: int = PAGE
) -> list[JobEvent]:
    async with runtime.read_sessionmaker() as session:
        statement = (
            sa.select(JobEvent)
            .where(col(JobEvent.workspace_id) == workspace_id, col(JobEvent.workspace_seq) > after)
            .order_by(col(JobEvent.workspace_seq))
            .limit(min(limit, PAGE))
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


async def follow_workspace_pages(
    runtime: Runtime,
    *,
    guard: Guard,
    workspace_id: uuid.UUID,
    after: int | None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[list[JobEvent]]:
    """Every event of the workspace after ``after`` (None: from now on), in commit order and
    page by page, until the follower's rights end. Pages by the workspace sequence, never by
    a clock, each page read once for every follower of the workspace in this process."""
    # "Now" may be read before listening: the first read (after listening) catches up.
    cursor = after if after is not None else await last_workspace_seq(runtime, workspace_id)

    async def read(position: int, limit: int) -> list[JobEvent]:
        return await shared(
            ("activity", id(runtime), workspace_id, position, limit),
            lambda: read_workspace_after(runtime, workspace_id, position, limit),
        )

    stream = workspace_stream(workspace_id)
    spec = Spec(("activity", stream), stream, read, _workspace_seq, None, heartbeat)
    bounds = _bounds(runtime, resumable=True)
    async for page in follow_shared(runtime, spec, guard=guard, after=cursor, bounds=bounds):
        yield page


async def follow_workspace(
    runtime: Runtime,
    *,
    guard: Guard,
    workspace_id: uuid.UUID,
    after: int | None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[JobEvent]:
    """The same, event by event."""
    pages = follow_workspace_pages(
        runtime, guard=guard, workspace_id=workspace_id, after=after, heartbeat=heartbeat
    )
    async for page in pages:
        for event in page:
            yield event


def membership_ended() -> ForbiddenError:
    return ForbiddenError("You are no longer a member of this workspace.", reason=MEMBERSHIP_ENDED)
