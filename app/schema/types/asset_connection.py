"""The ``assets`` connection, the same on workspaces, clients and campaigns."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from app.ids import expect_global_id
from app.models import Asset
from app.models.enums import AssetKind, AssetSource, AssetStatus
from app.schema.connections import connection_field
from app.schema.types.asset import AssetType, asset_from_model
from app.services.listing import LISTED_ASSET_STATUS, AssetFilter


@strawberry.input(description="Narrow a list of assets; all given conditions must hold.")
class AssetFilterInput:
    client_id: strawberry.ID | None = None
    campaign_id: strawberry.ID | None = None
    kind: AssetKind | None = None
    tag: str | None = None
    source: AssetSource | None = None
    status: AssetStatus | None = strawberry.field(
        default=None,
        description="Only assets in this status; when not given, only READY ones.",
    )

    def to_filter(self) -> AssetFilter:
        return AssetFilter(
            client_id=_maybe(self.client_id, "Client", "clientId"),
            campaign_id=_maybe(self.campaign_id, "Campaign", "campaignId"),
            kind=self.kind,
            tag=self.tag,
            source=self.source,
            status=self.status or LISTED_ASSET_STATUS,
        )


def _maybe(value: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
    return expect_global_id(value, type_name, field=field) if value else None


def assets_of(parent: str) -> Any:
    return connection_field(
        model=Asset,
        node=AssetType,
        to_node=asset_from_model,
        parent=parent,
        filter_input=AssetFilterInput,
        empty_filter=AssetFilter(),
        description=(
            "Assets here, newest first by default; only READY ones unless `filter.status` asks"
            " for another."
        ),
    )
