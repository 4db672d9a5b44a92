"""Live progress over real WebSockets: complete, ordered, resumable, and race-free."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from app.ids import decode_global_id, encode_global_id
from app.main import create_app
from app.models import Job
from app.models.enums import JobStatus
from app.services.events import job_stream, record
from tests.conftest import engine_app, lifespan, make_settings
from tests.generation_helpers import generate
from tests.graphql import Account, add_member, create_campaign, create_client, register
from tests.job_rows import insert_job
from tests.test_jobs import CREATE, brief
from tests.ws import subscribe_all, until_listening, ws_session

EVENTS = "subscription($j: ID!, $after: Int!) { jobEvents(jobId: $j, afterSeq: $after) { seq type payload } }"


@pytest.fixture
async def live(database_url: str, tmp_path: Path) -> AsyncIterator[tuple[Starlette, Account]]:
    async with engine_app(database_url, tmp_path) as (app, http):
        yield app, await register(http)


class TestJobStream:
    async def test_a_websocket_client_sees_every_event_in_order_to_completion(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, account = live
        client = await create_client(account.gql, account.workspace_id)
        campaign = await create_campaign(account.gql, client)
        job_id = (await account.gql(CREATE, {"i": brief(client, campaign, 15)})).ok()["createJob"][
            "job"
        ]["id"]

        async def approve_when_ready() -> None:
            for _ in range(600):
                status = (
                    await account.gql(
                        "query($id: ID!) { node(id: $id) { ... on Job { status } } }",
                        {"id": job_id},
                    )
                ).ok()["node"]["status"]
                if status == "STORYBOARD_READY":
                    (
                        await account.gql(
                            "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }",
                            {"j": job_id},
                        )
                    ).ok()
                    return
                await asyncio.sleep(0.1)

        approver = asyncio.create_task(approve_when_ready())
        async with ws_session(app, account.gql.token) as ws:
            events = await subscribe_all(ws, EVENTS, {"j": job_id, "after": 0}, timeout=120)
        await approver
        seqs = [e["data"]["jobEvents"]["seq"] for e in events]
        assert seqs == list(range(1, len(seqs) + 1))
        types = [e["data"]["jobEvents"]["type"] for e in events]
        assert types[0] == "job.created"
        assert "job.storyboard_ready" in types
        assert "job.approved" in types
        assert types[-1] == "job.completed"

        async with ws_session(app, account.gql.token) as ws:
            resumed = await subscribe_all(ws, EVENTS, {"j": job_id, "after": seqs[4]})
        assert [e["data"]["jobEvents"]["seq"] for e in resumed] == seqs[5:]

    async def test_events_racing_the_subscription_are_never_lost_or_repeated(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, account = live
        runtime = app.state.runtime
        workspace_id = decode_global_id(account.workspace_id).id
        client = decode_global_id(await create_client(account.gql, account.workspace_id)).id
        async with ws_session(app, account.gql.token) as ws:
            for _ in range(100):
                job = await insert_job(runtime, workspace_id, client)
                job_id = encode_global_id("Job", job)
                writer = asyncio.create_task(_write_events(runtime, workspace_id, job, 20))
                received = await subscribe_all(ws, EVENTS, {"j": job_id, "after": 0}, timeout=30)
                await writer
                assert [e["data"]["jobEvents"]["seq"] for e in received] == list(range(1, 21))

    async def test_strangers_and_bad_tokens_get_nothing(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, account = live
        runtime = app.state.runtime
        job = await insert_job(
            runtime,
            decode_global_id(account.workspace_id).id,
            decode_global_id(await create_client(account.gql, account.workspace_id)).id,
        )
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        async with http:
            stranger = await register(http, "Stranger")
        async with ws_session(app, stranger.gql.token) as ws:
            await ws.send_json(
                {
                    "id": "x",
                    "type": "subscribe",
                    "payload": {
                        "query": EVENTS,
                        "variables": {"j": encode_global_id("Job", job), "after": 0},
                    },
                }
            )
            message = await ws.receive_json(timeout=10)
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


async def _write_events(
    runtime: object,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    count: int,
    *,
    finish: bool = True,
    start: int = 0,
) -> None:
    for index in range(start, start + count):
        async with runtime.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
            if finish and index == start + count - 1:
                job = await session.get(Job, job_id)
                job.status = JobStatus.CANCELLED
            await record(
                session, workspace_id=workspace_id, stream_id=job_stream(job_id), type=f"e{index}"
            )
        if index % 5 == 0:
            await asyncio.sleep(0)


class TestAccessAndTransports:
    async def test_a_member_removed_mid_stream_stops_receiving(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, owner = live
        runtime = app.state.runtime
        workspace_id = decode_global_id(owner.workspace_id).id
        job = await insert_job(
            runtime,
            workspace_id,
            decode_global_id(await create_client(owner.gql, owner.workspace_id)).id,
        )
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        )
        async with http:
            member = await register(http, "Member")
            membership = await add_member(owner, member, "VIEWER")
        async with ws_session(app, member.gql.token) as ws:
            await ws.send_json(
                {
                    "id": "m",
                    "type": "subscribe",
                    "payload": {
                        "query": EVENTS,
                        "variables": {"j": encode_global_id("Job", job), "after": 0},
                    },
                }
            )
            await _write_events(runtime, workspace_id, job, 1, finish=False)
            first = await ws.receive_json(timeout=10)
            assert first["type"] == "next"
            (
                await owner.gql(
                    "mutation($m: ID!) { removeMember(input: {membershipId: $m}) { removedMembershipId } }",
                    {"m": membership},
                )
            ).ok()
            await _write_events(runtime, workspace_id, job, 1, finish=False, start=1)
            ended = await ws.receive_json(timeout=10)
        assert ended["type"] in {"next", "error"}
        errors = ended["payload"] if ended["type"] == "error" else ended["payload"].get("errors")
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"

    async def test_workspace_activity_streams_new_events(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, owner = live
        runtime = app.state.runtime
        workspace_id = decode_global_id(owner.workspace_id).id
        job = await insert_job(
            runtime,
            workspace_id,
            decode_global_id(await create_client(owner.gql, owner.workspace_id)).id,
        )
        async with ws_session(app, owner.gql.token) as ws:
            await ws.send_json(
                {
                    "id": "a",
                    "type": "subscribe",
                    "payload": {
                        "query": "subscription($w: ID!) { workspaceActivity(workspaceId: $w) { stream seq type } }",
                        "variables": {"w": owner.workspace_id},
                    },
                }
            )
            await until_listening(runtime.hub)  # "now" is read: the next events are after it
            await _write_events(runtime, workspace_id, job, 3, finish=False)
            got = [
                (await ws.receive_json(timeout=10))["payload"]["data"]["workspaceActivity"]
                for _ in range(3)
            ]
        assert [(g["seq"], g["type"]) for g in got] == [(1, "e0"), (2, "e1"), (3, "e2")]

    async def test_origins_outside_the_allow_list_are_refused(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, cors_origins=["https://app.example"])
        app = create_app(settings)
        async with lifespan(app):
            transport = ASGIWebSocketTransport(app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                with pytest.raises(WebSocketDisconnect) as closed:
                    async with aconnect_ws(
                        "http://testserver/graphql",
                        client,
                        subprotocols=["graphql-transport-ws"],
                        headers={"Origin": "https://evil.example"},
                    ):
                        pass
        assert closed.value.code == 1008

    async def test_the_legacy_graphql_ws_protocol_works_too(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, owner = live
        runtime = app.state.runtime
        workspace_id = decode_global_id(owner.workspace_id).id
        job = await insert_job(
            runtime,
            workspace_id,
            decode_global_id(await create_client(owner.gql, owner.workspace_id)).id,
        )
        await _write_events(runtime, workspace_id, job, 3)
        async with (
            httpx.AsyncClient(
                transport=ASGIWebSocketTransport(app), base_url="http://testserver"
            ) as client,
            _legacy(client) as ws,
        ):
            await ws.send_json(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {owner.gql.token}"},
                }
            )
            assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
            await ws.send_json(
                {
                    "id": "1",
                    "type": "start",
                    "payload": {
                        "query": EVENTS,
                        "variables": {"j": encode_global_id("Job", job), "after": 0},
                    },
                }
            )
            seqs = []
            while True:
                message = await ws.receive_json(timeout=10)
                if message["type"] == "data":
                    seqs.append(message["payload"]["data"]["jobEvents"]["seq"])
                elif message["type"] == "complete":
                    break
        assert seqs == [1, 2, 3]


def _legacy(client: httpx.AsyncClient) -> AbstractAsyncContextManager[AsyncWebSocketSession]:
    return aconnect_ws("http://testserver/graphql", client, subprotocols=["graphql-ws"])


class TestServerSentEvents:
    async def test_http_only_clients_get_the_stream_as_events(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, owner = live
        runtime = app.state.runtime
        workspace_id = decode_global_id(owner.workspace_id).id
        job = await insert_job(
            runtime,
            workspace_id,
            decode_global_id(await create_client(owner.gql, owner.workspace_id)).id,
        )
        await _write_events(runtime, workspace_id, job, 4)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            response = await http.post(
                "/graphql/stream",
                json={
                    "query": EVENTS,
                    "variables": {"j": encode_global_id("Job", job), "after": 1},
                },
                headers={
                    "Authorization": f"Bearer {owner.gql.token}",
                    "Accept": "text/event-stream",
                },
            )
        assert response.headers["content-type"].startswith("text/event-stream")
        blocks = [b for b in response.text.split("\n\n") if b.strip()]
        names = [b.split("\n")[0] for b in blocks]
        assert names == ["event: next"] * 3 + ["event: complete"]
        seqs = [json.loads(b.split("data: ", 1)[1])["data"]["jobEvents"]["seq"] for b in blocks[:3]]
        assert seqs == [2, 3, 4]

    async def test_without_credentials_the_stream_says_why(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, _ = live
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http:
            response = await http.post(
                "/graphql/stream", json={"query": EVENTS, "variables": {"j": "x", "after": 0}}
            )
        first = json.loads(response.text.split("data: ", 1)[1].split("\n", 1)[0])
        assert first["errors"][0]["extensions"]["code"] in {"UNAUTHENTICATED", "BAD_USER_INPUT"}


class TestConnections:
    async def test_a_generation_streams_to_its_final_state(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, owner = live
        started = await generate(
            owner.gql, "image", {"workspaceId": owner.workspace_id, "prompt": "x"}
        )
        async with ws_session(app, owner.gql.token) as ws:
            updates = await subscribe_all(
                ws,
                "subscription($g: ID!) { generationUpdated(id: $g) { status } }",
                {"g": started["id"]},
            )
        statuses = [u["data"]["generationUpdated"]["status"] for u in updates]
        assert statuses[-1] == "SUCCEEDED"
        assert statuses[0] in {"QUEUED", "RUNNING", "SUCCEEDED"}

    async def test_subscriptions_per_connection_are_capped(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, max_subscriptions_per_connection=2)
        app = create_app(settings)
        async with lifespan(app):
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver"
            )
            async with http:
                owner = await register(http)
                client = await create_client(owner.gql, owner.workspace_id)
            runtime = app.state.runtime
            workspace_id = decode_global_id(owner.workspace_id).id
            job = await insert_job(runtime, workspace_id, decode_global_id(client).id)
            variables = {"j": encode_global_id("Job", job), "after": 0}
            async with ws_session(app, owner.gql.token) as ws:
                for sid in ("1", "2", "3"):
                    await ws.send_json(
                        {
                            "id": sid,
                            "type": "subscribe",
                            "payload": {"query": EVENTS, "variables": variables},
                        }
                    )
                message = await ws.receive_json(timeout=10)
        assert message["id"] == "3"
        assert message["type"] == "error"
        assert "limit" in message["payload"][0]["message"].lower()

    async def test_disconnecting_leaves_nothing_behind(
        self, live: tuple[Starlette, Account]
    ) -> None:
        app, owner = live
        runtime = app.state.runtime
        hub = runtime.hub
        workspace_id = decode_global_id(owner.workspace_id).id
        job = await insert_job(
            runtime,
            workspace_id,
            decode_global_id(await create_client(owner.gql, owner.workspace_id)).id,
        )
        before = len(asyncio.all_tasks())
        for _ in range(5):
            async with ws_session(app, owner.gql.token) as ws:
                await ws.send_json(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {
                            "query": EVENTS,
                            "variables": {"j": encode_global_id("Job", job), "after": 0},
                        },
                    }
                )
                for _ in range(200):  # the subscription registers once its first read is done
                    if hub.listener_count >= 1:
                        break
                    await asyncio.sleep(0.025)
                assert hub.listener_count >= 1
        for _ in range(50):
            if hub.listener_count == 0 and len(asyncio.all_tasks()) <= before:
                break
            await asyncio.sleep(0.05)
        assert hub.listener_count == 0
        assert len(asyncio.all_tasks()) <= before
