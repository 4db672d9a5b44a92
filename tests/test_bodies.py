"""Bodies are read within caps and parsed within limits: every refusal is coded, none a 500."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.http.bodies import MAX_JSON_DEPTH, json_depth
from tests.conftest import StatementCounter, app_client, make_settings
from tests.graphql import Account, GraphQL

CREATE_CLIENT = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }"


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A JSON body of ``total`` bytes sent without Content-Length (chunked)."""
    yield b'{"query": "{ __typename }", "variables": {"pad": "'
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}}'


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


class TestJsonBodies:
    @pytest.mark.parametrize(
        "body",
        [
            b"\xff\xfe{}",  # invalid UTF-8
            b'{"query": "{ __typename }", "x": "\xc3\x28"}',
            b"5",
            b'"query"',
            b"null",
            b"true",
            b"{",
            b"[" * 1000 + b"]" * 1000,
            b'{"query": "{ __typename }", "variables": ' + b'{"a":' * 1000 + b"1" + b"}" * 1001,
            b'{"query": "{ __typename }", "operationName": 5}',
            b'{"query": "{ __typename }", "variables": 5}',
            b'{"query": 5}',
        ],
    )
    async def test_malformed_json_is_a_coded_400(
        self, http: httpx.AsyncClient, body: bytes
    ) -> None:
        response = await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert _code(response) == "BAD_REQUEST"

    async def test_nesting_within_the_limit_is_fine(self, http: httpx.AsyncClient) -> None:
        body = {"query": "{ __typename }", "variables": {"deep": json.loads("[" * 10 + "]" * 10)}}
        response = await http.post("/graphql", json=body)
        assert response.json()["data"] == {"__typename": "Query"}

    def test_depth_is_measured_without_recursion(self) -> None:
        deep: list[object] = []
        for _ in range(100_000):
            deep = [deep]
        assert json_depth(deep) == 100_001
        assert json_depth({"a": [1, {"b": 2}]}) == 3
        assert MAX_JSON_DEPTH < 100

    @pytest.mark.parametrize("path", ["/graphql", "/graphql/stream"])
    async def test_oversized_bodies_stop_at_the_cap(
        self, http: httpx.AsyncClient, path: str
    ) -> None:
        streamed = await http.post(
            path, content=_chunks(2 * 1024 * 1024), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert _code(streamed) == "BAD_REQUEST"
        claimed = await http.post(
            path,
            content=b"{}",
            headers={"Content-Type": "application/json", "Content-Length": "999999999"},
        )
        assert claimed.status_code == 413


class TestWebhookBodies:
    async def test_the_webhook_body_is_bounded_before_its_signature_is_checked(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(
            database_url, tmp_path, replicate_webhook_secret=SecretStr("whsec_" + "a" * 32)
        )
        async with app_client(settings) as http:
            big = await http.post(
                "/webhooks/replicate",
                content=_chunks(1024 * 1024),
                headers={"Content-Type": "application/json"},
            )
            unsigned = await http.post("/webhooks/replicate", json={"id": "p1"})
        assert big.status_code == 413
        assert unsigned.status_code == 401


class TestNulAndCursors:
    async def test_nul_characters_are_refused_before_any_sql(
        self, owner: Account, statements: StatementCounter
    ) -> None:
        (await owner.gql("{ __typename }")).ok()  # the credentials are cached from now on
        before = statements.count
        (await owner.gql("{ __typename }")).ok()
        sign_in = statements.count - before
        for variables, query in (
            ({"i": {"workspaceId": owner.workspace_id, "name": "a\x00b"}}, CREATE_CLIENT),
            ({}, 'mutation { createWorkspace(input: {name: "a\\u0000b"}) { workspace { id } } }'),
        ):
            before = statements.count
            result = await owner.gql(query, variables)
            assert result.code == "BAD_USER_INPUT"
            assert statements.count - before == sign_in

    async def test_a_nul_in_a_login_is_refused(self, http: httpx.AsyncClient) -> None:
        result = await GraphQL(http)(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            {"i": {"email": "a\x00@example.com", "password": "x\x00"}},
        )
        assert result.code == "BAD_USER_INPUT"

    @pytest.mark.parametrize(
        "cursor",
        [
            "garbage",
            "!!!!",
            base64.urlsafe_b64encode(b"[1,2,3]").decode(),
            base64.urlsafe_b64encode(b'["created_at", {"a": 1}, "00"]').decode(),
            base64.urlsafe_b64encode(
                b'["created_at", "not a date", "' + b"0" * 32 + b'"]'
            ).decode(),
            base64.urlsafe_b64encode(b'["created_at", 5, "' + b"0" * 32 + b'"]').decode(),
            base64.urlsafe_b64encode(b'["name", "x", "' + b"0" * 32 + b'"]').decode(),
            base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode(),
            "A" * 5000,
        ],
    )
    async def test_bad_cursors_are_bad_user_input(self, owner: Account, cursor: str) -> None:
        result = await owner.gql(
            "query($w: ID!, $c: String) { node(id: $w) { ... on Workspace {"
            " clients(first: 2, after: $c) { totalCount } } } }",
            {"w": owner.workspace_id, "c": cursor},
        )
        assert result.codes == ["BAD_USER_INPUT"]


class TestSignedRoutes:
    @pytest.mark.parametrize("signature", ["%C3%A9", "%ED%B3%BF", "%00", "%F0%9F%92%A5"])
    async def test_non_ascii_signatures_are_refused_not_crashed(
        self, http: httpx.AsyncClient, signature: str
    ) -> None:
        asset = "0" * 32
        media = await http.get(f"/media/{asset}/original?expires=9999999999&signature={signature}")
        upload = await http.put(
            f"/uploads/{asset}?expires=9999999999&signature={signature}", content=b"x"
        )
        assert media.status_code == 404
        assert upload.status_code == 403
        assert upload.json()["error"]["code"] == "FORBIDDEN"


class TestUploadValues:
    @pytest.mark.parametrize("value", ["x", 5, [1], {"a": 1}])
    async def test_a_json_value_where_a_file_belongs_is_bad_user_input(
        self, owner: Account, value: object
    ) -> None:
        result = await owner.gql(
            "mutation($f: Upload!, $i: AssetPlacementInput!) {"
            " uploadAsset(file: $f, input: $i) { asset { id } } }",
            {"f": value, "i": {"workspaceId": owner.workspace_id}},
        )
        assert result.code == "BAD_USER_INPUT"
