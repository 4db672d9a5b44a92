"""Another workspace's objects do not exist for you: NOT_FOUND, exactly like a missing ID."""

from __future__ import annotations

import uuid

import pytest

from app.ids import encode_global_id
from tests.graphql import Account, create_campaign, create_client

NODE = "query($id: ID!) { node(id: $id) { id } }"


@pytest.fixture
async def first_ids(owner: Account) -> dict[str, str]:
    client_id = await create_client(owner.gql, owner.workspace_id)
    campaign_id = await create_campaign(owner.gql, client_id)
    viewer = (await owner.gql("{ viewer { id memberships { id } } }")).ok()["viewer"]
    return {
        "workspace": owner.workspace_id,
        "client": client_id,
        "campaign": campaign_id,
        "membership": viewer["memberships"][0]["id"],
        "user": viewer["id"],
    }


class TestIsolation:
    @pytest.mark.parametrize("kind", ["workspace", "client", "campaign", "membership", "user"])
    async def test_node_is_not_found_for_another_workspace(
        self, stranger: Account, first_ids: dict[str, str], kind: str
    ) -> None:
        result = await stranger.gql(NODE, {"id": first_ids[kind]})
        assert result.code == "NOT_FOUND"
        assert result.data == {"node": None}

    async def test_invisible_and_missing_ids_fail_the_same_way(
        self, stranger: Account, first_ids: dict[str, str]
    ) -> None:
        missing = encode_global_id("Client", uuid.uuid4())
        invisible = await stranger.gql(NODE, {"id": first_ids["client"]})
        absent = await stranger.gql(NODE, {"id": missing})
        assert invisible.errors[0]["message"] == absent.errors[0]["message"]
        assert invisible.errors[0]["extensions"] == absent.errors[0]["extensions"]

    async def test_nodes_gives_a_null_and_an_error_per_invisible_id(
        self, owner: Account, stranger: Account, first_ids: dict[str, str]
    ) -> None:
        own_client = await create_client(stranger.gql, stranger.workspace_id)
        result = await stranger.gql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            {"ids": [own_client, first_ids["client"], first_ids["campaign"]]},
        )
        assert result.data == {"nodes": [{"id": own_client}, None, None]}
        assert result.codes == ["NOT_FOUND", "NOT_FOUND"]
        assert sorted(e["path"][1] for e in result.errors) == [1, 2]

    @pytest.mark.parametrize(
        ("query", "variable"),
        [
            (
                'mutation($id: ID!) { updateClient(input: {id: $id, name: "x"}) { client { id } } }',
                "client",
            ),
            ("mutation($id: ID!) { deleteClient(input: {id: $id}) { deletedClientId } }", "client"),
            (
                'mutation($id: ID!) { createCampaign(input: {clientId: $id, name: "n", goal: "g"})'
                " { campaign { id } } }",
                "client",
            ),
            (
                'mutation($id: ID!) { updateCampaign(input: {id: $id, name: "x"}) { campaign { id } } }',
                "campaign",
            ),
            (
                "mutation($id: ID!) { deleteCampaign(input: {id: $id}) { deletedCampaignId } }",
                "campaign",
            ),
            (
                'mutation($id: ID!) { createClient(input: {workspaceId: $id, name: "x"}) { client { id } } }',
                "workspace",
            ),
            (
                'mutation($id: ID!) { inviteMember(input: {workspaceId: $id, email: "a@b.co"})'
                " { invitation { id } } }",
                "workspace",
            ),
            (
                "mutation($id: ID!) { updateMemberRole(input: {membershipId: $id, role: OWNER})"
                " { membership { id } } }",
                "membership",
            ),
            (
                "mutation($id: ID!) { removeMember(input: {membershipId: $id}) { removedMembershipId } }",
                "membership",
            ),
        ],
    )
    async def test_mutations_on_another_workspace_are_not_found(
        self, stranger: Account, first_ids: dict[str, str], query: str, variable: str
    ) -> None:
        result = await stranger.gql(query, {"id": first_ids[variable]})
        assert result.code == "NOT_FOUND", result.errors

    async def test_nothing_changed_after_the_attempts(
        self, owner: Account, stranger: Account, first_ids: dict[str, str]
    ) -> None:
        await stranger.gql(
            'mutation($id: ID!) { updateClient(input: {id: $id, name: "hacked"}) { client { id } } }',
            {"id": first_ids["client"]},
        )
        result = await owner.gql(
            "query($id: ID!) { node(id: $id) { ... on Client { name } } }",
            {"id": first_ids["client"]},
        )
        assert result.ok()["node"]["name"] == "Fizz Cola"

    async def test_an_id_of_the_wrong_type_is_bad_input(
        self, owner: Account, first_ids: dict[str, str]
    ) -> None:
        result = await owner.gql(
            'mutation($id: ID!) { updateClient(input: {id: $id, name: "x"}) { client { id } } }',
            {"id": first_ids["campaign"]},
        )
        assert result.code == "BAD_USER_INPUT"
