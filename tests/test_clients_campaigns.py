"""Clients and campaigns: limits, partial updates, status moves, budgets and deletion."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import decode_global_id
from app.models import Job
from app.models.enums import JobStatus
from tests.graphql import Account, create_campaign, create_client

CREATE_CLIENT = """
mutation($i: CreateClientInput!) {
  createClient(input: $i) {
    client { id name description brandGuidelines { colors fonts tone restrictions examples } }
  }
}
"""
UPDATE_CLIENT = """
mutation($i: UpdateClientInput!) {
  updateClient(input: $i) { client { id name description brandGuidelines { colors tone } } }
}
"""
UPDATE_CAMPAIGN = """
mutation($i: UpdateCampaignInput!) {
  updateCampaign(input: $i) { campaign { name goal status budget { amount currency } brief { objective keyMessages } } }
}
"""


class TestClients:
    async def test_create_returns_the_client_with_its_brand(self, owner: Account) -> None:
        brand = {
            "colors": ["#ff0000"],
            "fonts": ["Inter"],
            "tone": "playful",
            "restrictions": ["no alcohol"],
            "examples": ["https://example.com/ad"],
        }
        result = await owner.gql(
            CREATE_CLIENT,
            {"i": {"workspaceId": owner.workspace_id, "name": " Fizz ", "brandGuidelines": brand}},
        )
        client = result.ok()["createClient"]["client"]
        assert client["name"] == "Fizz"
        assert client["brandGuidelines"] == brand

    async def test_limits_of_the_original_system(self, owner: Account) -> None:
        result = await owner.gql(
            CREATE_CLIENT,
            {"i": {"workspaceId": owner.workspace_id, "name": "n" * 101, "description": "d" * 501}},
        )
        assert result.code == "BAD_USER_INPUT"
        assert result.errors[0]["extensions"]["fields"] == {
            "name": "must be at most 100 characters",
            "description": "must be at most 500 characters",
        }

    async def test_update_changes_only_the_given_fields(self, owner: Account) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        await owner.gql(UPDATE_CLIENT, {"i": {"id": client_id, "description": "Soda"}})
        result = await owner.gql(UPDATE_CLIENT, {"i": {"id": client_id, "name": "Fizz 2"}})
        assert result.ok()["updateClient"]["client"] == {
            "id": client_id,
            "name": "Fizz 2",
            "description": "Soda",
            "brandGuidelines": None,
        }
        cleared = await owner.gql(UPDATE_CLIENT, {"i": {"id": client_id, "description": None}})
        assert cleared.ok()["updateClient"]["client"]["description"] is None

    async def test_update_with_no_fields_is_bad_input(self, owner: Account) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        result = await owner.gql(UPDATE_CLIENT, {"i": {"id": client_id}})
        assert result.code == "BAD_USER_INPUT"

    async def test_name_cannot_be_cleared(self, owner: Account) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        result = await owner.gql(UPDATE_CLIENT, {"i": {"id": client_id, "name": None}})
        assert result.code == "BAD_USER_INPUT"
        assert result.errors[0]["extensions"]["fields"] == {"name": "is required"}

    async def test_delete_removes_the_client_and_its_campaigns(self, owner: Account) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        campaign_id = await create_campaign(owner.gql, client_id)
        result = await owner.gql(
            "mutation($id: ID!) { deleteClient(input: {id: $id}) { deletedClientId } }",
            {"id": client_id},
        )
        assert result.ok()["deleteClient"]["deletedClientId"] == client_id
        for node_id in (client_id, campaign_id):
            gone = await owner.gql("query($id: ID!) { node(id: $id) { id } }", {"id": node_id})
            assert gone.code == "NOT_FOUND"

    async def test_delete_is_refused_while_a_job_runs(
        self, owner: Account, db: AsyncSession
    ) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        db.add(_job(owner, client_id, JobStatus.VIDEO_PROCESSING))
        await db.commit()
        result = await owner.gql(
            "mutation($id: ID!) { deleteClient(input: {id: $id}) { deletedClientId } }",
            {"id": client_id},
        )
        assert result.code == "CONFLICT"


class TestCampaigns:
    async def test_create_with_brief_and_budget(self, owner: Account) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        result = await owner.gql(
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign {"
            " name goal status budget { amount currency } brief { objective keyMessages }"
            " client { id } } } }",
            {
                "i": {
                    "clientId": client_id,
                    "name": "Summer",
                    "goal": "Sell",
                    "budget": {"amount": "250.5"},
                    "brief": {"objective": "Awareness", "keyMessages": ["Cold", "Fizzy"]},
                }
            },
        )
        assert result.ok()["createCampaign"]["campaign"] == {
            "name": "Summer",
            "goal": "Sell",
            "status": "DRAFT",
            "budget": {"amount": "250.50", "currency": "USD"},
            "brief": {"objective": "Awareness", "keyMessages": ["Cold", "Fizzy"]},
            "client": {"id": client_id},
        }

    async def test_goal_is_required_and_bounded(self, owner: Account) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        result = await owner.gql(
            "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
            {"i": {"clientId": client_id, "name": "x", "goal": "g" * 501}},
        )
        assert result.errors[0]["extensions"]["fields"] == {
            "goal": "must be at most 500 characters"
        }

    async def test_status_moves_forward_only(self, owner: Account) -> None:
        campaign_id = await create_campaign(
            owner.gql, await create_client(owner.gql, owner.workspace_id)
        )
        active = await owner.gql(UPDATE_CAMPAIGN, {"i": {"id": campaign_id, "status": "ACTIVE"}})
        assert active.ok()["updateCampaign"]["campaign"]["status"] == "ACTIVE"
        back = await owner.gql(UPDATE_CAMPAIGN, {"i": {"id": campaign_id, "status": "DRAFT"}})
        assert back.code == "CONFLICT"
        archived = await owner.gql(
            UPDATE_CAMPAIGN, {"i": {"id": campaign_id, "status": "ARCHIVED"}}
        )
        assert archived.ok()["updateCampaign"]["campaign"]["status"] == "ARCHIVED"

    async def test_an_archived_campaign_takes_no_changes(self, owner: Account) -> None:
        campaign_id = await create_campaign(
            owner.gql, await create_client(owner.gql, owner.workspace_id)
        )
        await owner.gql(UPDATE_CAMPAIGN, {"i": {"id": campaign_id, "status": "ARCHIVED"}})
        result = await owner.gql(UPDATE_CAMPAIGN, {"i": {"id": campaign_id, "name": "New"}})
        assert result.code == "CONFLICT"

    async def test_budget_is_validated(self, owner: Account) -> None:
        campaign_id = await create_campaign(
            owner.gql, await create_client(owner.gql, owner.workspace_id)
        )
        for amount, currency in (("-1", "USD"), ("1.0000001", "USD"), ("10", "EUR")):
            result = await owner.gql(
                UPDATE_CAMPAIGN,
                {"i": {"id": campaign_id, "budget": {"amount": amount, "currency": currency}}},
            )
            assert result.code == "BAD_USER_INPUT", (amount, currency)

    async def test_failed_update_changes_nothing(self, owner: Account) -> None:
        campaign_id = await create_campaign(
            owner.gql, await create_client(owner.gql, owner.workspace_id)
        )
        result = await owner.gql(
            UPDATE_CAMPAIGN, {"i": {"id": campaign_id, "name": "Renamed", "goal": ""}}
        )
        assert result.code == "BAD_USER_INPUT"
        after = await owner.gql(
            "query($id: ID!) { node(id: $id) { ... on Campaign { name } } }", {"id": campaign_id}
        )
        assert after.ok()["node"]["name"] == "Summer"

    async def test_one_failing_mutation_does_not_undo_an_earlier_one(self, owner: Account) -> None:
        result = await owner.gql(
            "mutation($w: ID!) {"
            ' a: createClient(input: {workspaceId: $w, name: "Kept"}) { client { id } }'
            ' b: createClient(input: {workspaceId: $w, name: ""}) { client { id } } }',
            {"w": owner.workspace_id},
        )
        assert result.codes == ["BAD_USER_INPUT"]
        kept = await owner.gql(
            "query($id: ID!) { node(id: $id) { ... on Client { name } } }",
            {"id": result.data["a"]["client"]["id"]},
        )
        assert kept.ok()["node"]["name"] == "Kept"


def _job(owner: Account, client_id: str, status: JobStatus) -> Job:
    return Job(
        workspace_id=decode_global_id(owner.workspace_id).id,
        client_id=decode_global_id(client_id).id,
        product="Fizz",
        target_audience="Teens",
        key_message="Cold",
        call_to_action="Buy",
        style="Modern",
        status=status,
    )
