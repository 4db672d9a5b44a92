"""Ad-video jobs: create (or price), review, approve, cancel, retry."""

from __future__ import annotations

import uuid

import strawberry

from app.engine.port import WorkEngine
from app.errors import BadUserInputError, ServiceUnavailableError
from app.generation.catalog import load_catalog
from app.ids import expect_global_id
from app.models import Job
from app.models.enums import AspectRatio
from app.schema.changes import given
from app.schema.context import Context, Info
from app.schema.extensions import mutation
from app.schema.types.job import CostEstimate, JobType, SceneType
from app.services.jobs import review, service
from app.services.jobs.brief import Brief


@strawberry.input
class JobContextInput:
    client_id: strawberry.ID
    campaign_id: strawberry.ID | None = None


@strawberry.input
class AdBasicsInput:
    product: str
    target_audience: str
    key_message: str
    call_to_action: str


@strawberry.input
class CreativeDirectionInput:
    style: str
    tone: str | None = None
    visual_elements: list[str] = strawberry.field(default_factory=list)
    music_style: str | None = None


@strawberry.input
class VideoSpecsInput:
    duration: int = 30
    aspect_ratio: str = "16:9"
    resolution: str = "720p"


@strawberry.input
class CreativeInput:
    direction: CreativeDirectionInput
    video_specs: VideoSpecsInput | None = None


@strawberry.input
class ModelPreferencesInput:
    image: str | None = None
    video: str | None = None
    music: str | None = None


@strawberry.input
class AdvancedInput:
    model_preferences: ModelPreferencesInput | None = None
    scene_count: int | None = None


@strawberry.input(description="The brief of an ad-video job.")
class CreateJobInput:
    context: JobContextInput
    ad_basics: AdBasicsInput
    creative: CreativeInput
    advanced: AdvancedInput | None = None
    idempotency_key: str | None = None


@strawberry.type
class CreateJobPayload:
    job: JobType
    estimate: CostEstimate


@strawberry.type
class JobPayload:
    job: JobType


@strawberry.type
class ScenePayload:
    scene: SceneType
    job: JobType


@strawberry.input
class UpdateSceneInput:
    scene_id: strawberry.ID
    description: str | None = strawberry.UNSET
    image_prompt: str | None = strawberry.UNSET
    duration: float | None = strawberry.UNSET


def to_brief(data: CreateJobInput) -> Brief:
    specs = data.creative.video_specs or VideoSpecsInput()
    try:
        aspect = AspectRatio(specs.aspect_ratio)
    except ValueError:
        raise BadUserInputError(
            "Unknown aspect ratio.", fields={"aspectRatio": "must be 16:9, 9:16 or 1:1"}
        ) from None
    prefs = (data.advanced.model_preferences if data.advanced else None) or ModelPreferencesInput()
    models = {
        k: v
        for k, v in {"image": prefs.image, "video": prefs.video, "music": prefs.music}.items()
        if v
    }
    direction = data.creative.direction
    return Brief(
        client_id=expect_global_id(data.context.client_id, "Client", field="clientId"),
        campaign_id=(
            expect_global_id(data.context.campaign_id, "Campaign", field="campaignId")
            if data.context.campaign_id
            else None
        ),
        product=data.ad_basics.product,
        target_audience=data.ad_basics.target_audience,
        key_message=data.ad_basics.key_message,
        call_to_action=data.ad_basics.call_to_action,
        style=direction.style,
        tone=direction.tone,
        visual_elements=tuple(direction.visual_elements),
        music_style=direction.music_style,
        duration=specs.duration,
        aspect_ratio=aspect,
        resolution=specs.resolution,
        scene_count=data.advanced.scene_count if data.advanced else None,
        models=models,
    ).check()


def _engine(ctx: Context) -> WorkEngine:
    if ctx.runtime.work is None:
        raise ServiceUnavailableError("Jobs are not available on this server.")
    return ctx.runtime.work


def _job_id(value: strawberry.ID) -> uuid.UUID:
    return expect_global_id(value, "Job", field="jobId")


@strawberry.type
class JobQuery:
    @strawberry.field(description="Price a job without creating it (the same input as createJob).")
    async def estimate_job_cost(self, info: Info, input: CreateJobInput) -> CostEstimate:
        ctx = info.context
        engine = ctx.runtime.work
        provider = engine.provider_name if engine is not None else "local"
        priced = await service.estimate(
            ctx.session, ctx.actor, load_catalog(), provider, to_brief(input), ctx.now()
        )
        return CostEstimate.from_estimate(priced)


@strawberry.type
class JobMutation:
    @mutation(description="Create an ad-video job from a brief (EDITOR); rate-limited per user.")
    async def create_job(self, info: Info, input: CreateJobInput) -> CreateJobPayload | None:
        ctx = info.context
        engine = _engine(ctx)
        brief = to_brief(input)
        limit = ctx.settings.job_rate_limit
        created = await service.create_job(
            ctx.session,
            ctx.actor,
            load_catalog(),
            engine,
            brief,
            idempotency_key=(input.idempotency_key or None),
            now=ctx.now(),
            admit=lambda: ctx.runtime.limiter.hit("create-job", ctx.actor.user_id, limit),
        )
        return CreateJobPayload(
            job=JobType.from_model(created.job),
            estimate=CostEstimate.from_estimate(created.estimate),
        )

    @mutation(description="Approve a STORYBOARD_READY storyboard; rendering starts.")
    async def approve_storyboard(self, info: Info, job_id: strawberry.ID) -> JobPayload | None:
        ctx = info.context
        job = await service.approve(
            ctx.session, ctx.actor, _engine(ctx), job_id=_job_id(job_id), now=ctx.now()
        )
        return JobPayload(job=JobType.from_model(job))

    @mutation(description="Reject the storyboard with feedback; it is planned again.")
    async def reject_storyboard(
        self, info: Info, job_id: strawberry.ID, feedback: str
    ) -> JobPayload | None:
        ctx = info.context
        job = await review.reject_storyboard(
            ctx.session,
            ctx.actor,
            _engine(ctx),
            load_catalog(),
            job_id=_job_id(job_id),
            feedback=feedback,
        )
        return JobPayload(job=JobType.from_model(job))

    @mutation(description="Change a scene's description, image prompt or duration (in review).")
    async def update_scene(self, info: Info, input: UpdateSceneInput) -> ScenePayload | None:
        ctx = info.context
        scene = await review.update_scene(
            ctx.session,
            ctx.actor,
            scene_id=expect_global_id(input.scene_id, "Scene", field="sceneId"),
            changes=given(input, "description", "image_prompt", "duration"),
        )
        job = await ctx.session.get(Job, scene.job_id)
        assert job is not None
        return ScenePayload(scene=SceneType.from_model(scene), job=JobType.from_model(job))

    @mutation(description="Put the scenes in a new order (in review).")
    async def reorder_scenes(
        self, info: Info, job_id: strawberry.ID, scene_ids: list[strawberry.ID]
    ) -> JobPayload | None:
        ctx = info.context
        ids = [expect_global_id(s, "Scene", field="sceneIds") for s in scene_ids]
        await review.reorder_scenes(ctx.session, ctx.actor, job_id=_job_id(job_id), scene_ids=ids)
        job = await ctx.session.get(Job, _job_id(job_id))
        assert job is not None
        return JobPayload(job=JobType.from_model(job))

    @mutation(description="A new image for a scene; on a COMPLETED job also a new clip and video.")
    async def regenerate_scene(
        self, info: Info, scene_id: strawberry.ID, prompt: str | None = None
    ) -> ScenePayload | None:
        ctx = info.context
        scene, job = await review.regenerate_scene(
            ctx.session,
            ctx.actor,
            _engine(ctx),
            load_catalog(),
            scene_id=expect_global_id(scene_id, "Scene", field="sceneId"),
            prompt=prompt,
        )
        return ScenePayload(scene=SceneType.from_model(scene), job=JobType.from_model(job))

    @mutation(description="Cancel a job: its running steps and upstream predictions stop.")
    async def cancel_job(self, info: Info, job_id: strawberry.ID) -> JobPayload | None:
        ctx = info.context
        job = await service.cancel(
            ctx.session, ctx.actor, ctx.runtime.work, job_id=_job_id(job_id), now=ctx.now()
        )
        return JobPayload(job=JobType.from_model(job))

    @mutation(
        description="Resume a FAILED job from its first unfinished step (finished ones are kept)."
    )
    async def retry_job(self, info: Info, job_id: strawberry.ID) -> JobPayload | None:
        ctx = info.context
        job = await service.retry(ctx.session, ctx.actor, _engine(ctx), job_id=_job_id(job_id))
        return JobPayload(job=JobType.from_model(job))
