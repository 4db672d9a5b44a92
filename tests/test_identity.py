"""Every root field that needs an identity answers UNAUTHENTICATED to an anonymous caller,
before any lookup. The list of fields comes from the schema itself."""

from __future__ import annotations

import httpx
import pytest
from graphql import GraphQLField, GraphQLObjectType, get_named_type, is_leaf_type

from app.schema import build_schema
from app.schema.identity import PUBLIC_FIELDS
from tests.conftest import StatementCounter

SCHEMA = build_schema()._schema


def _operation(kind: str, name: str, field: GraphQLField) -> str:
    """A valid document for one root field; its variables are declared but never sent, so
    a check that ran after variable coercion would answer BAD_USER_INPUT instead."""
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    selection = "" if is_leaf_type(get_named_type(field.type)) else " { __typename }"
    head = f"{kind} Probe({declared})" if declared else f"{kind} Probe"
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call}{selection} }}"


def _fields(kind: str) -> list[tuple[str, str]]:
    root = {"query": SCHEMA.query_type, "mutation": SCHEMA.mutation_type}[kind]
    assert isinstance(root, GraphQLObjectType)
    return [
        (name, _operation(kind, name, field))
        for name, field in root.fields.items()
        if name not in PUBLIC_FIELDS
    ]


PROBES = [*_fields("query"), *_fields("mutation")]


class TestAnonymousCallers:
    def test_the_probe_covers_every_protected_root_field(self) -> None:
        assert len(PROBES) >= 30
        assert {"createClient", "node", "nodes", "apiKeys", "uploadAsset"} <= {n for n, _ in PROBES}

    @pytest.mark.parametrize(("name", "document"), PROBES, ids=[n for n, _ in PROBES])
    async def test_are_unauthenticated_before_any_lookup(
        self, http: httpx.AsyncClient, statements: StatementCounter, name: str, document: str
    ) -> None:
        before = statements.count
        response = await http.post("/graphql", json={"query": document})
        body = response.json()
        assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"], body
        assert statements.count == before

    async def test_subscriptions_too(self, http: httpx.AsyncClient) -> None:
        root = SCHEMA.subscription_type
        assert root is not None
        for name, field in root.fields.items():
            response = await http.post(
                "/graphql/stream", json={"query": _operation("subscription", name, field)}
            )
            assert '"code": "UNAUTHENTICATED"' in response.text, (name, response.text)

    async def test_public_fields_still_answer(self, http: httpx.AsyncClient) -> None:
        response = await http.post(
            "/graphql", json={"query": "{ viewer { id } health { version } }"}
        )
        assert response.json()["data"]["viewer"] is None
