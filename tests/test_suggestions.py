"""No "did you mean" hint leaks the schema in production, whatever the mistake."""

from __future__ import annotations

from typing import Any

import pytest

from app.schema import build_schema

MISTAKES: list[tuple[str, str, dict[str, Any]]] = [
    ("field", "{ viewr { id } }", {}),
    ("argument", '{ node(idd: "x") { id } }', {}),
    ("type", "query($w: Strin!) { node(id: $w) { id } }", {"w": "x"}),
    (
        "enum value",
        "{ viewer { memberships { workspace { clients(orderBy: {field: NAM}) { totalCount } } } } }",
        {},
    ),
    (
        "enum value in a variable",
        "query($o: Order) { viewer { memberships { workspace { clients(orderBy: $o) { totalCount } } } } }",
        {"o": {"field": "NAM"}},
    ),
    (
        "input field",
        "{ viewer { memberships { workspace { clients(orderBy: {fild: NAME}) { totalCount } } } } }",
        {},
    ),
    (
        "input field in a variable",
        "query($o: Order) { viewer { memberships { workspace { clients(orderBy: $o) { totalCount } } } } }",
        {"o": {"fild": "NAME"}},
    ),
]


async def _messages(production: bool, query: str, variables: dict[str, Any]) -> list[str]:
    result = await build_schema(production=production).execute(query, variable_values=variables)
    assert result.errors, "the mistake must be an error"
    return [error.message for error in result.errors]


class TestSuggestions:
    @pytest.mark.parametrize(("kind", "query", "variables"), MISTAKES, ids=[m[0] for m in MISTAKES])
    async def test_production_never_suggests(
        self, kind: str, query: str, variables: dict[str, Any]
    ) -> None:
        messages = await _messages(True, query, variables)
        assert not [m for m in messages if "Did you mean" in m], messages

    @pytest.mark.parametrize(("kind", "query", "variables"), MISTAKES, ids=[m[0] for m in MISTAKES])
    async def test_development_keeps_the_hints(
        self, kind: str, query: str, variables: dict[str, Any]
    ) -> None:
        messages = await _messages(False, query, variables)
        assert any("Did you mean" in m for m in messages), messages
