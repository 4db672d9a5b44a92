"""Live connections never outlive their rights: every operation and every event is re-checked."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from httpx_ws import AsyncWebSocketSession, WebSocketDisconnect, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

from app.clock import ManualClock
from app.http.sse import with_keep_alive
from app.ids import decode_global_id, encode_global_id
from app.main import create_app
from app.schema.live import FORBIDDEN_CLOSE, UNAUTHORIZED_CLOSE
from tests.conftest import lifespan, make_settings
from tests.graphql import Account, add_member, create_client, register
from tests.job_rows import insert_job
from tests.test_subscriptions import EVENTS, _write_events
from tests.ws import served_in_process

CREATE_CLIENT = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }"
RENAME = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { name } } }"
DELETE = "mutation($i: DeleteClientInput!) { deleteClient(input: $i) { deletedClientId } }"
ROLE = (
    "mutation($i: UpdateMemberRoleInput!) { updateMemberRole(input: $i) { membership { role } } }"
)
REMOVE = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) { removedMembershipId } }"
LOGOUT = "mutation { logout(input: {}) { ok } }"
CREATE_KEY = 'mutation { createApiKey(input: {name: "late"}) { secret } }'
_ids = itertools.count(1)
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


class Socket:
    """Either protocol, one shape: run an operation, read what comes for it, see the close."""

    def __init__(self, ws: AsyncWebSocketSession, protocol: str) -> None:
        self.ws: AsyncWebSocketSession = ws
        self.legacy = protocol == "graphql-ws"

    async def start(self, query: str, variables: dict[str, Any] | None = None) -> str:
        sid = str(next(_ids))
        kind = "start" if self.legacy else "subscribe"
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send_json({"id": sid, "type": kind, "payload": payload})
        return sid

    async def result(self, sid: str, timeout: float = 10) -> dict[str, Any]:
        """The next result for ``sid`` (``data``/``next``, or errors from ``error``)."""
        while True:
            message = await self.ws.receive_json(timeout=timeout)
            if message.get("id") != sid or message["type"] == "ka":
                continue
            if message["type"] in {"next", "data"}:
                return dict(message["payload"])
            if message["type"] == "error":
                payload = message["payload"]
                return {"errors": payload if isinstance(payload, list) else [payload]}
            raise AssertionError(message)

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.result(await self.start(query, variables))

    async def closed_with(self, timeout: float = 15) -> int:
        try:
            while True:
                await self.ws.receive_json(timeout=timeout)
        except WebSocketDisconnect as closed:
            return closed.code
        raise AssertionError("still open")  # pragma: no cover


def _codes(result: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code", "") for e in result.get("errors") or []]


@pytest.fixture
async def live(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Starlette, ManualClock, httpx.AsyncClient]]:
    clock = ManualClock()
    app = create_app(make_settings(database_url, tmp_path), clock=clock)
    async with lifespan(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield app, clock, http


def _connect(
    client: httpx.AsyncClient, protocol: str
) -> AbstractAsyncContextManager[AsyncWebSocketSession]:
    return aconnect_ws("http://testserver/graphql", client, subprotocols=[protocol])


@asynccontextmanager
async def socket(app: Starlette, token: str, protocol: str) -> AsyncIterator[Socket]:
    transport = ASGIWebSocketTransport(app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        _connect(client, protocol) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert (await ws.receive_json(timeout=10))["type"] == "connection_ack"
        yield Socket(ws, protocol)


async def _team(http: httpx.AsyncClient, role: str) -> tuple[Account, Account, str, str]:
    owner, member = await register(http, "Owner"), await register(http, "Member")
    membership = await add_member(owner, member, role)
    client = await create_client(owner.gql, owner.workspace_id)
    return owner, member, membership, client


@pytest.mark.parametrize("protocol", PROTOCOLS)
class TestOperationsOverAnOpenSocket:
    async def test_a_removed_member_can_no_longer_rename_or_create(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], protocol: str
    ) -> None:
        app, _, http = live
        owner, member, membership, client = await _team(http, "EDITOR")
        async with socket(app, member.gql.token or "", protocol) as ws:
            renamed = await ws.run(RENAME, {"i": {"id": client, "name": "Before"}})
            assert renamed["data"]["updateClient"]["client"]["name"] == "Before"
            (await owner.gql(REMOVE, {"i": {"membershipId": membership}})).ok()
            renamed = await ws.run(RENAME, {"i": {"id": client, "name": "After"}})
            created = await ws.run(
                CREATE_CLIENT, {"i": {"workspaceId": owner.workspace_id, "name": "New"}}
            )
        assert _codes(renamed) == ["NOT_FOUND"]
        assert _codes(created) == ["NOT_FOUND"]

    async def test_a_demoted_admin_can_no_longer_grant_or_delete(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], protocol: str
    ) -> None:
        app, _, http = live
        owner, admin, membership, client = await _team(http, "ADMIN")
        async with socket(app, admin.gql.token or "", protocol) as ws:
            (await owner.gql(ROLE, {"i": {"membershipId": membership, "role": "VIEWER"}})).ok()
            granted = await ws.run(ROLE, {"i": {"membershipId": membership, "role": "ADMIN"}})
            deleted = await ws.run(DELETE, {"i": {"id": client}})
        assert _codes(granted) == ["FORBIDDEN"]
        assert _codes(deleted) == ["FORBIDDEN"]

    async def test_after_logout_nothing_runs_and_the_socket_closes_4401(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], protocol: str
    ) -> None:
        app, _, http = live
        account = await register(http, "Leaver")
        async with socket(app, account.gql.token or "", protocol) as ws:
            (await account.gql(LOGOUT)).ok()
            minted = await ws.run(CREATE_KEY)
            code = await ws.closed_with()
        assert _codes(minted) == ["UNAUTHENTICATED"]
        assert minted.get("data") in (None, {"createApiKey": None})
        assert code == UNAUTHORIZED_CLOSE

    async def test_an_expired_token_runs_nothing(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], protocol: str
    ) -> None:
        app, clock, http = live
        account = await register(http, "Late")
        async with socket(app, account.gql.token or "", protocol) as ws:
            clock.advance(timedelta(minutes=16))
            created = await ws.run(
                CREATE_CLIENT, {"i": {"workspaceId": account.workspace_id, "name": "Late"}}
            )
            code = await ws.closed_with()
        assert _codes(created) == ["UNAUTHENTICATED"]
        assert code == UNAUTHORIZED_CLOSE

    async def test_a_socket_is_closed_when_its_token_expires(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], protocol: str
    ) -> None:
        app, clock, http = live
        account = await register(http, "Idle")
        async with socket(app, account.gql.token or "", protocol) as ws:
            clock.advance(timedelta(minutes=15, seconds=1))
            assert await ws.closed_with(timeout=15) == UNAUTHORIZED_CLOSE


async def _job_in(app: Starlette, owner: Account) -> uuid.UUID:
    client = await create_client(owner.gql, owner.workspace_id)
    workspace_id = decode_global_id(owner.workspace_id).id
    return await insert_job(app.state.runtime, workspace_id, decode_global_id(client).id)


@pytest.mark.parametrize("protocol", PROTOCOLS)
class TestSubscriptionsRecheckBeforeEveryEvent:
    async def test_a_member_removed_mid_stream_gets_forbidden_and_4403(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], protocol: str
    ) -> None:
        app, _, http = live
        owner, member, membership, _ = await _team(http, "VIEWER")
        job = await _job_in(app, owner)
        workspace_id = decode_global_id(owner.workspace_id).id
        async with socket(app, member.gql.token or "", protocol) as ws:
            sid = await ws.start(EVENTS, {"j": encode_global_id("Job", job), "after": 0})
            await _write_events(app.state.runtime, workspace_id, job, 1, finish=False)
            assert (await ws.result(sid))["data"]["jobEvents"]["seq"] == 1
            (await owner.gql(REMOVE, {"i": {"membershipId": membership}})).ok()
            await _write_events(app.state.runtime, workspace_id, job, 1, finish=False, start=1)
            ended = await ws.result(sid)
            code = await ws.closed_with()
        assert _codes(ended) == ["FORBIDDEN"]
        assert code == FORBIDDEN_CLOSE

    async def test_a_stream_ends_4401_when_its_sign_in_ends(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], protocol: str
    ) -> None:
        app, _, http = live
        owner = await register(http, "Owner")
        job = await _job_in(app, owner)
        workspace_id = decode_global_id(owner.workspace_id).id
        async with socket(app, owner.gql.token or "", protocol) as ws:
            sid = await ws.start(EVENTS, {"j": encode_global_id("Job", job), "after": 0})
            await _write_events(app.state.runtime, workspace_id, job, 1, finish=False)
            assert (await ws.result(sid))["data"]["jobEvents"]["seq"] == 1
            (await owner.gql(LOGOUT)).ok()
            await _write_events(app.state.runtime, workspace_id, job, 1, finish=False, start=1)
            ended = await ws.result(sid)
            code = await ws.closed_with()
        assert _codes(ended) == ["UNAUTHENTICATED"]
        assert code == UNAUTHORIZED_CLOSE


class TestServerSentEventsRecheckToo:
    async def test_a_removed_member_gets_an_error_event_then_the_end(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient]
    ) -> None:
        app, _, http = live
        owner, member, membership, _ = await _team(http, "VIEWER")
        job = await _job_in(app, owner)
        workspace_id = decode_global_id(owner.workspace_id).id
        runtime = app.state.runtime
        body = {"query": EVENTS, "variables": {"j": encode_global_id("Job", job), "after": 0}}
        headers = {"Authorization": f"Bearer {member.gql.token}"}
        await _write_events(runtime, workspace_id, job, 1, finish=False)
        received: list[tuple[str, Any]] = []
        async with served_in_process(app) as base, httpx.AsyncClient(base_url=base) as real:
            stream = real.stream("POST", "/graphql/stream", json=body, headers=headers)
            async with stream as response:
                lines = response.aiter_lines()
                async for block in _sse_events(lines):
                    received.append(block)
                    if len(received) == 1:  # the first event is out: now the rights end
                        (await owner.gql(REMOVE, {"i": {"membershipId": membership}})).ok()
                        await _write_events(runtime, workspace_id, job, 1, finish=False, start=1)
        assert [name for name, _ in received] == ["next", "next", "complete"]
        assert received[0][1]["data"]["jobEvents"]["seq"] == 1
        assert received[1][1]["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def _sse_events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, Any]]:
    name, data = "", ""
    async for line in lines:
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif not line and name:
            yield name, json.loads(data) if data else None
            if name == "complete":
                return
            name, data = "", ""


SUBSCRIPTION = 'subscription { workspaceActivity(workspaceId: "V29ya3NwYWNlOjE=") { seq } }'


class TestPlainRequestsAndStreams:
    @pytest.mark.parametrize("method", ["POST", "GET"])
    async def test_a_subscription_sent_as_a_plain_request_names_the_transports(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], method: str
    ) -> None:
        _, _, http = live
        if method == "POST":
            response = await http.post("/graphql", json={"query": SUBSCRIPTION})
        else:
            response = await http.get("/graphql", params={"query": SUBSCRIPTION})
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_REQUEST"
        assert "WebSocket" in error["message"]
        assert "/graphql/stream" in error["message"]

    @pytest.mark.parametrize(
        ("query", "code"),
        [
            ("{", "GRAPHQL_PARSE_FAILED"),
            ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
            ("query A { __typename } query B { __typename }", "BAD_REQUEST"),
            ('subscription { jobEvents(jobId: "x") { seq } }', "UNAUTHENTICATED"),
        ],
    )
    async def test_errors_on_the_stream_are_events_then_the_end(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient], query: str, code: str
    ) -> None:
        _, _, http = live
        response = await http.post("/graphql/stream", json={"query": query})
        assert response.status_code == 200
        events = [e async for e in _sse_events(_lines(response.text))]
        assert [name for name, _ in events] == ["next", "complete"]
        assert events[0][1]["errors"][0]["extensions"]["code"] == code

    async def test_queries_and_mutations_answer_once_on_the_stream(
        self, live: tuple[Starlette, ManualClock, httpx.AsyncClient]
    ) -> None:
        _, _, http = live
        account = await register(http, "Streamer")
        response = await http.post(
            "/graphql/stream",
            json={"query": "{ viewer { name } }"},
            headers={"Authorization": f"Bearer {account.gql.token}"},
        )
        events = [e async for e in _sse_events(_lines(response.text))]
        assert events[0] == ("next", {"data": {"viewer": {"name": "Streamer"}}, **_cost(events)})
        assert events[-1][0] == "complete"

    @pytest.mark.parametrize(
        ("content", "content_type", "status"),
        [
            (b'{"query": "{ __typename }"}', "text/plain", 415),
            (b"{not json", "application/json", 400),
            (b"[1, 2]", "application/json", 400),
            (b'{"query": 5}', "application/json", 400),
            (b'{"query": "{ __typename }", "variables": [1]}', "application/json", 400),
        ],
    )
    async def test_bodies_that_are_no_operation_get_a_coded_refusal(
        self,
        live: tuple[Starlette, ManualClock, httpx.AsyncClient],
        content: bytes,
        content_type: str,
        status: int,
    ) -> None:
        _, _, http = live
        response = await http.post(
            "/graphql/stream", content=content, headers={"Content-Type": content_type}
        )
        assert response.status_code == status
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def _cost(events: list[tuple[str, Any]]) -> dict[str, Any]:
    return {"extensions": events[0][1]["extensions"]}


async def _lines(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


class TestKeepAlive:
    async def test_an_idle_stream_gets_comments_and_its_slow_result_is_not_cancelled(self) -> None:
        async def slow() -> AsyncIterator[str]:
            await asyncio.sleep(0.25)
            yield "late"

        received = [item async for item in with_keep_alive(slow(), interval=0.05)]
        assert received[-1] == "late"
        assert received.count(":\n\n") >= 2
