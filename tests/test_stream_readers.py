"""One reader per stream per process: followers of a job share each read of its events, over
real sockets, and each keeps its own position, rights and bounded buffer."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from app.events.fanout import encode, shared_results
from app.ids import encode_global_id
from app.services.stream_readers import follower_count, readers
from app.settings import Settings
from tests.conftest import make_settings
from tests.graphql import Account, add_member, register
from tests.job_rows import owned_job, write_events
from tests.ws import listening, served_in_process, tcp_session, tcp_subscribe, until_listening

EVENTS = "subscription($j: ID!, $a: Int!) { jobEvents(jobId: $j, afterSeq: $a) { seq type } }"
WITH_PAYLOAD = (
    "subscription($j: ID!, $a: Int!) { jobEvents(jobId: $j, afterSeq: $a) { seq payload } }"
)
REMOVE = "mutation($m: ID!) { removeMember(input: {membershipId: $m}) { removedMembershipId } }"
CAPACITY = 10
GRACE = 0.3


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        subscriber_buffer_events=CAPACITY,
        subscriber_grace_seconds=GRACE,
    )


@pytest.fixture(autouse=True)
def fresh_counts() -> None:
    shared_results.clear()


@pytest.fixture
async def served(app: Starlette) -> AsyncIterator[str]:
    async with served_in_process(app, send_buffer=8192) as base:
        yield base.replace("http://", "ws://") + "/graphql"


def padded(index: int) -> dict[str, Any]:
    return {"index": index, "padding": "x" * 8000}


@contextmanager
def statements(app: Starlette) -> Iterator[list[str]]:
    """Every SQL statement the app's read engine runs meanwhile."""
    seen: list[str] = []
    engine = app.state.runtime.read_engine.sync_engine

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def _auth(account: Account) -> dict[str, str]:
    return {"Authorization": f"Bearer {_token(account)}"}


def _token(account: Account) -> str:
    assert account.gql.token is not None
    return account.gql.token


async def _message(ws: ClientConnection, timeout: float = 30) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return message


async def _seqs(ws: ClientConnection, sid: str, count: int | None = None) -> list[int]:
    """The seqs of ``sid``'s events: ``count`` of them, or all until its ``complete``."""
    seen: list[int] = []
    while count is None or len(seen) < count:
        message = await _message(ws)
        if message.get("id") != sid:
            continue
        if message["type"] == "complete":
            assert count is None, f"complete after {seen}"
            return seen
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        seen.append(message["payload"]["data"]["jobEvents"]["seq"])
    return seen


class TestOneReadPerStream:
    async def test_many_followers_share_each_read_and_recheck_rights_from_the_cache(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        variables = {"j": encode_global_id("Job", job_id), "a": 0}
        sockets = [await tcp_session(served, _token(owner)) for _ in range(12)]
        try:
            for ws in sockets:
                await tcp_subscribe(ws, "1", EVENTS, variables)
            await until_listening(app.state.runtime.hub, 12)
            assert len(readers()) == 1
            assert follower_count() == 12
            await write_events(app, workspace_id, job_id, range(1), payload=padded, last=False)
            assert [await _seqs(ws, "1", 1) for ws in sockets] == [[1]] * 12
            with statements(app) as seen:
                for seq in range(2, 6):
                    await write_events(
                        app, workspace_id, job_id, range(1), payload=padded, last=seq == 5
                    )
                    assert [await _seqs(ws, "1", 1) for ws in sockets] == [[seq]] * 12
                assert [await _seqs(ws, "1") for ws in sockets] == [[]] * 12  # then complete
        finally:
            for ws in sockets:
                await ws.close()
        event_reads = [s for s in seen if s.startswith("SELECT") and "FROM job_event" in s]
        # One read per hint for all twelve, never one per follower: PostgreSQL's hub hears a
        # commit twice (at once, then its NOTIFY), and the job's end reads once more.
        assert 4 <= len(event_reads) <= 2 * 4 + 2, event_reads
        assert not [s for s in seen if "membership" in s or "FROM user" in s], seen
        assert readers() == []
        assert follower_count() == 0

    async def test_followers_joining_late_or_resuming_get_their_own_events_in_order(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        job = encode_global_id("Job", job_id)
        early = await tcp_session(served, _token(owner))
        await tcp_subscribe(early, "e", EVENTS, {"j": job, "a": 0})
        await until_listening(app.state.runtime.hub, 1)
        writing = asyncio.create_task(
            write_events(app, workspace_id, job_id, range(30), payload=padded, last=True)
        )
        late: list[tuple[ClientConnection, int]] = []
        for after in (0, 3, 7, 100):  # joining while the events are being written
            await asyncio.sleep(0.02)
            ws = await tcp_session(served, _token(owner))
            await tcp_subscribe(ws, "l", EVENTS, {"j": job, "a": after})
            late.append((ws, after))
        try:
            await writing
            assert await _seqs(early, "e") == list(range(1, 31))
            for ws, after in late:
                assert await _seqs(ws, "l") == list(range(after + 1, 31))
        finally:
            await early.close()
            for ws, _after in late:
                await ws.close()

    async def test_a_removed_member_ends_4403_while_the_others_follow_on(
        self, app: Starlette, owner: Account, http: httpx.AsyncClient, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        member = await register(http, "Member")
        membership = await add_member(owner, member, "VIEWER")
        variables = {"j": encode_global_id("Job", job_id), "a": 0}
        watchers = [await tcp_session(served, _token(owner)) for _ in range(3)]
        viewer = await tcp_session(served, _token(member))
        try:
            for ws in (*watchers, viewer):
                await tcp_subscribe(ws, "1", EVENTS, variables)
            await until_listening(app.state.runtime.hub, 4)
            await write_events(app, workspace_id, job_id, range(1), payload=padded, last=False)
            assert await _seqs(viewer, "1", 1) == [1]
            (await owner.gql(REMOVE, {"m": membership})).ok()
            await write_events(app, workspace_id, job_id, range(2), payload=padded, last=True)
            ended = await _message(viewer)
            await asyncio.wait_for(viewer.wait_closed(), 10)
            seen = [await _seqs(ws, "1") for ws in watchers]
        finally:
            for ws in (*watchers, viewer):
                await ws.close()
        assert viewer.close_code == 4403
        assert ended["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert seen == [[1, 2, 3]] * 3


class TestDirectFrames:
    async def test_frames_written_directly_are_the_bytes_the_handler_sends(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        variables = {"j": encode_global_id("Job", job_id), "a": 0}
        ws = await tcp_session(served, _token(owner))
        legacy = await connect(served, subprotocols=[Subprotocol("graphql-ws")])
        try:
            await legacy.send(json.dumps({"type": "connection_init", "payload": _auth(owner)}))
            assert json.loads(await legacy.recv())["type"] == "connection_ack"
            start = {"query": EVENTS, "variables": variables}
            await legacy.send(json.dumps({"id": "g", "type": "start", "payload": start}))
            await tcp_subscribe(ws, "t", EVENTS, variables)
            await until_listening(app.state.runtime.hub, 2)
            await write_events(app, workspace_id, job_id, range(3), payload=padded, last=True)
            modern = [await ws.recv() for _ in range(3)]
            old = [raw for raw in [await legacy.recv() for _ in range(4)] if '"ka"' not in raw]
        finally:
            await ws.close()
            await legacy.close()
        # Each socket's first event went through the handler; after it, the first follower
        # to take an event executes it for everyone, and the other writes its frame directly.
        assert shared_results.written == 2
        for kind, sid, frames in (("next", "t", modern), ("data", "g", old[:3])):
            for seq, frame in enumerate(frames, 1):
                data = {"jobEvents": {"seq": seq, "type": f"e{seq - 1}"}}
                assert (
                    frame == f'{{"id":"{sid}","type":"{kind}","payload":{encode({"data": data})}}}'
                )


class TestSlowFollower:
    async def test_a_reader_that_stops_gets_a_resumable_end_and_nobody_waits(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        job = encode_global_id("Job", job_id)
        hub = app.state.runtime.hub
        total = 120  # of 8 kB each: far more than the socket buffers hold
        slow = await _stalled(served, _token(owner))
        fast = await tcp_session(served, _token(owner), compression=None)
        await tcp_subscribe(slow, "slow", WITH_PAYLOAD, {"j": job, "a": 0})
        await tcp_subscribe(fast, "fast", WITH_PAYLOAD, {"j": job, "a": 0})
        await until_listening(hub, 2)
        fast_reader = asyncio.create_task(_seqs(fast, "fast", total))
        await write_events(app, workspace_id, job_id, range(total), payload=padded, last=False)
        assert await asyncio.wait_for(fast_reader, 60) == list(range(1, total + 1))
        for _ in range(200):  # its buffer overflows and is dropped from the reader
            if listening(hub) == 1:
                break
            await asyncio.sleep(0.05)
        assert listening(hub) == 1
        received: list[int] = []
        while "errors" not in (message := await _message(slow))["payload"]:
            received.append(message["payload"]["data"]["jobEvents"]["seq"])
        error = message["payload"]["errors"][0]["extensions"]
        assert error["code"] == "SUBSCRIBER_TOO_SLOW"
        assert 0 < len(received) < total
        assert received == list(range(1, len(received) + 1))
        assert error["afterSeq"] == received[-1]
        assert (await _message(slow))["type"] == "complete"
        await tcp_subscribe(slow, "again", WITH_PAYLOAD, {"j": job, "a": error["afterSeq"]})
        received += await _seqs(slow, "again", total - len(received))
        assert received == list(range(1, total + 1))  # nothing lost, nothing twice
        await slow.close()
        await fast.close()


async def _stalled(url: str, token: str) -> ClientConnection:
    """A connection whose reader stops: a tiny kernel buffer, and one message queued at most."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    host, port = url.removeprefix("ws://").split("/")[0].split(":")
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    return await tcp_session(url, token, sock=sock, max_queue=1, compression=None)
