"""Mutations on campaigns."""

from __future__ import annotations

from typing import Any

import strawberry

from app.ids import expect_global_id
from app.schema.changes import as_plain, given
from app.schema.context import Info
from app.schema.enums import CampaignStatus
from app.schema.extensions import mutation
from app.schema.inputs import MoneyInput
from app.schema.types.campaign import CampaignType
from app.services import campaigns


@strawberry.input(description="What the campaign is for.")
class CampaignBriefInput:
    objective: str | None = None
    target_audience: str | None = None
    key_messages: list[str] = strawberry.field(default_factory=list)
    notes: str | None = None


@strawberry.input
class CreateCampaignInput:
    client_id: strawberry.ID
    name: str = strawberry.field(description="1-100 characters.")
    goal: str = strawberry.field(description="1-500 characters.")
    status: CampaignStatus = CampaignStatus.DRAFT
    brief: CampaignBriefInput | None = None
    budget: MoneyInput | None = strawberry.field(default=None, description="Needs ADMIN.")


@strawberry.type
class CreateCampaignPayload:
    campaign: CampaignType


@strawberry.input(description="Only the fields you give change; null clears an optional one.")
class UpdateCampaignInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    goal: str | None = strawberry.UNSET
    status: CampaignStatus | None = strawberry.UNSET
    brief: CampaignBriefInput | None = strawberry.UNSET
    budget: MoneyInput | None = strawberry.field(
        default=strawberry.UNSET, description="Needs ADMIN."
    )


@strawberry.type
class UpdateCampaignPayload:
    campaign: CampaignType


@strawberry.input
class DeleteCampaignInput:
    id: strawberry.ID


@strawberry.type
class DeleteCampaignPayload:
    deleted_campaign_id: strawberry.ID


def _changes(input_object: UpdateCampaignInput) -> dict[str, Any]:
    changes = given(input_object, "name", "goal", "status", "brief", "budget")
    if "budget" in changes:
        budget = changes.pop("budget")
        changes["budget"] = budget["amount"] if budget else None
        changes["budget_currency"] = budget["currency"] if budget else None
    return changes


@strawberry.type
class CampaignMutation:
    @mutation(description="Create a campaign for a client (EDITOR; a budget needs ADMIN).")
    async def create_campaign(
        self, info: Info, input: CreateCampaignInput
    ) -> CreateCampaignPayload | None:
        ctx = info.context
        campaign = await campaigns.create_campaign(
            ctx.session,
            ctx.actor,
            client_id=expect_global_id(input.client_id, "Client", field="clientId"),
            name=input.name,
            goal=input.goal,
            status=input.status,
            brief=as_plain(input.brief),
            budget=input.budget.amount if input.budget else None,
            budget_currency=input.budget.currency if input.budget else None,
        )
        return CreateCampaignPayload(campaign=CampaignType.from_model(campaign))

    @mutation(description="Change some fields; status moves DRAFT → ACTIVE → ARCHIVED.")
    async def update_campaign(
        self, info: Info, input: UpdateCampaignInput
    ) -> UpdateCampaignPayload | None:
        ctx = info.context
        campaign = await campaigns.update_campaign(
            ctx.session,
            ctx.actor,
            campaign_id=expect_global_id(input.id, "Campaign"),
            changes=_changes(input),
        )
        return UpdateCampaignPayload(campaign=CampaignType.from_model(campaign))

    @mutation(description="Delete a campaign (EDITOR); its jobs and assets stay.")
    async def delete_campaign(
        self, info: Info, input: DeleteCampaignInput
    ) -> DeleteCampaignPayload | None:
        ctx = info.context
        await campaigns.delete_campaign(
            ctx.session, ctx.actor, campaign_id=expect_global_id(input.id, "Campaign")
        )
        return DeleteCampaignPayload(deleted_campaign_id=input.id)
