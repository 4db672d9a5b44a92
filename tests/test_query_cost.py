"""Query cost: refused before any SQL when lists multiply too far, reported when accepted."""

from __future__ import annotations

import time
from collections.abc import Mapping

import httpx
import pytest
from graphql import parse

from app.schema import build_schema
from app.schema.cost import operation_cost
from app.schema.document import MAX_FRAGMENT_DEPTH
from bench.query import ASSET_PAGE, CAMPAIGN_PAGE, CLIENT_PAGE, DASHBOARD
from tests.conftest import StatementCounter
from tests.graphql import Account, GraphQL

LIMIT = 10_000
# 234 bytes of GraphQL cycling campaigns -> client -> campaigns (the amplification probe).
AMPLIFY = (
    "{viewer{memberships{workspace{clients(first:100){edges{node{campaigns(first:100){edges{node{"
    "client{campaigns(first:100){edges{node{id name goal}}}}}}}}}}}}}}"
)
CUBE = """
query($w: ID!) { node(id: $w) { ... on Workspace {
  clients(first: 100) { edges { node {
    campaigns(first: 100) { edges { node { assets(first: 100) { edges { node { id } } } } } }
  } } }
} } }
"""


def _cost(query: str, variables: Mapping[str, object] | None = None) -> int:
    schema = build_schema()._schema
    return operation_cost(schema, parse(query), None, variables or {}, 10**15)


class TestCostRules:
    def test_connections_multiply_their_children_by_the_page_asked_for(self) -> None:
        one = _cost(
            "{ viewer { memberships { workspace { clients(first: 1) { edges { node { id } } } } } } }"
        )
        ten = _cost(
            "{ viewer { memberships { workspace { clients(first: 10) { edges { node { id } } } } } } }"
        )
        default = _cost(
            "{ viewer { memberships { workspace { clients { edges { node { id } } } } } } }"
        )
        assert one < ten < default

    def test_variables_and_fragments_count_like_literals(self) -> None:
        literal = _cost(
            "{ viewer { memberships { workspace { clients(first: 7) { edges { node { id } } } } } } }"
        )
        via_variable = _cost(
            "query($n: Int) { viewer { ...V } } fragment V on User { memberships { workspace {"
            " clients(first: $n) { edges { node { id } } } } } }",
            {"n": 7},
        )
        assert literal == via_variable

    def test_scalars_are_free_and_cycles_multiply(self) -> None:
        assert _cost("{ __typename }") == 0
        assert _cost(AMPLIFY) > 100**3

    def test_the_dashboard_fits_and_the_cube_does_not(self) -> None:
        variables = {"clients": CLIENT_PAGE, "campaigns": CAMPAIGN_PAGE, "assets": ASSET_PAGE}
        assert _cost(DASHBOARD, variables) < LIMIT
        assert _cost(CUBE) > LIMIT


async def _anonymous(http: httpx.AsyncClient, query: str) -> httpx.Response:
    return await http.post("/graphql", json={"query": query})


class TestCostLimit:
    async def test_amplification_is_refused_fast_with_no_sql(
        self, http: httpx.AsyncClient, statements: StatementCounter
    ) -> None:
        await _anonymous(http, "{ __typename }")  # warm the parser and validation caches
        before = statements.count
        timings = []
        for _ in range(5):  # the fastest of five: a busy machine may pause any one request
            started = time.perf_counter()
            response = await _anonymous(http, AMPLIFY)
            timings.append(time.perf_counter() - started)
        elapsed = min(timings)
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert error["extensions"]["cost"]["limit"] == LIMIT
        assert error["extensions"]["cost"]["requested"] > LIMIT
        assert response.json()["data"] is None
        assert statements.count == before
        assert elapsed < 0.05, f"refused in {elapsed * 1000:.1f} ms"

    async def test_an_authenticated_refusal_runs_only_the_sign_in_statements(
        self, owner: Account, statements: StatementCounter
    ) -> None:
        (await owner.gql("{ __typename }")).ok()  # the credentials are cached from now on
        before = statements.count
        (await owner.gql("{ __typename }")).ok()
        sign_in = statements.count - before
        before = statements.count
        refused = await owner.gql(CUBE, {"w": owner.workspace_id})
        assert refused.code == "QUERY_TOO_COMPLEX"
        assert statements.count - before == sign_in

    async def test_the_dashboard_is_accepted_and_its_cost_reported(self, owner: Account) -> None:
        variables = {
            "id": owner.workspace_id,
            "clients": CLIENT_PAGE,
            "campaigns": CAMPAIGN_PAGE,
            "assets": ASSET_PAGE,
        }
        result = await owner.gql(DASHBOARD, variables)
        assert result.ok()["node"]["id"] == owner.workspace_id
        cost = result.response.json()["extensions"]["cost"]
        assert cost == {"requested": _cost(DASHBOARD, variables), "limit": LIMIT}

    async def test_the_limit_is_a_setting(self, owner: Account, gql: GraphQL) -> None:
        small = build_schema(max_cost=5)
        result = await small.execute(CUBE, variable_values={"w": owner.workspace_id})
        assert result.errors is not None
        assert result.errors[0].extensions["cost"]["limit"] == 5  # type: ignore[index]


class TestFragmentShape:
    @pytest.mark.parametrize(
        ("chain", "code"),
        [
            (MAX_FRAGMENT_DEPTH + 1, "GRAPHQL_VALIDATION_FAILED"),
            (300, "GRAPHQL_VALIDATION_FAILED"),
            (2000, "GRAPHQL_PARSE_FAILED"),  # past the token limit: refused while parsing
        ],
    )
    async def test_long_fragment_chains_are_refused_with_a_code(
        self, http: httpx.AsyncClient, chain: int, code: str
    ) -> None:
        fragments = "\n".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(chain))
        query = f"query {{ ...F0 }}\n{fragments}\nfragment F{chain} on Query {{ __typename }}"
        response = await http.post("/graphql", json={"query": query})
        assert response.status_code < 500
        assert response.json()["errors"][0]["extensions"]["code"] == code

    async def test_a_chain_within_the_limit_runs(self, http: httpx.AsyncClient) -> None:
        chain = MAX_FRAGMENT_DEPTH - 1
        fragments = "\n".join(f"fragment F{i} on Query {{ ...F{i + 1} }}" for i in range(chain))
        query = f"query {{ ...F0 }}\n{fragments}\nfragment F{chain} on Query {{ __typename }}"
        response = await http.post("/graphql", json={"query": query})
        assert response.json()["data"] == {"__typename": "Query"}

    async def test_fragment_cycles_are_a_validation_error(self, http: httpx.AsyncClient) -> None:
        query = "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
        response = await http.post("/graphql", json={"query": query})
        assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
