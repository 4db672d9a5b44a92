"""Concurrent owner changes serialize on the workspace's row: one wins, the other is coded,
and the workspace always keeps an owner (PostgreSQL, where transactions really overlap)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import app_client, make_settings
from tests.graphql import add_member, register

REMOVE = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) { removedMembershipId } }"
DEMOTE = (
    "mutation($i: UpdateMemberRoleInput!) { updateMemberRole(input: $i) { membership { role } } }"
)
MINE = "{ viewer { memberships { id role workspace { id } } } }"
OWNERS = (
    "query($w: ID!) { node(id: $w) { ... on Workspace { members(first: 10) { nodes { role } } } } }"
)


class TestOwnerRaces:
    async def test_two_owners_removing_each_other_never_leave_the_workspace_ownerless(
        self, postgres_only_url: str, tmp_path: Path
    ) -> None:
        async with app_client(make_settings(postgres_only_url, tmp_path)) as http:
            for _ in range(20):
                first, second = await register(http, "A"), await register(http, "B")
                second_id = await add_member(first, second, "OWNER")
                mine = (await first.gql(MINE)).ok()["viewer"]["memberships"]
                first_id = next(m["id"] for m in mine if m["workspace"]["id"] == first.workspace_id)
                results = await asyncio.gather(
                    first.gql(REMOVE, {"i": {"membershipId": second_id}}),
                    second.gql(DEMOTE, {"i": {"membershipId": first_id, "role": "VIEWER"}}),
                )
                codes = sorted(r.codes[0] if r.errors else "OK" for r in results)
                assert codes.count("OK") == 1, codes  # one wins; the other sees the result
                assert "INTERNAL_SERVER_ERROR" not in codes, codes
                members = (await first.gql(OWNERS, {"w": first.workspace_id})).ok()
                roles = [m["role"] for m in members["node"]["members"]["nodes"]]
                assert "OWNER" in roles, (codes, roles)

    async def test_two_owners_each_removing_the_other_at_once(
        self, postgres_only_url: str, tmp_path: Path
    ) -> None:
        async with app_client(make_settings(postgres_only_url, tmp_path)) as http:
            for _ in range(20):
                first, second = await register(http, "A"), await register(http, "B")
                second_id = await add_member(first, second, "OWNER")
                mine = (await first.gql(MINE)).ok()["viewer"]["memberships"]
                first_id = next(m["id"] for m in mine if m["workspace"]["id"] == first.workspace_id)
                results = await asyncio.gather(
                    first.gql(REMOVE, {"i": {"membershipId": second_id}}),
                    second.gql(REMOVE, {"i": {"membershipId": first_id}}),
                )
                codes = sorted(r.codes[0] if r.errors else "OK" for r in results)
                assert codes == ["CONFLICT", "OK"] or codes == ["NOT_FOUND", "OK"], codes
                assert "INTERNAL_SERVER_ERROR" not in codes
