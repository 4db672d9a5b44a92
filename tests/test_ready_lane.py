"""The ready lane: a repeated query is answered from its ready plan, and nothing changes.

A query whose root fields the compiled statements answered whole is answered again, for the
same document, operation, variables, actor and roles, without parsing, validating or
executing it: the reply must be the one the whole way gives, and every change of rights or
data between two requests must show exactly as it would without the lane.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from app.main import create_app
from app.reads import ReadStats
from tests.conftest import StatementCounter, lifespan, make_settings
from tests.graphql import Account, add_member, create_client, register

CLIENT = "query One($id: ID!) { node(id: $id) { id ... on Client { name createdAt } } }"
PAGE = """
query Page($w: ID!, $n: Int!) {
  node(id: $w) { ... on Workspace { clients(first: $n) { totalCount edges { cursor node { id name } } } } }
}
"""
DELETE = "mutation($i: DeleteClientInput!) { deleteClient(input: $i) { deletedClientId } }"
REMOVE = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) { removedMembershipId } }"
LOGOUT = "mutation { logout(input: {}) { ok } }"


def reads(app: Starlette) -> ReadStats:
    stats: ReadStats = app.state.runtime.reads
    return stats


async def post(
    http: httpx.AsyncClient, account: Account | None, query: str, variables: Any = None, **more: Any
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {account.gql.token}"} if account else {}
    body = {"query": query, "variables": variables or {}, **more}
    return await http.post(
        "/graphql",
        content=orjson.dumps(body),
        headers={"content-type": "application/json", **headers},
    )


class TestTheLaneAnswersRepeats:
    async def test_a_repeat_gets_the_same_bytes_from_the_lane(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account
    ) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        first = await post(http, owner, CLIENT, {"id": client_id})
        before = reads(app).lane
        again = await post(http, owner, CLIENT, {"id": client_id})
        assert reads(app).lane == before + 1
        assert again.status_code == first.status_code == 200
        assert again.headers["content-type"] == first.headers["content-type"]
        assert orjson.loads(again.content) == orjson.loads(first.content)
        assert orjson.loads(again.content)["data"]["node"]["id"] == client_id

    async def test_a_repeat_sends_no_more_statements_than_the_whole_way(
        self,
        http: httpx.AsyncClient,
        owner: Account,
        statements: StatementCounter,
        dialect: str,
    ) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)  # credentials cached
        start = statements.count
        await post(http, owner, CLIENT, {"id": client_id})
        whole = statements.statements[start:]
        start = statements.count
        await post(http, owner, CLIENT, {"id": client_id})
        lane = statements.statements[start:]
        assert 1 <= len(lane) <= len(whole)
        if dialect == "postgresql":
            assert len(lane) == 1  # no BEGIN, no ROLLBACK: one statement, in autocommit
            assert lane[0].startswith("SELECT CAST(")

    async def test_the_cost_extension_is_kept(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account
    ) -> None:
        await create_client(owner.gql, owner.workspace_id)
        variables = {"w": owner.workspace_id, "n": 5}
        first = orjson.loads((await post(http, owner, PAGE, variables)).content)
        assert first["extensions"]["cost"]["requested"] > 0
        before = reads(app).lane
        again = orjson.loads((await post(http, owner, PAGE, variables)).content)
        assert reads(app).lane == before + 1
        assert again == first

    async def test_typename_needs_no_statement(
        self,
        app: Starlette,
        http: httpx.AsyncClient,
        owner: Account,
        statements: StatementCounter,
    ) -> None:
        await post(http, owner, "{ __typename }")
        counted, before = statements.count, reads(app).lane
        reply = await post(http, owner, "{ __typename }")
        assert orjson.loads(reply.content) == {"data": {"__typename": "Query"}}
        assert reads(app).lane == before + 1
        # The credentials are cached: nothing at all reaches the database.
        assert statements.count == counted

    async def test_other_variables_operation_names_or_extensions_go_the_whole_way(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account
    ) -> None:
        one = await create_client(owner.gql, owner.workspace_id, "One")
        two = await create_client(owner.gql, owner.workspace_id, "Two")
        await post(http, owner, CLIENT, {"id": one})
        before = reads(app).lane
        other = await post(http, owner, CLIENT, {"id": two})
        assert orjson.loads(other.content)["data"]["node"]["name"] == "Two"
        named = await post(http, owner, CLIENT, {"id": one}, operationName="One")
        assert orjson.loads(named.content)["data"]["node"]["name"] == "One"
        wrong = await post(http, owner, CLIENT, {"id": one}, operationName="Other")
        assert wrong.status_code == 400
        extended = await post(http, owner, CLIENT, {"id": one}, extensions={"x": 1})
        assert orjson.loads(extended.content)["data"]["node"]["name"] == "One"
        assert reads(app).lane == before


class TestChangesBetweenRepeatsShow:
    async def test_a_deleted_node_is_not_found(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account
    ) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        await post(http, owner, CLIENT, {"id": client_id})
        await post(http, owner, CLIENT, {"id": client_id})
        assert (await owner.gql(DELETE, {"i": {"id": client_id}})).ok()
        before = reads(app).lane
        gone = orjson.loads((await post(http, owner, CLIENT, {"id": client_id})).content)
        assert gone["data"] == {"node": None}
        assert [e["extensions"]["code"] for e in gone["errors"]] == ["NOT_FOUND"]
        assert reads(app).lane == before

    async def test_a_removed_member_sees_nothing(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account
    ) -> None:
        member = await register(http, "Mia")
        membership_id = await add_member(owner, member, "EDITOR")
        client_id = await create_client(owner.gql, owner.workspace_id)
        for _ in range(2):
            seen = orjson.loads((await post(http, member, CLIENT, {"id": client_id})).content)
            assert seen["data"]["node"]["id"] == client_id
        assert (await owner.gql(REMOVE, {"i": {"membershipId": membership_id}})).ok()
        after = orjson.loads((await post(http, member, CLIENT, {"id": client_id})).content)
        assert after["data"] == {"node": None}
        assert [e["extensions"]["code"] for e in after["errors"]] == ["NOT_FOUND"]

    async def test_a_signed_out_token_is_refused(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        for _ in range(2):
            assert (await post(http, owner, CLIENT, {"id": client_id})).status_code == 200
        assert (await owner.gql(LOGOUT)).ok()["logout"]["ok"]
        refused = orjson.loads((await post(http, owner, CLIENT, {"id": client_id})).content)
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["UNAUTHENTICATED"]

    async def test_someone_else_does_not_get_the_owners_plan(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        for _ in range(2):
            await post(http, owner, CLIENT, {"id": client_id})
        before = reads(app).lane
        theirs = orjson.loads((await post(http, stranger, CLIENT, {"id": client_id})).content)
        assert theirs["data"] == {"node": None}
        assert reads(app).lane == before


async def test_the_lane_can_be_turned_off_with_compiled_reads(
    tmp_path: Path, database_url: str
) -> None:
    application = create_app(make_settings(database_url, tmp_path, compiled_reads=False))
    async with lifespan(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            owner = await register(http)
            for _ in range(3):
                await post(http, owner, "{ __typename }")
            assert reads(application).lane == 0


async def test_a_lost_connection_answers_as_the_whole_way_does(
    postgres_only_url: str, tmp_path: Path
) -> None:
    """The server's connections are cut (a database restart): the ready lane's statement
    fails on the driver, the connection is discarded, and the request goes the whole way;
    nothing answers 500, and the next request is served."""
    application = create_app(make_settings(postgres_only_url, tmp_path))
    async with lifespan(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            owner = await register(http)
            client_id = await create_client(owner.gql, owner.workspace_id)
            for _ in range(2):
                assert (await post(http, owner, CLIENT, {"id": client_id})).status_code == 200
            url = make_url(postgres_only_url)
            admin = url.set(drivername="postgresql", database="postgres")
            with psycopg.connect(admin.render_as_string(hide_password=False)) as pg:
                pg.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = %s AND pid <> pg_backend_pid()",
                    (url.database,),
                )
            cut = await post(http, owner, CLIENT, {"id": client_id})
            assert reads(application).lane_failures == 1
            assert cut.status_code in (200, 503), cut.text
            if cut.status_code == 503:
                code = orjson.loads(cut.content)["errors"][0]["extensions"]["code"]
                assert code == "SERVICE_UNAVAILABLE"
            for _ in range(3):  # the pool replaces what was cut
                again = await post(http, owner, CLIENT, {"id": client_id})
                if again.status_code == 200:
                    break
            assert orjson.loads(again.content)["data"]["node"]["id"] == client_id
