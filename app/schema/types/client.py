"""The ``Client`` type: an agency's client, its campaigns and statistics."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.ids import encode_global_id
from app.models import Campaign, Client
from app.schema.connections import connection_field
from app.schema.context import Info
from app.schema.enums import CampaignStatus
from app.schema.types.asset_connection import assets_of
from app.schema.types.common import Money, Node, required
from app.schema.types.generation_connection import generations_of
from app.schema.types.job_connection import jobs_of
from app.services.listing import CampaignFilter

if TYPE_CHECKING:
    from app.schema.types.campaign import CampaignType
    from app.schema.types.workspace import WorkspaceType

CampaignRef = Annotated["CampaignType", strawberry.lazy("app.schema.types.campaign")]
WorkspaceRef = Annotated["WorkspaceType", strawberry.lazy("app.schema.types.workspace")]


@strawberry.type(description="How the client's brand must look and sound.")
class BrandGuidelines:
    colors: list[str]
    fonts: list[str]
    tone: str | None
    restrictions: list[str]
    examples: list[str]

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> BrandGuidelines | None:
        if data is None:
            return None
        return cls(
            colors=list(data.get("colors") or []),
            fonts=list(data.get("fonts") or []),
            tone=data.get("tone"),
            restrictions=list(data.get("restrictions") or []),
            examples=list(data.get("examples") or []),
        )


@strawberry.type(description="Totals over the client's campaigns, jobs and spend.")
class ClientStats:
    campaign_count: int
    video_count: int = strawberry.field(description="Completed ad videos.")
    total_spend: Money = strawberry.field(description="Actual spend in the cost ledger.")
    simulated_spend: Money = strawberry.field(
        description="The part of totalSpend run offline (simulated): nobody was charged it."
    )


@strawberry.input(description="Narrow a client's campaigns.")
class CampaignFilterInput:
    search: str | None = strawberry.field(default=None, description="Part of the name.")
    status: list[CampaignStatus] | None = None

    def to_filter(self) -> CampaignFilter:
        return CampaignFilter(search=self.search, statuses=tuple(self.status or ()))


@strawberry.type(name="Client", description="A client of the agency.")
class ClientType(Node):
    id: strawberry.ID
    name: str
    description: str | None
    brand_guidelines: BrandGuidelines | None
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: Client) -> ClientType:
        return cls(
            id=strawberry.ID(encode_global_id("Client", row.id)),
            name=row.name,
            description=row.description,
            brand_guidelines=BrandGuidelines.from_json(row.brand_guidelines),
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            workspace_id=row.workspace_id,
        )

    @strawberry.field
    async def workspace(self, info: Info) -> WorkspaceRef:
        from app.schema.types.workspace import WorkspaceType

        return await required(
            info.context.loaders.workspace, self.workspace_id, WorkspaceType.from_model, "Workspace"
        )

    campaigns = connection_field(
        model=Campaign,
        node=CampaignRef,
        to_node=lambda row: _campaign_type().from_model(row),
        parent="client_id",
        filter_input=CampaignFilterInput,
        empty_filter=CampaignFilter(),
        description="The client's campaigns. Default order: newest first.",
    )

    generations = generations_of("client_id")

    jobs = jobs_of("client_id")

    assets = assets_of("client_id")

    @strawberry.field
    async def stats(self, info: Info) -> ClientStats:
        found = await info.context.loaders.client_stats.load(self.pk)
        return ClientStats(
            campaign_count=found.campaign_count,
            video_count=found.video_count,
            total_spend=Money(amount=found.total_spend, currency="USD"),
            simulated_spend=Money(amount=found.simulated_spend, currency="USD"),
        )


def _campaign_type() -> type[CampaignType]:
    from app.schema.types.campaign import CampaignType

    return CampaignType
