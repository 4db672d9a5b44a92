"""Errors carry stable codes; bugs are masked and logged; the baseline protections hold."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from app.errors import ErrorCode
from app.services import api_keys
from app.settings import Environment
from tests.conftest import app_client, make_settings
from tests.graphql import Account, GraphQL


class TestCodes:
    async def test_error_code_enum_lists_every_code(self, gql: GraphQL) -> None:
        result = await gql('{ __type(name: "ErrorCode") { enumValues { name } } }')
        names = {v["name"] for v in result.ok()["__type"]["enumValues"]}
        assert names == {code.value for code in ErrorCode}

    async def test_syntax_errors(self, gql: GraphQL) -> None:
        assert (await gql("{ viewer { ")).code == "GRAPHQL_PARSE_FAILED"

    async def test_unknown_fields(self, gql: GraphQL) -> None:
        assert (await gql("{ nothingHere }")).code == "GRAPHQL_VALIDATION_FAILED"

    async def test_variables_of_the_wrong_type(self, owner: Account) -> None:
        result = await owner.gql("query($id: ID!) { node(id: $id) { id } }", {"id": {"no": 1}})
        assert result.code == "BAD_USER_INPUT"


class TestMasking:
    async def test_unexpected_errors_are_masked_with_a_request_id_and_logged(
        self, owner: Account, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def broken(*_args: object, **_kwargs: object) -> None:
            raise RuntimeError("secret database detail")

        monkeypatch.setattr(api_keys, "list_api_keys", broken)
        with capture_logs() as logs:
            result = await owner.gql("{ apiKeys { id } }", X_Request_ID="req-123")
        error = result.errors[0]
        assert error["message"] == "Internal server error"
        assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR", "requestId": "req-123"}
        assert "secret" not in result.response.text
        assert result.response.headers["x-request-id"] == "req-123"
        logged = [entry for entry in logs if entry["event"] == "unexpected error"]
        assert logged
        assert logged[0]["request_id"] == "req-123"
        assert logged[0]["exc_info"][1].args == ("secret database detail",)

    async def test_every_response_gets_a_request_id(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/healthz")
        assert len(response.headers["x-request-id"]) == 32


class TestLimits:
    async def test_depth_is_limited(self, owner: Account) -> None:
        nested = "memberships { workspace { members { nodes { user { " * 3
        query = "{ viewer { " + nested + "id" + " } } } } }" * 3 + " } }"
        result = await owner.gql(query)
        assert "GRAPHQL_VALIDATION_FAILED" in result.codes
        assert "exceeds maximum operation depth" in result.errors[0]["message"]

    async def test_aliases_are_limited(self, gql: GraphQL) -> None:
        query = "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }"
        result = await gql(query)
        assert result.code == "GRAPHQL_VALIDATION_FAILED"

    async def test_tokens_are_limited(self, gql: GraphQL) -> None:
        query = "{ " + " ".join("__typename" for _ in range(5001)) + " }"
        result = await gql(query)
        assert result.codes
        assert result.data is None

    async def test_batched_requests_are_not_accepted(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/graphql", json=[{"query": "{ __typename }"}] * 2)
        assert response.status_code == 400


class TestProduction:
    @pytest.fixture
    def production(self, database_url: str, tmp_path: Path) -> object:
        return make_settings(database_url, tmp_path, env=Environment.PRODUCTION)

    async def test_introspection_suggestions_and_graphiql_are_off(self, production: object) -> None:
        async with app_client(production) as http:  # type: ignore[arg-type]
            gql = GraphQL(http)
            introspection = await gql("{ __schema { types { name } } }")
            assert set(introspection.codes) == {"GRAPHQL_VALIDATION_FAILED"}
            assert introspection.data is None
            typo = await gql("{ viewr { id } }")
            assert "Did you mean" not in typo.errors[0]["message"]
            page = await http.get("/graphql", headers={"Accept": "text/html"})
            assert "GraphiQL" not in page.text
            assert (await gql("{ __typename }")).ok() == {"__typename": "Query"}
