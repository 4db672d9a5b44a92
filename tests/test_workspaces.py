"""Workspaces and roles: who may do what, and a workspace always keeps an owner."""

from __future__ import annotations

import httpx
import pytest

from tests.graphql import Account, add_member, create_campaign, create_client, register

UPDATE_ROLE = """
mutation($i: UpdateMemberRoleInput!) { updateMemberRole(input: $i) { membership { role } } }
"""
REMOVE = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) { removedMembershipId } }"
MEMBERS = """
query($id: ID!) { node(id: $id) { ... on Workspace {
  members { totalCount nodes { role user { email } } }
} } }
"""


async def _own_membership(account: Account) -> str:
    result = await account.gql("{ viewer { memberships { id } } }")
    return str(result.ok()["viewer"]["memberships"][0]["id"])


class TestCreateWorkspace:
    async def test_creator_becomes_owner(self, owner: Account) -> None:
        result = await owner.gql(
            'mutation { createWorkspace(input: {name: "Agency"}) {'
            " workspace { name viewerRole isPersonal } membership { role } } }"
        )
        payload = result.ok()["createWorkspace"]
        assert payload["workspace"] == {
            "name": "Agency",
            "viewerRole": "OWNER",
            "isPersonal": False,
        }
        assert payload["membership"] == {"role": "OWNER"}

    async def test_name_is_required(self, owner: Account) -> None:
        result = await owner.gql(
            'mutation { createWorkspace(input: {name: "  "}) { workspace { id } } }'
        )
        assert result.code == "BAD_USER_INPUT"


class TestMembers:
    async def test_admin_adds_members_who_then_see_the_workspace(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        member = await register(http, "Member")
        await add_member(owner, member, "EDITOR")
        members = (await owner.gql(MEMBERS, {"id": owner.workspace_id})).ok()["node"]["members"]
        assert members["totalCount"] == 2
        assert [m["role"] for m in members["nodes"]] == ["OWNER", "EDITOR"]
        seen = await member.gql(
            "query($id: ID!) { node(id: $id) { id } }", {"id": owner.workspace_id}
        )
        assert seen.ok()["node"]["id"] == owner.workspace_id

    async def test_the_last_owner_can_neither_step_down_nor_leave(self, owner: Account) -> None:
        membership = await _own_membership(owner)
        demote = await owner.gql(UPDATE_ROLE, {"i": {"membershipId": membership, "role": "ADMIN"}})
        assert demote.code == "CONFLICT"
        leave = await owner.gql(REMOVE, {"i": {"membershipId": membership}})
        assert leave.code == "CONFLICT"

    async def test_an_owner_can_step_down_once_another_owner_exists(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        second = await register(http, "Second")
        await add_member(owner, second, "OWNER")
        membership = await _own_membership(owner)
        result = await owner.gql(UPDATE_ROLE, {"i": {"membershipId": membership, "role": "ADMIN"}})
        assert result.ok()["updateMemberRole"]["membership"]["role"] == "ADMIN"

    async def test_a_removed_member_loses_access_at_once(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        member = await register(http, "Member")
        membership = await add_member(owner, member, "EDITOR")
        client_id = await create_client(owner.gql, owner.workspace_id)
        assert (await owner.gql(REMOVE, {"i": {"membershipId": membership}})).ok()
        result = await member.gql("query($id: ID!) { node(id: $id) { id } }", {"id": client_id})
        assert result.code == "NOT_FOUND"

    async def test_a_member_may_leave(self, http: httpx.AsyncClient, owner: Account) -> None:
        member = await register(http, "Member")
        membership = await add_member(owner, member, "VIEWER")
        assert (await member.gql(REMOVE, {"i": {"membershipId": membership}})).ok()


MUTATIONS = {
    "createClient": (
        'mutation($w: ID!) { createClient(input: {workspaceId: $w, name: "X"}) { client { id } } }'
    ),
    "updateClient": 'mutation($c: ID!) { updateClient(input: {id: $c, name: "Y"}) { client { id } } }',
    "deleteClient": "mutation($c: ID!) { deleteClient(input: {id: $c}) { deletedClientId } }",
    "createCampaign": (
        'mutation($c: ID!) { createCampaign(input: {clientId: $c, name: "N", goal: "G"})'
        " { campaign { id } } }"
    ),
    "updateCampaign": (
        'mutation($p: ID!) { updateCampaign(input: {id: $p, name: "Z"}) { campaign { id } } }'
    ),
    "deleteCampaign": "mutation($p: ID!) { deleteCampaign(input: {id: $p}) { deletedCampaignId } }",
    "inviteMember": (
        'mutation($w: ID!) { inviteMember(input: {workspaceId: $w, email: "x@example.com"})'
        " { invitation { id } } }"
    ),
    "updateMemberRole": (
        "mutation($m: ID!) { updateMemberRole(input: {membershipId: $m, role: VIEWER})"
        " { membership { id } } }"
    ),
    "removeMember": "mutation($m: ID!) { removeMember(input: {membershipId: $m}) { removedMembershipId } }",
}


class TestViewerRole:
    @pytest.mark.parametrize("mutation", sorted(MUTATIONS))
    async def test_a_viewer_is_forbidden_every_mutation(
        self, http: httpx.AsyncClient, owner: Account, mutation: str
    ) -> None:
        viewer = await register(http, "Viewer")
        await add_member(owner, viewer, "VIEWER")
        client_id = await create_client(owner.gql, owner.workspace_id)
        campaign_id = await create_campaign(owner.gql, client_id)
        variables = {
            "w": owner.workspace_id,
            "c": client_id,
            "p": campaign_id,
            "m": await _own_membership(owner),
        }
        query = MUTATIONS[mutation]
        used = {k: v for k, v in variables.items() if f"${k}" in query}
        result = await viewer.gql(query, used)
        assert result.code == "FORBIDDEN", result.errors

    async def test_an_editor_cannot_delete_a_client_or_set_a_budget(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        editor = await register(http, "Editor")
        await add_member(owner, editor, "EDITOR")
        client_id = await create_client(editor.gql, owner.workspace_id)
        campaign_id = await create_campaign(editor.gql, client_id)
        delete = await editor.gql(MUTATIONS["deleteClient"], {"c": client_id})
        assert delete.code == "FORBIDDEN"
        budget = await editor.gql(
            'mutation($p: ID!) { updateCampaign(input: {id: $p, budget: {amount: "10"}})'
            " { campaign { id } } }",
            {"p": campaign_id},
        )
        assert budget.code == "FORBIDDEN"
