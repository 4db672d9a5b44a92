"""The ``Generation`` type and the model catalog as seen by clients."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON

from app.generation.catalog import Availability, ModelSpec
from app.ids import encode_global_id
from app.models import Generation
from app.models.enums import BillingBasis, GenerationKind, GenerationStatus
from app.schema.context import Info
from app.schema.types.asset import AssetType, asset_from_model
from app.schema.types.common import Money, Node, money, optional
from app.schema.types.job import JobType, SceneType

if TYPE_CHECKING:
    from app.schema.types.campaign import CampaignType
    from app.schema.types.client import ClientType

ClientRef = Annotated["ClientType", strawberry.lazy("app.schema.types.client")]
CampaignRef = Annotated["CampaignType", strawberry.lazy("app.schema.types.campaign")]


@strawberry.enum(name="GenerationStatus", description="QUEUED → RUNNING → a final state.")
class PublicGenerationStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


_STATUS = {
    GenerationStatus.PENDING: PublicGenerationStatus.QUEUED,
    GenerationStatus.STARTING: PublicGenerationStatus.QUEUED,
    GenerationStatus.PROCESSING: PublicGenerationStatus.RUNNING,
    GenerationStatus.SUCCEEDED: PublicGenerationStatus.SUCCEEDED,
    GenerationStatus.FAILED: PublicGenerationStatus.FAILED,
    GenerationStatus.CANCELED: PublicGenerationStatus.CANCELED,
}
strawberry.enum(GenerationKind, name="GenerationKind")
strawberry.enum(BillingBasis, name="BillingBasis")


@strawberry.type(name="Generation", description="One image, video or audio generation.")
class GenerationType(Node):
    id: strawberry.ID
    kind: GenerationKind
    status: PublicGenerationStatus
    model: str
    provider: str = strawberry.field(description="The provider that runs it.")
    simulated: bool = strawberry.field(
        description="Run offline by the local provider in place of the model's own provider:"
        " real media, priced as the model, but nobody is charged."
    )
    input: JSON = strawberry.field(description="What was asked, in adstudio's parameter names.")
    prediction_id: str | None
    error_code: str | None
    error_message: str | None
    estimated_cost: Money | None
    cost: Money | None = strawberry.field(description="The actual cost, once known.")
    created_at: datetime
    submitted_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    predict_time: float | None = strawberry.field(description="Seconds the provider computed.")
    row: strawberry.Private[Generation]

    @classmethod
    def from_model(cls, row: Generation) -> GenerationType:
        return cls(
            id=strawberry.ID(encode_global_id("Generation", row.id)),
            kind=row.kind,
            status=_STATUS[row.status],
            model=row.model,
            provider=row.provider,
            simulated=row.simulated,
            input=cast(JSON, _public_input(row.input)),
            prediction_id=row.provider_prediction_id,
            error_code=row.error_code,
            error_message=row.error_message,
            estimated_cost=money(row.estimated_cost, row.currency),
            cost=money(row.cost, row.currency),
            created_at=row.created_at,
            submitted_at=row.submitted_at,
            started_at=row.started_at,
            completed_at=row.completed_at,
            predict_time=row.predict_time_seconds,
            row=row,
        )

    @strawberry.field(description="The asset the generation produced.")
    async def output_asset(self, info: Info) -> AssetType | None:
        return await optional(
            info.context.loaders.asset, self.row.output_asset_id, asset_from_model
        )

    @strawberry.field(description="The client it was made for; null if none (or deleted since).")
    async def client(self, info: Info) -> ClientRef | None:
        from app.schema.types.client import ClientType

        return await optional(
            info.context.loaders.client, self.row.client_id, ClientType.from_model
        )

    @strawberry.field(description="The campaign it was made for; null if none (or deleted since).")
    async def campaign(self, info: Info) -> CampaignRef | None:
        from app.schema.types.campaign import CampaignType

        loader = info.context.loaders.campaign
        return await optional(loader, self.row.campaign_id, CampaignType.from_model)

    @strawberry.field(description="The ad-video job it was made for; null outside a job.")
    async def job(self, info: Info) -> JobType | None:
        return await optional(info.context.loaders.job, self.row.job_id, JobType.from_model)

    @strawberry.field(description="The job's scene it drew (an image or clip); null otherwise.")
    async def scene(self, info: Info) -> SceneType | None:
        return await optional(info.context.loaders.scene, self.row.scene_id, SceneType.from_model)

    @strawberry.field(
        description="The image generation chained first, for a video without a start image."
    )
    async def start_image_generation(self, info: Info) -> GenerationType | None:
        child = self.row.input.get("child_generation_id")
        if not child:
            return None
        row = await info.context.loaders.generation.load(uuid.UUID(hex=child))
        return GenerationType.from_model(row) if row is not None else None


def _public_input(stored: dict[str, Any]) -> dict[str, Any]:
    public = dict(stored.get("params", {}))
    if stored.get("reference_asset_id"):
        public["referenceAssetId"] = encode_global_id(
            "Asset", uuid.UUID(stored["reference_asset_id"])
        )
    return public


@strawberry.type(name="ModelPrice")
class ModelPriceType:
    basis: BillingBasis
    amount: Money = strawberry.field(description="Per unit; for GPU billing, per GPU second.")
    unit: str
    hardware: str | None
    estimated_run_seconds: float | None


@strawberry.type(name="Model", description="A generation model in the catalog.")
class ModelType:
    id: str
    provider: str
    kind: GenerationKind
    price: ModelPriceType
    parameters: list[str] = strawberry.field(description="The adstudio parameters it accepts.")
    aspect_ratios: list[str]
    durations: list[int]
    max_duration: int | None
    requires_reference: bool
    price_checked_at: str
    available: bool = strawberry.field(
        description="Whether generations can use it right now, with the active provider."
    )
    simulated: bool = strawberry.field(
        description="Whether the active provider would only simulate it (offline: real media"
        " at the model's price, charging nobody)."
    )

    @classmethod
    def from_spec(cls, spec: ModelSpec, availability: Availability) -> ModelType:
        gpu = spec.billing is BillingBasis.PER_GPU_SECOND
        unit_price = spec.hardware_rate if gpu and spec.hardware_rate is not None else spec.price
        units = {
            BillingBasis.PER_IMAGE: "image",
            BillingBasis.PER_OUTPUT_SECOND: "second of output",
            BillingBasis.PER_VIDEO: "video",
            BillingBasis.PER_GPU_SECOND: "GPU second",
            BillingBasis.PER_RUN: "run",
        }
        return cls(
            id=spec.id,
            provider=spec.provider,
            kind=spec.kind,
            price=ModelPriceType(
                basis=spec.billing,
                amount=Money(amount=unit_price, currency="USD"),
                unit=units[spec.billing],
                hardware=spec.hardware,
                estimated_run_seconds=float(spec.expected_seconds)
                if spec.expected_seconds
                else None,
            ),
            parameters=sorted(spec.params),
            aspect_ratios=list(spec.aspect_ratios),
            durations=list(spec.durations),
            max_duration=spec.max_duration,
            requires_reference=spec.requires_reference,
            price_checked_at=spec.checked_at,
            available=availability.available,
            simulated=availability.simulated,
        )
