"""Thousands of subscribers come and go over real sockets; none hangs, nothing stays behind.

Many clients at once connect, subscribe to the same job (so their reads are shared) and leave,
some before their first result (during a shared read), some after it. Every one that waits
gets a first result, an error or a completion; afterwards no listener, task or shared read is
left and memory is back where it was. And members removed mid-stream, many at once while the
others keep streaming, never receive another event.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection

from app.ids import decode_global_id, encode_global_id
from app.models import JobEvent
from app.services.events import job_stream
from app.settings import Settings
from app.single_flight import in_flight_count
from tests.conftest import make_settings
from tests.graphql import Account, add_member, create_client, register
from tests.job_rows import insert_job
from tests.test_subscriptions import EVENTS, _write_events
from tests.workers import HEAVY
from tests.ws import served_in_process, tcp_session, tcp_subscribe

pytestmark = HEAVY

CYCLES = int(__import__("os").environ.get("CHURN_CYCLES", "5000"))
CLIENTS = 25
UPDATED = "subscription($j: ID!) { jobUpdated(jobId: $j) { id status } }"
REMOVE = "mutation($m: ID!) { removeMember(input: {membershipId: $m}) { removedMembershipId } }"


@pytest.fixture
def dialect() -> str:
    return "postgresql"  # the pooled database: a lost connection would show as exhaustion


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path, max_subscriptions_per_connection=20)


@pytest.fixture
async def base(app: Starlette) -> AsyncIterator[str]:
    async with served_in_process(app) as url:
        yield url.replace("http://", "ws://") + "/graphql"


async def _open(url: str, token: str) -> ClientConnection:
    # Reading never pauses (max_queue=None): a client that closes while unread events pile
    # up still reads on to the server's close frame, as browsers do.
    return await tcp_session(url, token, max_queue=None)


async def _job_with_events(app: Starlette, owner: Account, events: int) -> uuid.UUID:
    runtime = app.state.runtime
    workspace_id = decode_global_id(owner.workspace_id).id
    client = decode_global_id(await create_client(owner.gql, owner.workspace_id)).id
    job_id = await insert_job(runtime, workspace_id, client)
    await _write_events(runtime, workspace_id, job_id, events, finish=False)
    return job_id


async def _cycle(url: str, token: str, job: str, n: int) -> bool:
    """One connect/subscribe/disconnect; False when a waiting subscriber got nothing."""
    ws = await _open(url, token)
    try:
        query, variables = (UPDATED, {"j": job}) if n % 2 else (EVENTS, {"j": job, "after": 0})
        await tcp_subscribe(ws, "1", query, variables)
        if n % 3 == 0:
            return True  # leaves at once, in the middle of the shared reads of the others
        try:
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        except TimeoutError:
            return False
        return bool(message.get("type") in {"next", "error", "complete"})
    finally:
        await ws.close()


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


async def _settled(app: Starlette, tasks: int) -> None:
    hub = app.state.runtime.hub
    for _ in range(200):
        if hub.listener_count == 0 and in_flight_count() == 0 and len(asyncio.all_tasks()) <= tasks:
            return
        await asyncio.sleep(0.05)


async def test_thousands_of_churning_subscribers_never_hang_and_leave_nothing(
    app: Starlette, owner: Account, base: str
) -> None:
    runtime = app.state.runtime
    workspace_id = decode_global_id(owner.workspace_id).id
    job_id = await _job_with_events(app, owner, 3)
    job, token = encode_global_id("Job", job_id), owner.gql.token or ""

    async def run(cycles: int) -> int:
        async def client_loop(k: int) -> int:
            results = [await _cycle(base, token, job, k * cycles + i) for i in range(cycles)]
            return results.count(False)

        return sum(await asyncio.gather(*(client_loop(k) for k in range(CLIENTS))))

    tasks = len(asyncio.all_tasks())
    assert await run(10) == 0  # warm-up: caches, pools and imports reach their working size
    await _settled(app, tasks)
    gc.collect()
    rss = _rss_mib()
    writer = asyncio.create_task(
        _write_events(runtime, workspace_id, job_id, 200, start=3, finish=False)
    )
    hung = await run(CYCLES // CLIENTS)
    await writer
    await _settled(app, tasks)
    gc.collect()
    assert hung == 0
    assert runtime.hub.listener_count == 0
    assert in_flight_count() == 0
    assert len(asyncio.all_tasks()) <= tasks
    assert _rss_mib() - rss < 40, (rss, _rss_mib())


async def _last_seq(app: Starlette, job_id: uuid.UUID) -> int:
    async with app.state.runtime.sessionmaker() as session:
        last = await session.scalar(
            sa.select(sa.func.max(col(JobEvent.seq))).where(
                col(JobEvent.stream_id) == job_stream(job_id)
            )
        )
    return int(last or 0)


async def _removed_member_sees_no_more(
    app: Starlette, url: str, owner: Account, member: Account, membership: str, job_id: uuid.UUID
) -> None:
    """After the removal commits, no event written later reaches the member; its stream ends
    with FORBIDDEN. (Events written before the removal may still be on their way.)"""
    ws = await _open(url, member.gql.token or "")
    try:
        await tcp_subscribe(ws, "m", EVENTS, {"j": encode_global_id("Job", job_id), "after": 0})
        first = json.loads(await asyncio.wait_for(ws.recv(), 20))
        assert first["type"] == "next", first
        (await owner.gql(REMOVE, {"m": membership})).ok()
        written_before = await _last_seq(app, job_id)  # every later seq was written after it
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 20))
            payload = message["payload"]
            errors = payload if message["type"] == "error" else payload.get("errors")
            if errors:
                assert errors[0]["extensions"]["code"] == "FORBIDDEN", message
                return
            assert payload["data"]["jobEvents"]["seq"] <= written_before, message
    finally:
        await ws.close()


async def test_members_removed_mid_stream_all_stop_while_others_stream(
    app: Starlette, owner: Account, base: str
) -> None:
    """Fifty removals at once while events keep coming: none sees an event written after."""
    runtime = app.state.runtime
    workspace_id = decode_global_id(owner.workspace_id).id
    job_id = await _job_with_events(app, owner, 1)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        members = [await register(http, f"M{i}") for i in range(50)]
        memberships = [await add_member(owner, m, "VIEWER") for m in members]
    stop = asyncio.Event()

    async def keep_writing() -> None:  # the next events race every removal
        n = 1
        while not stop.is_set():
            await _write_events(runtime, workspace_id, job_id, 1, finish=False, start=n)
            n += 1
            await asyncio.sleep(0.005)

    writer = asyncio.create_task(keep_writing())
    try:
        await asyncio.gather(
            *(
                _removed_member_sees_no_more(app, base, owner, m, ms, job_id)
                for m, ms in zip(members, memberships, strict=True)
            )
        )
    finally:
        stop.set()
        await writer
