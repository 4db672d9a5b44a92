"""Property-based fuzzing over HTTP: no input, however hostile, gets a 500 or an uncoded error.

Hypothesis builds operations from the schema itself (valid ones and broken ones), variables of
every JSON shape, and raw bodies, and sends them to the real app with a signed-in caller who
owns a client and a campaign, so resolvers really run. The budget is fixed and derandomized:
every run tries the same cases.
"""

from __future__ import annotations

import asyncio
import gc
import json
from collections import Counter
from collections.abc import Callable, Coroutine
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import hypothesis_graphql
from graphql import (
    GraphQLObjectType,
    NullValueNode,
    StringValueNode,
    get_named_type,
    is_leaf_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from app.errors import ErrorCode
from app.schema import build_schema
from tests.graphql import Account, create_campaign, create_client, register

SDL = (Path(__file__).parent.parent / "schema.graphql").read_text()
SCHEMA = build_schema()._schema
CODES = {code.value for code in ErrorCode} - {ErrorCode.INTERNAL_SERVER_ERROR.value}
# A sign-out would end the fuzzing caller's session: everything after it would be refused.
SKIPPED_FIELDS = {"logout"}
CUSTOM_SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(
        lambda moment: StringValueNode(value=moment.isoformat())
    ),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2).map(
        lambda amount: StringValueNode(value=str(amount))
    ),
    "JSON": st.just(StringValueNode(value="{}")),
    "Upload": st.just(NullValueNode()),
}
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def fuzz(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


class Harness:
    """Sends requests on the test's event loop from Hypothesis's (synchronous) thread."""

    def __init__(
        self, http: httpx.AsyncClient, account: Account, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.http = http
        self.headers = {"Authorization": f"Bearer {account.gql.token}"}
        self.loop = loop
        self.cases: Counter[str] = Counter()

    def run(self, kind: str, send: Callable[[], Coroutine[Any, Any, httpx.Response]]) -> None:
        response = asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=60)
        self.cases[kind] += 1
        assert response.status_code < 500, (kind, response.status_code, response.text[:500])
        check_body(response)

    def post(self, kind: str, body: dict[str, Any], path: str = "/graphql") -> None:
        self.run(kind, lambda: self.http.post(path, json=body, headers=self.headers))

    def raw(self, kind: str, content: bytes, content_type: str, path: str = "/graphql") -> None:
        headers = {**self.headers, "Content-Type": content_type}
        self.run(kind, lambda: self.http.post(path, content=content, headers=headers))


def check_body(response: httpx.Response) -> None:
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        payloads = [
            json.loads(line[6:]) for line in text.splitlines() if line.startswith("data: {")
        ]
    else:
        payloads = [response.json()]
    for payload in payloads:
        for error in payload.get("errors") or []:
            code = (error.get("extensions") or {}).get("code")
            assert code in CODES, error


def _operation_for(name: str, kind: str) -> str:
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert isinstance(root, GraphQLObjectType)
    field = root.fields[name]
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    head = f"{kind} F({declared})" if declared else kind
    return (
        f"{head} {{ {name}({passed}){selection} }}" if passed else f"{head} {{ {name}{selection} }}"
    )


def _fields(kind: str) -> list[str]:
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert isinstance(root, GraphQLObjectType)
    return sorted(set(root.fields) - SKIPPED_FIELDS)


@st.composite
def variables_for(draw: st.DrawFn, ids: list[str]) -> dict[str, Any]:
    """Variables of any shape, seeded with real ids, broken ids, NULs and huge numbers."""
    special = st.sampled_from(
        [*ids, "x\x00y", "", " ", "Q2xpZW50OjE=", "a" * 5000, -1, 2**63, 1e308, "\u202e", "💥"]
    )
    value = st.one_of(
        special,
        JSON_VALUES,
        st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "workspaceId",
                    "clientId",
                    "campaignId",
                    "name",
                    "first",
                    "after",
                    "input",
                    "tags",
                ]
            ),
            special | JSON_VALUES,
            max_size=5,
        ),
    )
    return draw(
        st.dictionaries(
            st.sampled_from(["input", "id", "ids", "first", "after", "filter", "w", "i"]),
            value,
            max_size=4,
        )
    )


async def _seed(http: httpx.AsyncClient) -> tuple[Account, list[str]]:
    account = await register(http, "Fuzzer")
    client = await create_client(account.gql, account.workspace_id)
    campaign = await create_campaign(account.gql, client)
    return account, [account.workspace_id, client, campaign, account.user_id]


def _fuzz(harness: Harness, ids: list[str], budget: dict[str, int]) -> None:
    """Every strategy with its share of the budget; runs in a worker thread."""
    operations = hypothesis_graphql.from_schema(SDL, custom_scalars=CUSTOM_SCALARS)
    broken = hypothesis_graphql.from_schema(
        SDL, custom_scalars=CUSTOM_SCALARS, mode=hypothesis_graphql.Mode.NEGATIVE
    )

    @fuzz(budget["schema"])
    @given(operations)
    def schema_operations(query: str) -> None:
        if "logout" not in query:
            harness.post("schema", {"query": query})

    @fuzz(budget["broken"])
    @given(broken)
    def broken_operations(query: object) -> None:
        harness.post("broken", {"query": query})

    @fuzz(budget["variables"])
    @given(
        st.sampled_from(["query", "mutation"]).flatmap(
            lambda kind: st.tuples(st.just(kind), st.sampled_from(_fields(kind)))
        ),
        variables_for(ids),
    )
    def root_fields_with_variables(target: tuple[str, str], variables: dict[str, Any]) -> None:
        kind, name = target
        harness.post("variables", {"query": _operation_for(name, kind), "variables": variables})

    @fuzz(budget["raw"])
    @given(
        st.one_of(
            st.binary(max_size=300),
            JSON_VALUES.map(lambda v: json.dumps(v).encode()),
            st.builds(lambda n: b"[" * n + b"]" * n, st.integers(0, 3000)),
        ),
        st.sampled_from(["application/json", "text/plain", "application/graphql-response+json"]),
        st.sampled_from(["/graphql", "/graphql/stream"]),
    )
    def raw_bodies(content: bytes, content_type: str, path: str) -> None:
        harness.raw(f"raw {path}", content, content_type, path)

    schema_operations()
    broken_operations()
    root_fields_with_variables()
    raw_bodies()


BUDGETS = {
    # Most of the budget runs on PostgreSQL, where NUL characters and types are strictest.
    "sqlite": {"schema": 300, "broken": 150, "variables": 500, "raw": 150},
    "postgresql": {"schema": 1000, "broken": 500, "variables": 1900, "raw": 600},
}


class TestFuzz:
    async def test_no_input_gets_a_500_or_an_uncoded_error(
        self, dialect: str, app: Starlette, http: httpx.AsyncClient
    ) -> None:
        account, ids = await _seed(http)
        harness = Harness(http, account, asyncio.get_running_loop())
        await asyncio.to_thread(_fuzz, harness, ids, BUDGETS[dialect])
        runtime = app.state.runtime
        assert runtime.engine.sync_engine.pool.checkedout() == 0  # every operation gave it back
        assert runtime.read_engine.sync_engine.pool.checkedout() == 0
        gc.collect()  # a connection the collector reclaimed would warn here, as an error
        total = sum(harness.cases.values())
        print(f"\n{dialect}: {total} fuzzed requests {dict(harness.cases)}")
        assert total >= sum(BUDGETS[dialect].values()) * 0.9
