"""workspaceActivity loses nothing: it pages by the workspace sequence, assigned in commit order.

Twenty writers commit 3,000 events at once (on PostgreSQL their transactions really overlap);
a follower that started before them receives every one, once, in order. Paging by a time set
before commit, as it once did, skipped events whose transaction committed late.
"""

from __future__ import annotations

import asyncio

from starlette.applications import Starlette

from app.ids import decode_global_id
from app.services.events import job_stream, record
from app.services.following import follow_workspace
from tests.graphql import Account
from tests.ws import until_listening

WRITERS = 20
PER_WRITER = 150


async def _no_check() -> None:
    return None


async def test_a_follower_receives_every_event_of_concurrent_writers_in_order(
    app: Starlette, owner: Account
) -> None:
    runtime = app.state.runtime
    workspace_id = decode_global_id(owner.workspace_id).id
    total = WRITERS * PER_WRITER
    received: list[int] = []

    async def follow() -> None:
        stream = follow_workspace(runtime, guard=_no_check, workspace_id=workspace_id, after=None)
        async for event in stream:
            received.append(event.workspace_seq)
            if len(received) == total:
                return

    async def write(writer: int) -> None:
        for n in range(PER_WRITER):
            async with runtime.sessionmaker() as session, session.begin():
                await record(
                    session,
                    workspace_id=workspace_id,
                    stream_id=job_stream(decode_global_id(owner.workspace_id).id),
                    type="test.event",
                    payload={"writer": writer, "n": n},
                )

    follower = asyncio.create_task(follow())
    await until_listening(runtime.hub)  # the follower has read "now" before the first write
    await asyncio.gather(*(write(w) for w in range(WRITERS)))
    await asyncio.wait_for(follower, 120)
    first = received[0]
    assert received == list(range(first, first + total))  # every one, once, in order
