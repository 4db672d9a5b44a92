"""The ``generations`` connection, the same on workspaces, clients and campaigns."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from app.ids import expect_global_id
from app.models import Generation
from app.models.enums import GenerationKind, GenerationStatus
from app.schema.connections import resolve_connection
from app.schema.context import Info
from app.schema.inputs import Order
from app.schema.types.common import Connection
from app.schema.types.generation import GenerationType, PublicGenerationStatus
from app.services.listing import GenerationFilter

_STORED = {
    PublicGenerationStatus.QUEUED: (GenerationStatus.PENDING, GenerationStatus.STARTING),
    PublicGenerationStatus.RUNNING: (GenerationStatus.PROCESSING,),
    PublicGenerationStatus.SUCCEEDED: (GenerationStatus.SUCCEEDED,),
    PublicGenerationStatus.FAILED: (GenerationStatus.FAILED,),
    PublicGenerationStatus.CANCELED: (GenerationStatus.CANCELED,),
}


@strawberry.input(description="Narrow a list of generations.")
class GenerationFilterInput:
    client_id: strawberry.ID | None = None
    campaign_id: strawberry.ID | None = None
    kind: GenerationKind | None = None
    status: list[PublicGenerationStatus] | None = None

    def to_filter(self) -> GenerationFilter:
        statuses = tuple(s for public in self.status or () for s in _STORED[public])
        return GenerationFilter(
            client_id=expect_global_id(self.client_id, "Client", field="clientId")
            if self.client_id
            else None,
            campaign_id=(
                expect_global_id(self.campaign_id, "Campaign", field="campaignId")
                if self.campaign_id
                else None
            ),
            kind=self.kind,
            statuses=statuses,
        )


async def resolve_generations(
    info: Info,
    *,
    parent: str,
    parent_id: uuid.UUID,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    filter: GenerationFilterInput | None,
    order_by: Order | None,
) -> Connection[GenerationType]:
    return await resolve_connection(
        info,
        model=Generation,
        parent=parent,
        parent_id=parent_id,
        to_node=GenerationType.from_model,
        first=first,
        after=after,
        last=last,
        before=before,
        order_by=order_by,
        list_filter=filter.to_filter() if filter else GenerationFilter(),
    )


def generations_of(parent: str) -> Any:
    """The connection field for a type whose ``pk`` is the ``parent`` column's value."""

    async def field(
        root: Any,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: GenerationFilterInput | None = None,
        order_by: Order | None = None,
    ) -> Connection[GenerationType]:
        return await resolve_generations(
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

    return strawberry.field(
        resolver=field, description="Generations here, newest first by default."
    )
