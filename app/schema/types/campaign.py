"""The ``Campaign`` type."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.ids import encode_global_id
from app.models import Campaign
from app.schema.context import Info
from app.schema.enums import CampaignStatus
from app.schema.types.asset_connection import assets_of
from app.schema.types.common import Money, Node, money, required
from app.schema.types.generation_connection import generations_of
from app.schema.types.job_connection import jobs_of

if TYPE_CHECKING:
    from app.schema.types.client import ClientType
    from app.schema.types.workspace import WorkspaceType

ClientRef = Annotated["ClientType", strawberry.lazy("app.schema.types.client")]
WorkspaceRef = Annotated["WorkspaceType", strawberry.lazy("app.schema.types.workspace")]


@strawberry.type(description="What the campaign is for.")
class CampaignBrief:
    objective: str | None
    target_audience: str | None
    key_messages: list[str]
    notes: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> CampaignBrief | None:
        if data is None:
            return None
        return cls(
            objective=data.get("objective"),
            target_audience=data.get("target_audience"),
            key_messages=list(data.get("key_messages") or []),
            notes=data.get("notes"),
        )


@strawberry.type(description="Totals over the campaign's jobs and spend.")
class CampaignStats:
    video_count: int = strawberry.field(description="Completed ad videos.")
    total_spend: Money = strawberry.field(description="Actual spend in the cost ledger.")
    average_cost: Money = strawberry.field(description="Actual spend per completed video.")
    simulated_spend: Money = strawberry.field(
        description="The part of totalSpend run offline (simulated): nobody was charged it."
    )


@strawberry.type(name="Campaign", description="A client's campaign.")
class CampaignType(Node):
    id: strawberry.ID
    name: str
    goal: str
    status: CampaignStatus
    brief: CampaignBrief | None
    budget: Money | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]
    client_id: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: Campaign) -> CampaignType:
        return cls(
            id=strawberry.ID(encode_global_id("Campaign", row.id)),
            name=row.name,
            goal=row.goal,
            status=row.status,
            brief=CampaignBrief.from_json(row.brief),
            budget=money(row.budget, row.budget_currency),
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            client_id=row.client_id,
            workspace_id=row.workspace_id,
        )

    @strawberry.field
    async def client(self, info: Info) -> ClientRef:
        from app.schema.types.client import ClientType

        return await required(
            info.context.loaders.client, self.client_id, ClientType.from_model, "Client"
        )

    @strawberry.field
    async def workspace(self, info: Info) -> WorkspaceRef:
        from app.schema.types.workspace import WorkspaceType

        return await required(
            info.context.loaders.workspace, self.workspace_id, WorkspaceType.from_model, "Workspace"
        )

    generations = generations_of("campaign_id")

    jobs = jobs_of("campaign_id")

    assets = assets_of("campaign_id")

    @strawberry.field
    async def stats(self, info: Info) -> CampaignStats:
        found = await info.context.loaders.campaign_stats.load(self.pk)
        return CampaignStats(
            video_count=found.video_count,
            total_spend=Money(amount=found.total_spend, currency="USD"),
            average_cost=Money(amount=found.average_cost, currency="USD"),
            simulated_spend=Money(amount=found.simulated_spend, currency="USD"),
        )
