"""The ``assets`` connection, the same on workspaces, clients and campaigns."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from app.ids import expect_global_id
from app.models import Asset
from app.models.enums import AssetKind, AssetSource, AssetStatus
from app.schema.connections import resolve_connection
from app.schema.context import Info
from app.schema.inputs import Order
from app.schema.types.asset import AssetType, asset_from_model
from app.schema.types.common import Connection
from app.services.listing import AssetFilter


@strawberry.input(description="Narrow a list of assets; all given conditions must hold.")
class AssetFilterInput:
    client_id: strawberry.ID | None = None
    campaign_id: strawberry.ID | None = None
    kind: AssetKind | None = None
    tag: str | None = None
    source: AssetSource | None = None
    status: AssetStatus | None = None

    def to_filter(self) -> AssetFilter:
        return AssetFilter(
            client_id=_maybe(self.client_id, "Client", "clientId"),
            campaign_id=_maybe(self.campaign_id, "Campaign", "campaignId"),
            kind=self.kind,
            tag=self.tag,
            source=self.source,
            status=self.status,
        )


def _maybe(value: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
    return expect_global_id(value, type_name, field=field) if value else None


async def resolve_assets(
    info: Info,
    *,
    parent: str,
    parent_id: uuid.UUID,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    filter: AssetFilterInput | None,
    order_by: Order | None,
) -> Connection[AssetType]:
    return await resolve_connection(
        info,
        model=Asset,
        parent=parent,
        parent_id=parent_id,
        to_node=asset_from_model,
        first=first,
        after=after,
        last=last,
        before=before,
        order_by=order_by,
        list_filter=filter.to_filter() if filter else AssetFilter(),
    )


def assets_of(parent: str) -> Any:
    """The connection field for a type whose ``pk`` is the ``parent`` column's value."""

    async def field(
        root: Any,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: AssetFilterInput | None = None,
        order_by: Order | None = None,
    ) -> Connection[AssetType]:
        return await resolve_assets(
            info,
            parent=parent,
            parent_id=root.pk,
            first=first,
            after=after,
            last=last,
            before=before,
            filter=filter,
            order_by=order_by,
        )

    return strawberry.field(resolver=field, description="Assets here, newest first by default.")
