"""Live fan-out: an event is executed and encoded once, and its bytes go to every subscriber
that asked for the same thing, over real sockets and every transport; different selections
get their own, and rights are checked per subscriber exactly as before."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from app.events.fanout import SharedResults, encode, shared_results
from app.ids import encode_global_id
from app.main import create_app
from app.schema.live import selection_shape
from app.settings import Settings
from tests.conftest import lifespan, make_settings
from tests.graphql import Account, add_member, register
from tests.job_rows import owned_job, write_events
from tests.ws import served_in_process, tcp_session, tcp_subscribe, until_listening

EVENTS = (
    "subscription($j: ID!, $a: Int!) { jobEvents(jobId: $j, afterSeq: $a) { seq type payload } }"
)
SHORT = "subscription($j: ID!) { jobEvents(jobId: $j) { seq } }"
OPTIONAL = (
    "subscription($j: ID!, $p: Boolean!) { jobEvents(jobId: $j) { seq payload @include(if: $p) } }"
)
REMOVE = "mutation($m: ID!) { removeMember(input: {membershipId: $m}) { removedMembershipId } }"
SUBSCRIBERS = 12
EVENT_COUNT = 4


@pytest.fixture(autouse=True)
def fresh_counts() -> None:
    shared_results.clear()


@pytest.fixture
async def served(app: Starlette) -> AsyncIterator[str]:
    async with served_in_process(app) as base:
        yield base


def noted(index: int) -> dict[str, Any]:
    return {"index": index, "note": "ü" * index}


async def _frames(ws: ClientConnection, sid: str) -> list[str]:
    """The raw text of every ``next`` for ``sid`` until its ``complete``."""
    frames: list[str] = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), 30)
        message = json.loads(raw)
        if message.get("id") != sid:
            continue
        if message["type"] == "complete":
            return frames
        assert message["type"] == "next", message
        frames.append(str(raw))


def _token(account: Account) -> str:
    assert account.gql.token is not None
    return account.gql.token


def _ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


def _events(frames: list[str]) -> list[dict[str, Any]]:
    return [json.loads(frame)["payload"]["data"]["jobEvents"] for frame in frames]


class TestOneEncodingPerEvent:
    async def test_many_websocket_subscribers_share_one_execution_and_the_same_bytes(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        variables = {"j": encode_global_id("Job", job_id), "a": 0}
        sockets = [await tcp_session(_ws_url(served), _token(owner)) for _ in range(SUBSCRIBERS)]
        try:
            for ws in sockets:
                await tcp_subscribe(ws, "1", EVENTS, variables)
            await until_listening(app.state.runtime.hub, SUBSCRIBERS)
            await write_events(
                app, workspace_id, job_id, range(EVENT_COUNT), payload=noted, last=True
            )
            received = await asyncio.gather(*(_frames(ws, "1") for ws in sockets))
        finally:
            for ws in sockets:
                await ws.close()
        assert all(frames == received[0] for frames in received)  # the very same text
        assert _events(received[0]) == [
            {"seq": i + 1, "type": f"e{i}", "payload": {"index": i, "note": "ü" * i}}
            for i in range(EVENT_COUNT)
        ]
        assert shared_results.executions == EVENT_COUNT  # once per event, not per subscriber
        assert shared_results.encodings == EVENT_COUNT
        assert shared_results.hits == EVENT_COUNT * (SUBSCRIBERS - 1)

    async def test_every_transport_gets_the_one_encoding_in_its_own_framing(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        variables = {"j": encode_global_id("Job", job_id), "a": 0}
        modern = await tcp_session(_ws_url(served), _token(owner))
        legacy = await _legacy_session(_ws_url(served), _token(owner))
        try:
            await tcp_subscribe(modern, "m", EVENTS, variables)
            start = {"query": EVENTS, "variables": variables}
            await legacy.send(json.dumps({"id": "g", "type": "start", "payload": start}))
            sse = asyncio.create_task(_sse(served, _token(owner), EVENTS, variables))
            await until_listening(app.state.runtime.hub, 3)
            await write_events(
                app, workspace_id, job_id, range(EVENT_COUNT), payload=noted, last=True
            )
            frames, legacy_frames = await _frames(modern, "m"), await _legacy_frames(legacy)
            sse_payloads = await sse
        finally:
            await modern.close()
            await legacy.close()
        payloads = [json.loads(frame)["payload"] for frame in frames]
        assert [json.loads(frame)["payload"] for frame in legacy_frames] == payloads
        assert [json.loads(text) for text in sse_payloads] == payloads
        assert [p["data"]["jobEvents"]["seq"] for p in payloads] == [1, 2, 3, 4]
        assert shared_results.executions == EVENT_COUNT
        assert shared_results.hits == EVENT_COUNT * 2


class TestOwnEncodings:
    async def test_different_selections_and_variables_get_their_own_correct_results(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        job = encode_global_id("Job", job_id)
        asks = [
            (EVENTS, {"j": job, "a": 0}),
            (EVENTS, {"j": job, "a": 0}),
            (SHORT, {"j": job}),
            (OPTIONAL, {"j": job, "p": True}),
            (OPTIONAL, {"j": job, "p": False}),
        ]
        sockets = [await tcp_session(_ws_url(served), _token(owner)) for _ in asks]
        try:
            for ws, (query, variables) in zip(sockets, asks, strict=True):
                await tcp_subscribe(ws, "1", query, variables)
            await until_listening(app.state.runtime.hub, len(asks))
            await write_events(app, workspace_id, job_id, range(2), payload=noted, last=True)
            full, same, short, with_payload, without = [
                _events(frames)
                for frames in await asyncio.gather(*(_frames(ws, "1") for ws in sockets))
            ]
        finally:
            for ws in sockets:
                await ws.close()
        assert full == same
        assert [e["type"] for e in full] == ["e0", "e1"]
        assert short == [{"seq": 1}, {"seq": 2}]
        assert with_payload == [
            {"seq": 1, "payload": {"index": 0, "note": ""}},
            {"seq": 2, "payload": {"index": 1, "note": "ü"}},
        ]
        assert without == [{"seq": 1}, {"seq": 2}]
        assert shared_results.executions == 2 * 4  # two events, four distinct selections

    async def test_a_removed_member_stops_receiving_while_the_owner_shares_on(
        self, app: Starlette, owner: Account, http: httpx.AsyncClient, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        member = await register(http, "Member")
        membership = await add_member(owner, member, "VIEWER")
        stranger = await register(http, "Stranger")
        variables = {"j": encode_global_id("Job", job_id), "a": 0}
        watcher = await tcp_session(_ws_url(served), _token(owner))
        viewer = await tcp_session(_ws_url(served), _token(member))
        outsider = await tcp_session(_ws_url(served), _token(stranger))
        try:
            for ws in (watcher, viewer, outsider):
                await tcp_subscribe(ws, "1", EVENTS, variables)
            refused = json.loads(await asyncio.wait_for(outsider.recv(), 10))
            problems = refused["payload"]
            found = problems if refused["type"] == "error" else problems["errors"]
            assert found[0]["extensions"]["code"] == "NOT_FOUND"
            await until_listening(app.state.runtime.hub, 2)
            await write_events(app, workspace_id, job_id, range(1), payload=noted, last=False)
            first = json.loads(await asyncio.wait_for(viewer.recv(), 10))
            assert first["payload"]["data"]["jobEvents"]["seq"] == 1
            (await owner.gql(REMOVE, {"m": membership})).ok()
            await write_events(app, workspace_id, job_id, range(1, 3), payload=noted, last=True)
            ended = json.loads(await asyncio.wait_for(viewer.recv(), 10))
            seen = _events(await _frames(watcher, "1"))
        finally:
            for ws in (watcher, viewer, outsider):
                await ws.close()
        errors = ended["payload"] if ended["type"] == "error" else ended["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        assert [e["seq"] for e in seen] == [1, 2, 3]


class TestSharedRedisHub:
    @pytest.fixture
    async def app(
        self, database_url: str, tmp_path: Path, redis_url: str
    ) -> AsyncIterator[Starlette]:
        settings: Settings = make_settings(
            database_url, tmp_path, redis_url=redis_url, event_hub="redis"
        )
        application = create_app(settings)
        async with lifespan(application):
            yield application

    async def test_announcements_from_redis_are_shared_the_same_way(
        self, app: Starlette, owner: Account, served: str
    ) -> None:
        workspace_id, job_id = await owned_job(app, owner)
        variables = {"j": encode_global_id("Job", job_id), "a": 0}
        sockets = [await tcp_session(_ws_url(served), _token(owner)) for _ in range(3)]
        try:
            for ws in sockets:
                await tcp_subscribe(ws, "7", EVENTS, variables)
            await until_listening(app.state.runtime.hub, 3)
            await write_events(
                app, workspace_id, job_id, range(EVENT_COUNT), payload=noted, last=True
            )
            received = await asyncio.gather(*(_frames(ws, "7") for ws in sockets))
        finally:
            for ws in sockets:
                await ws.close()
        assert all(frames == received[0] for frames in received)
        assert [e["seq"] for e in _events(received[0])] == [1, 2, 3, 4]
        assert shared_results.executions == EVENT_COUNT


class TestSelectionShape:
    def _shape(self, query: str, variables: dict[str, Any]) -> object:
        document = parse(query)
        operation = document.definitions[0]
        fragments = document.definitions[1:]
        return selection_shape(operation, fragments, variables)  # type: ignore[arg-type]

    def test_root_arguments_pick_the_stream_and_do_not_split_the_sharing(self) -> None:
        assert self._shape(EVENTS, {"j": "a", "a": 0}) == self._shape(EVENTS, {"j": "b", "a": 9})

    def test_variables_the_selection_uses_do_split_it(self) -> None:
        assert self._shape(OPTIONAL, {"j": "a", "p": True}) != self._shape(
            OPTIONAL, {"j": "a", "p": False}
        )

    def test_variables_inside_fragments_count(self) -> None:
        query = (
            "subscription($j: ID!, $p: Boolean!) { jobEvents(jobId: $j) { ...E } }"
            " fragment E on Event { seq payload @include(if: $p) }"
        )
        assert self._shape(query, {"j": "a", "p": True}) != self._shape(
            query, {"j": "a", "p": False}
        )


class TestSharedResults:
    def test_the_oldest_results_are_forgotten_first(self) -> None:
        results = SharedResults(capacity=2)
        for key in ("a", "b", "c"):
            results.keep(key, {"k": key})
        assert results.get("a") is None
        assert results.get("c") == {"k": "c"}
        assert results.encodings == 3

    def test_the_encoding_is_compact_json_even_past_64_bits(self) -> None:
        assert encode({"n": 2**70, "s": "ü"}) == '{"n":1180591620717411303424,"s":"ü"}'
        assert results_text({"x": [1, None]}) == '{"data":{"x":[1,null]}}'


def results_text(data: dict[str, Any]) -> str:
    return SharedResults().keep("k", data).payload_text


async def _legacy_session(url: str, token: str) -> ClientConnection:
    ws = await connect(url, subprotocols=["graphql-ws"])  # type: ignore[list-item]
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def _legacy_frames(ws: ClientConnection) -> list[str]:
    frames: list[str] = []
    while True:
        raw = await asyncio.wait_for(ws.recv(), 30)
        kind = json.loads(raw)["type"]
        if kind == "complete":
            return frames
        if kind == "data":
            frames.append(str(raw))


async def _sse(base: str, token: str, query: str, variables: dict[str, Any]) -> list[str]:
    """The ``data`` of every ``next`` event of a Server-Sent Events stream."""
    body = {"query": query, "variables": variables}
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    payloads: list[str] = []
    async with (
        httpx.AsyncClient(base_url=base, timeout=30) as client,
        client.stream("POST", "/graphql/stream", json=body, headers=headers) as response,
    ):
        event = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event == "next":
                payloads.append(line.removeprefix("data: "))
    return payloads
