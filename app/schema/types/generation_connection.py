"""The ``generations`` connection, the same on workspaces, clients and campaigns."""

from __future__ import annotations

from typing import Any

import strawberry

from app.errors import BadUserInputError
from app.ids import expect_global_id
from app.models import Generation
from app.models.enums import GenerationKind, GenerationStatus
from app.schema.connections import connection_field
from app.schema.types.generation import GenerationType, PublicGenerationStatus
from app.services.listing import GenerationFilter

MAX_MODEL_ID = 120  # the stored column's width

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
    model: str | None = strawberry.field(
        default=None,
        description="Only generations of this model: its exact ID, as `models` lists it.",
    )

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
            model=_model_id(self.model),
        )


def _model_id(value: str | None) -> str | None:
    if value is not None and not 0 < len(value) <= MAX_MODEL_ID:
        raise BadUserInputError(
            "Not a model ID.", fields={"model": f"must be 1 to {MAX_MODEL_ID} characters"}
        )
    return value


def generations_of(parent: str) -> Any:
    return connection_field(
        model=Generation,
        node=GenerationType,
        to_node=GenerationType.from_model,
        parent=parent,
        filter_input=GenerationFilterInput,
        empty_filter=GenerationFilter(),
        description="Generations here, newest first by default.",
    )
