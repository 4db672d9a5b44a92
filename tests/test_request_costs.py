"""What a request costs besides its own work: pool checkouts, ping round trips, cyclic garbage.

A warm request checks out one connection (its credentials come from the cache), sends no ping,
and leaves nothing for the cyclic garbage collector beyond SQLAlchemy's own per-statement cycle
(see ``TestNoCyclicGarbage``). A connection PostgreSQL terminated is replaced on checkout.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator, MutableMapping
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from app.main import create_app
from tests.conftest import StatementCounter, lifespan, make_settings
from tests.graphql import Account, create_client, register

CLIENT = "query($id: ID!) { node(id: $id) { id ... on Client { name } } }"
RENAME = "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { id } } }"
# SQLAlchemy's own, and the only cycle left: building a statement's cache key memoizes, on an
# expanding ``IN`` parameter (and its clone), ``_cloned_set``, a set holding the parameter
# itself: 10-11 objects per ``in_()``. Client by id has two (the ids, the tenancy filter), the
# rename one; ``{ __typename }`` none. A fixed number per statement, never per row or field.
SQLALCHEMY_IN_CYCLE = 11
IN_EXPRESSIONS = {"typename": 0, "client": 2, "mutation": 1}
IN_CYCLE_KINDS = {"BindParameter", "dict", "set", "frozenset", "list", "_anonymous_label", "UUID"}


class Caller:
    """Calls the ASGI app directly, so nothing a client library keeps is counted."""

    def __init__(self, app: Starlette, token: str) -> None:
        self.app = app
        self.headers = [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"authorization", f"Bearer {token}".encode()),
        ]

    async def __call__(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = orjson.dumps({"query": query, "variables": variables or {}})
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [*self.headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 80),
            "state": {},
        }
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        answer = orjson.loads(b"".join(chunks))
        assert not answer.get("errors"), answer
        return answer["data"]


@pytest.fixture
async def pg_app(postgres_only_url: str, tmp_path: Path) -> AsyncIterator[Starlette]:
    settings = make_settings(postgres_only_url, tmp_path, event_hub="local")
    application = create_app(settings)
    async with lifespan(application):
        yield application


@pytest.fixture
async def pg_http(pg_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=pg_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def account(pg_http: httpx.AsyncClient) -> Account:
    return await register(pg_http)


@pytest.fixture
async def client_id(account: Account) -> str:
    return await create_client(account.gql, account.workspace_id)


@pytest.fixture
def caller(pg_app: Starlette, account: Account) -> Caller:
    return Caller(pg_app, str(account.gql.token))


class Checkouts:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: object) -> None:
        self.count += 1


@pytest.fixture
def checkouts(pg_app: Starlette) -> Iterator[Checkouts]:
    counter = Checkouts()
    pool = pg_app.state.runtime.engine.sync_engine.pool
    event.listen(pool, "checkout", counter)
    yield counter
    event.remove(pool, "checkout", counter)


@pytest.fixture
def sql(pg_app: Starlette) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    engine = pg_app.state.runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", counter)
    pg_app.state.runtime.reads.sent.append(counter.direct)
    yield counter
    pg_app.state.runtime.reads.sent.remove(counter.direct)
    event.remove(engine, "before_cursor_execute", counter)


class TestOneConnectionPerRequest:
    @pytest.mark.parametrize("operation", ["query", "mutation"])
    async def test_a_warm_request_checks_out_once_and_pings_never(
        self,
        caller: Caller,
        client_id: str,
        checkouts: Checkouts,
        sql: StatementCounter,
        operation: str,
    ) -> None:
        query, variables = (
            (CLIENT, {"id": client_id})
            if operation == "query"
            else (RENAME, {"i": {"id": client_id, "name": "Renamed"}})
        )
        await caller(query, variables)  # warm: the credentials are cached from here on
        checkouts.count, sql.statements = 0, []
        for _ in range(10):
            await caller(query, variables)
        assert checkouts.count == 10
        assert not [s for s in sql.statements if s.strip() in {";", "SELECT 1"}], sql.statements

    async def test_typename_needs_no_connection_at_all(
        self, caller: Caller, checkouts: Checkouts
    ) -> None:
        await caller("{ __typename }")
        checkouts.count = 0
        await caller("{ __typename }")
        assert checkouts.count == 0


class TestATerminatedBackend:
    async def test_is_replaced_on_the_next_request(
        self, pg_app: Starlette, caller: Caller, client_id: str, postgres_only_url: str
    ) -> None:
        for _ in range(3):
            await caller(CLIENT, {"id": client_id})
        url = make_url(postgres_only_url)
        admin = url.set(drivername="postgresql", database="postgres")
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as pg:
            killed = pg.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (url.database,),
            ).fetchone()
            assert killed is not None
            assert killed[0] >= 1
            await _until_gone(pg, str(url.database))
        pool = pg_app.state.runtime.engine.sync_engine.pool
        assert pool.checkedin() >= 1  # the dead connections still wait in the pool
        answer = await caller(CLIENT, {"id": client_id})
        assert answer["node"]["id"] == client_id


async def _until_gone(pg: psycopg.Connection[Any], database: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        row = pg.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchone()
        if row is not None and row[0] == 0:
            await asyncio.sleep(0.05)  # let the app's loop read the connections' end
            return
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


class TestNoCyclicGarbage:
    REQUESTS = 50

    @pytest.mark.parametrize("operation", ["typename", "client", "mutation"])
    async def test_a_warm_request_leaves_no_cycles_of_its_own(
        self, caller: Caller, client_id: str, operation: str
    ) -> None:
        query, variables = {
            "typename": ("{ __typename }", None),
            "client": (CLIENT, {"id": client_id}),
            "mutation": (RENAME, {"i": {"id": client_id, "name": "Renamed"}}),
        }[operation]
        for _ in range(5):
            await caller(query, variables)
        gc.collect()
        gc.disable()
        try:
            for _ in range(self.REQUESTS):
                await caller(query, variables)
            gc.set_debug(gc.DEBUG_SAVEALL)
            found = gc.collect()
            kinds = Counter(type(thing).__name__ for thing in gc.garbage)
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
            gc.enable()
        per_request = found / self.REQUESTS
        print(f"\n{operation}: {per_request:.1f} unreachable objects per request")
        assert per_request <= SQLALCHEMY_IN_CYCLE * IN_EXPRESSIONS[operation], kinds.most_common()
        assert set(kinds) <= IN_CYCLE_KINDS, kinds.most_common()
