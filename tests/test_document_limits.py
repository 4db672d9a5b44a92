"""Depth and alias limits follow fragments in linear time: doubling spreads cannot stall it."""

from __future__ import annotations

import time

from tests.graphql import Account, GraphQL


def doubling(length: int, leaf: str = "__typename") -> str:
    """Each fragment spreads the next twice: 2^(length-1) copies of ``leaf`` once expanded."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(1, length)
    )
    return f"query {{ ...F1 }} {fragments} fragment F{length} on Query {{ {leaf} }}"


class TestFragments:
    async def test_an_unknown_fragment_is_refused(self, gql: GraphQL) -> None:
        result = await gql("query { ...Missing }")
        assert result.code == "GRAPHQL_VALIDATION_FAILED"
        assert result.errors[0]["message"] == "Unknown fragment 'Missing'."

    async def test_fragments_doubling_at_each_step_are_measured_in_linear_time(
        self, gql: GraphQL
    ) -> None:
        started = time.perf_counter()
        result = await gql(doubling(29, "a: __typename"))
        assert time.perf_counter() - started < 1.0
        assert result.code == "GRAPHQL_VALIDATION_FAILED"
        assert result.errors[0]["message"] == "over 1000000 aliases found. Allowed: 30"

    async def test_aliases_spread_through_fragments_count_each_time(self, gql: GraphQL) -> None:
        assert (await gql(doubling(5, "a: __typename"))).ok() == {"a": "Query"}  # 16 aliases
        assert (await gql(doubling(6, "a: __typename"))).code == "GRAPHQL_VALIDATION_FAILED"

    async def test_depth_is_counted_through_fragments(self, owner: Account) -> None:
        level = "memberships { workspace { members(first: 1) { nodes { user { "
        deep = "query { viewer { ...L1 } } " + " ".join(
            f"fragment L{i} on User {{ {level} ...L{i + 1} }} }} }} }} }} }}" for i in range(1, 4)
        )
        shallow = "query { viewer { ...L1 } } " + " ".join(
            f"fragment L{i} on User {{ {level} ...L{i + 1} }} }} }} }} }} }}" for i in range(1, 3)
        )
        result = await owner.gql(deep + " fragment L4 on User { id }")
        assert result.code == "GRAPHQL_VALIDATION_FAILED"
        assert result.errors[0]["message"] == "'anonymous' exceeds maximum operation depth of 15"
        assert (await owner.gql(shallow + " fragment L3 on User { id }")).ok()["viewer"]
