"""A slow subscriber gets a bounded buffer and, when it overflows, a resumable end.

It never slows anyone else: a follower reading at full speed receives every event while the
slow one reads nothing. Over a real TCP socket whose reader has stopped, the server drops the
slow subscriber's buffer and listener at once, tells it ``SUBSCRIBER_TOO_SLOW`` with
``afterSeq`` once it reads again, and resuming from there loses nothing.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection

from app.errors import SubscriberTooSlowError
from app.ids import decode_global_id
from app.models import JobEvent
from app.services.events import job_stream, record
from app.services.following import follow_workspace
from app.settings import Settings
from tests.conftest import make_settings
from tests.graphql import Account
from tests.ws import listening, served_in_process, tcp_session, tcp_subscribe

CAPACITY = 10
GRACE = 0.3
ACTIVITY = """subscription($w: ID!, $a: Int) {
  workspaceActivity(workspaceId: $w, afterSeq: $a) { workspaceSeq payload }
}"""


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        subscriber_buffer_events=CAPACITY,
        subscriber_grace_seconds=GRACE,
    )


async def _allow() -> None:
    return None


async def _write(app: Starlette, workspace_id: uuid.UUID, count: int, size: int = 10) -> None:
    runtime = app.state.runtime
    for n in range(count):
        async with runtime.sessionmaker() as session, session.begin():
            await record(
                session,
                workspace_id=workspace_id,
                stream_id=job_stream(workspace_id),
                type="test.event",
                payload={"n": n, "padding": "x" * size},
            )


async def test_a_stalled_follower_ends_resumably_and_never_slows_another(
    app: Starlette, owner: Account
) -> None:
    runtime = app.state.runtime
    workspace_id = decode_global_id(owner.workspace_id).id
    total = 60
    slow = aiter(follow_workspace(runtime, guard=_allow, workspace_id=workspace_id, after=0))
    fast = follow_workspace(runtime, guard=_allow, workspace_id=workspace_id, after=0)
    first = asyncio.ensure_future(anext(slow))
    await asyncio.sleep(0.2)  # both are listening before anything is written

    async def read_fast() -> list[int]:
        seen: list[int] = []
        async for event in fast:
            seen.append(event.workspace_seq)
            if len(seen) == total:
                return seen
        raise AssertionError("the fast follower's stream ended")

    fast_reader = asyncio.create_task(read_fast())
    await asyncio.sleep(0.2)
    await _write(app, workspace_id, total)
    received = [(await first).workspace_seq]
    # The slow follower now takes nothing for far longer than the grace; the fast one gets all.
    assert await asyncio.wait_for(fast_reader, 30) == list(range(1, total + 1))
    await asyncio.sleep(GRACE * 5)
    with pytest.raises(SubscriberTooSlowError) as ended:
        await _drain(slow, received)
    after = ended.value.extensions["afterSeq"]
    assert len(received) < total  # it really overflowed
    assert received == list(range(1, len(received) + 1))
    assert after == received[-1]
    resumed = follow_workspace(runtime, guard=_allow, workspace_id=workspace_id, after=after)
    async for event in resumed:
        received.append(event.workspace_seq)
        if len(received) == total:
            break
    assert received == list(range(1, total + 1))  # nothing lost, nothing twice


async def _drain(events: AsyncIterator[JobEvent], into: list[int]) -> None:
    async for event in events:
        into.append(event.workspace_seq)


@pytest.fixture
async def served_app(app: Starlette) -> AsyncIterator[int]:
    """The test's app behind a real uvicorn whose sockets buffer little."""
    async with served_in_process(app, send_buffer=8192) as base:
        yield int(base.rsplit(":", 1)[1])


async def _open(port: int, token: str, *, slow: bool) -> ClientConnection:
    sock = None
    if slow:  # a reader that stops reading: tiny kernel buffer, and one message queued at most
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return await tcp_session(
        f"ws://127.0.0.1:{port}/graphql",
        token,
        sock=sock,
        max_queue=1 if slow else 16,
        compression=None,  # the padding would shrink to nothing
    )


async def _subscribe(ws: ClientConnection, sid: str, workspace: str, after: int) -> None:
    await tcp_subscribe(ws, sid, ACTIVITY, {"w": workspace, "a": after})


async def _message(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
    return message


async def _read_all(ws: ClientConnection, sid: str, count: int) -> list[int]:
    seen: list[int] = []
    while len(seen) < count:
        message = await _message(ws)
        assert (message["id"], message["type"]) == (sid, "next"), message
        seen.append(message["payload"]["data"]["workspaceActivity"]["workspaceSeq"])
    return seen


async def test_over_tcp_a_reader_that_stops_gets_a_resumable_end(
    app: Starlette, owner: Account, served_app: int
) -> None:
    token = owner.gql.token
    assert token is not None
    workspace_id = decode_global_id(owner.workspace_id).id
    hub = app.state.runtime.hub
    total, size = 120, 8_000  # about 1 MB: far more than the socket buffers hold
    slow = await _open(served_app, token, slow=True)
    fast = await _open(served_app, token, slow=False)
    await _subscribe(slow, "slow", owner.workspace_id, 0)
    await _subscribe(fast, "fast", owner.workspace_id, 0)
    while listening(hub) < 2:
        await asyncio.sleep(0.02)
    fast_reader = asyncio.create_task(_read_all(fast, "fast", total))
    await _write(app, workspace_id, total, size)
    assert await asyncio.wait_for(fast_reader, 60) == list(range(1, total + 1))
    # The slow reader has read nothing yet; its buffer overflows and is dropped on the server.
    for _ in range(200):
        if listening(hub) == 1:
            break
        await asyncio.sleep(0.05)
    assert listening(hub) == 1
    received: list[int] = []
    while True:
        message = await _message(slow)
        assert (message["id"], message["type"]) == ("slow", "next"), message
        payload = message["payload"]
        if payload.get("errors"):
            break
        received.append(payload["data"]["workspaceActivity"]["workspaceSeq"])
    error = payload["errors"][0]["extensions"]
    assert error["code"] == "SUBSCRIBER_TOO_SLOW"
    assert 0 < len(received) < total
    assert received == list(range(1, len(received) + 1))
    assert error["afterSeq"] == received[-1]
    assert (await _message(slow))["type"] == "complete"
    await _subscribe(slow, "again", owner.workspace_id, error["afterSeq"])
    received += await _read_all(slow, "again", total - len(received))
    assert received == list(range(1, total + 1))
    await slow.close()
    await fast.close()
