"""``Job`` (the ad-video job), its ``Scene``s and the cost estimate."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from app.ids import encode_global_id
from app.models import Job, Scene
from app.models.enums import JobStatus, SceneStatus, ShotType, Transition
from app.schema.context import Info
from app.schema.types.asset import AssetType, asset_from_model
from app.schema.types.common import Money, Node, money
from app.services.jobs.estimate import JobEstimate

strawberry.enum(JobStatus, name="JobStatus")
strawberry.enum(SceneStatus, name="SceneStatus")
strawberry.enum(ShotType, name="ShotType")
strawberry.enum(Transition, name="Transition")


@strawberry.type
class JobProgress:
    stage: str
    percent: float
    message: str | None
    current_step: int
    total_steps: int


@strawberry.type
class VideoSpecs:
    duration: int
    aspect_ratio: str
    resolution: str


@strawberry.type
class CostLine:
    stage: str
    model: str
    quantity: float
    unit: str
    unit_price: Money
    cost: Money
    simulated: bool = strawberry.field(
        description="Priced as the real model, but run offline by the local provider:"
        " nobody is charged."
    )


@strawberry.type(description="What a job will cost (a dry run; nothing is stored).")
class CostEstimate:
    total: Money
    currency: str
    breakdown: list[CostLine]
    assumptions: list[str]
    valid_until: datetime
    simulated: bool = strawberry.field(description="Whether any line of it is simulated.")

    @classmethod
    def from_estimate(cls, estimate: JobEstimate) -> CostEstimate:
        return cls(
            total=Money(amount=estimate.total, currency=estimate.currency),
            currency=estimate.currency,
            breakdown=[
                CostLine(
                    stage=line.stage,
                    model=line.model,
                    quantity=float(line.quantity),
                    unit=line.unit,
                    unit_price=Money(amount=line.unit_price, currency="USD"),
                    cost=Money(amount=line.cost, currency="USD"),
                    simulated=line.simulated,
                )
                for line in estimate.lines
            ],
            assumptions=estimate.assumptions,
            valid_until=estimate.valid_until,
            simulated=estimate.simulated,
        )


async def _asset(info: Info, asset_id: uuid.UUID | None) -> AssetType | None:
    if asset_id is None:
        return None
    row = await info.context.loaders.asset.load(asset_id)
    return asset_from_model(row) if row is not None else None


@strawberry.type(name="Scene", description="One scene of a job's storyboard.")
class SceneType(Node):
    id: strawberry.ID
    number: int
    description: str
    script: str | None
    image_prompt: str
    duration: float
    shot_type: ShotType
    transition: Transition
    status: SceneStatus
    error_message: str | None
    row: strawberry.Private[Scene]

    @classmethod
    def from_model(cls, row: Scene) -> SceneType:
        return cls(
            id=strawberry.ID(encode_global_id("Scene", row.id)),
            number=row.number,
            description=row.description,
            script=row.script,
            image_prompt=row.image_prompt,
            duration=row.duration_seconds,
            shot_type=row.shot_type,
            transition=row.transition,
            status=row.status,
            error_message=row.error_message,
            row=row,
        )

    @strawberry.field
    async def image(self, info: Info) -> AssetType | None:
        return await _asset(info, self.row.image_asset_id)

    @strawberry.field
    async def video(self, info: Info) -> AssetType | None:
        return await _asset(info, self.row.video_asset_id)


@strawberry.type(name="Job", description="An ad-video job: brief, storyboard, review, render.")
class JobType(Node):
    id: strawberry.ID
    status: JobStatus
    progress: JobProgress
    product: str
    target_audience: str
    key_message: str
    call_to_action: str
    style: str
    tone: str | None
    visual_elements: list[str]
    music_style: str | None
    video_specs: VideoSpecs
    approved: bool
    approved_at: datetime | None
    refinement_count: int
    feedback: str | None
    estimated_cost: Money | None
    error_code: str | None
    error_message: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    row: strawberry.Private[Job]

    @classmethod
    def from_model(cls, row: Job) -> JobType:
        p = row.progress or {}
        return cls(
            id=strawberry.ID(encode_global_id("Job", row.id)),
            status=row.status,
            progress=JobProgress(
                stage=p.get("stage", "queued"),
                percent=float(p.get("percent", 0)),
                message=p.get("message"),
                current_step=int(p.get("currentStep", 0)),
                total_steps=int(p.get("totalSteps", 0)),
            ),
            product=row.product,
            target_audience=row.target_audience,
            key_message=row.key_message,
            call_to_action=row.call_to_action,
            style=row.style,
            tone=row.tone,
            visual_elements=list(row.visual_elements),
            music_style=row.music_style,
            video_specs=VideoSpecs(
                duration=row.duration_seconds,
                aspect_ratio=row.aspect_ratio.value,
                resolution=row.resolution,
            ),
            approved=row.approved,
            approved_at=row.approved_at,
            refinement_count=row.refinement_count,
            feedback=row.feedback,
            estimated_cost=money(row.estimated_cost, row.currency),
            error_code=row.error_code,
            error_message=row.error_message,
            created_at=row.created_at,
            updated_at=row.updated_at,
            completed_at=row.completed_at,
            row=row,
        )

    @strawberry.field(
        description="What the job's generations were charged so far, whatever its state "
        "(a cancelled or failed job shows what it spent)."
    )
    async def actual_cost(self, info: Info) -> Money:
        spent = await info.context.loaders.job_spend.load(self.row.id)
        return Money(amount=spent, currency=self.row.currency)

    @strawberry.field(description="The storyboard, in order.")
    async def scenes(self, info: Info) -> list[SceneType]:
        rows = await info.context.loaders.job_scenes.load(self.row.id)
        return [SceneType.from_model(row) for row in rows]

    @strawberry.field(description="The composed MP4, once the job is COMPLETED.")
    async def final_video(self, info: Info) -> AssetType | None:
        return await _asset(info, self.row.final_video_asset_id)

    @strawberry.field
    async def music(self, info: Info) -> AssetType | None:
        return await _asset(info, self.row.music_asset_id)
