"""Job steps that touch only our tables: planning scenes, creating the job's generations,
attaching their outputs to scenes, and moving the job between stages."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.engine.deps import current
from app.engine.port import generation_workflow_id
from app.generation.catalog import GenericParams
from app.generation.pricing import estimate
from app.models import Campaign, Client, Generation, Job, Scene
from app.models.enums import (
    GENERATION_STOPPED,
    GenerationKind,
    GenerationStatus,
    SceneStatus,
)
from app.services.jobs import lifecycle, storyboard_llm
from app.services.jobs.brief import Brief
from app.services.jobs.storyboard import Setting, plan

KINDS = {
    "image": GenerationKind.IMAGE,
    "video": GenerationKind.VIDEO,
    "music": GenerationKind.AUDIO,
}


def brief_of(job: Job) -> Brief:
    return Brief(
        job.client_id,
        job.campaign_id,
        job.product,
        job.target_audience,
        job.key_message,
        job.call_to_action,
        job.style,
        job.tone,
        tuple(job.visual_elements),
        job.music_style,
        job.duration_seconds,
        job.aspect_ratio,
        job.resolution,
        job.scene_count,
    )


async def plan_scenes(
    session: AsyncSession, job: Job, feedback: str | None, model_text: str | None = None
) -> bool:
    """Replace the job's scenes with a fresh plan: the text model's if it is valid, else ours.

    Returns whether the text model's plan was used.
    """
    brief, setting = brief_of(job), await setting_of(session, job, feedback)
    from_model = storyboard_llm.parse(model_text, brief, setting) if model_text else None
    await session.execute(sa.delete(Scene).where(col(Scene.job_id) == job.id))
    for scene in from_model or plan(brief, setting):
        session.add(
            Scene(
                job_id=job.id,
                number=scene.number,
                description=scene.description,
                script=scene.script,
                image_prompt=scene.image_prompt,
                duration_seconds=scene.duration,
                shot_type=scene.shot_type,
                transition=scene.transition,
            )
        )
    await session.flush()
    return from_model is not None


async def setting_of(session: AsyncSession, job: Job, feedback: str | None) -> Setting:
    """The brand, campaign brief, feedback and renderable clip lengths a plan is made with."""
    client = await session.get(Client, job.client_id)
    campaign = await session.get(Campaign, job.campaign_id) if job.campaign_id else None
    video = current().catalog.get(job.model_preferences["video"])
    return Setting(
        brand=client.brand_guidelines if client else None,
        campaign=campaign.brief if campaign else None,
        feedback=feedback,
        renderable=video.durations,
    )


async def ensure_plan_generation(
    session: AsyncSession, job: Job, feedback: str | None
) -> uuid.UUID | None:
    """With a hosted provider, a text generation that plans the storyboard (created once)."""
    deps = current()
    if not deps.catalog.offers(deps.provider.name, GenerationKind.TEXT):
        return None  # no text model: the storyboard is planned from the brief alone
    spec = deps.catalog.default_for(deps.provider.name, GenerationKind.TEXT)
    runner = deps.catalog.availability(spec, deps.provider.name)
    key = f"job-{job.id.hex[:16]}-plan-r{job.refinement_count}"
    existing = (
        await session.execute(
            sa.select(Generation).where(
                col(Generation.workspace_id) == job.workspace_id,
                col(Generation.idempotency_key) == key,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing.id
    setting = await setting_of(session, job, feedback)
    params = GenericParams(prompt=storyboard_llm.prompt(brief_of(job), setting))
    generation = Generation(
        workspace_id=job.workspace_id,
        client_id=job.client_id,
        campaign_id=job.campaign_id,
        job_id=job.id,
        created_by_id=job.created_by_id,
        kind=GenerationKind.TEXT,
        model=spec.id,
        provider=runner.provider,
        simulated=runner.simulated,
        input={"params": params.as_dict()},
        idempotency_key=key,
        estimated_cost=estimate(spec, params).amount,
    )
    generation.workflow_id = generation_workflow_id(generation.id)  # a child of the job's
    session.add(generation)
    await session.flush()
    return generation.id


async def ensure_generation(
    session: AsyncSession, job: Job, scene: Scene | None, kind: str, round_: int
) -> uuid.UUID | None:
    """The job's generation for this scene and kind in this round: the finished or running one,
    else a new one (a failed one is replaced, which is what a retry pays for)."""
    base = f"job-{job.id.hex[:16]}-{scene.id.hex[:16] if scene else 'music'}-{kind}-r{round_}"
    rows = list(
        (
            await session.execute(
                sa.select(Generation)
                .where(
                    col(Generation.workspace_id) == job.workspace_id,
                    col(Generation.idempotency_key).like(f"{base}%"),
                )
                .order_by(col(Generation.created_at))
            )
        ).scalars()
    )
    for row in rows:
        if row.status not in GENERATION_STOPPED:
            return row.id
    catalog = current().catalog
    spec = catalog.get(job.model_preferences[kind])
    runner = catalog.availability(spec, current().provider.name)
    params, reference = _params(job, scene, kind)
    generation = Generation(
        workspace_id=job.workspace_id,
        client_id=job.client_id,
        campaign_id=job.campaign_id,
        job_id=job.id,
        scene_id=scene.id if scene else None,
        created_by_id=job.created_by_id,
        kind=KINDS[kind],
        model=spec.id,
        provider=runner.provider,
        simulated=runner.simulated,
        input={
            "params": params.as_dict(),
            **({"reference_asset_id": reference.hex} if reference else {}),
        },
        idempotency_key=f"{base}-a{len(rows)}",
        estimated_cost=estimate(spec, params).amount,
    )
    generation.workflow_id = generation_workflow_id(generation.id)  # a child of the job's
    session.add(generation)
    await session.flush()
    return generation.id


def _params(job: Job, scene: Scene | None, kind: str) -> tuple[GenericParams, uuid.UUID | None]:
    if kind == "image" and scene is not None:
        return GenericParams(prompt=scene.image_prompt, aspect_ratio=job.aspect_ratio.value), None
    if kind == "video" and scene is not None:
        prompt = f"{scene.description} {job.style} style, {scene.shot_type.value} shot"
        return (
            GenericParams(
                prompt=prompt, aspect_ratio=job.aspect_ratio.value, duration=scene.duration_seconds
            ),
            scene.image_asset_id,
        )
    mood = ", ".join(filter(None, [job.music_style or job.style, job.tone and f"{job.tone} mood"]))
    prompt = f"{mood} music for an ad about {job.product}, instrumental"
    return GenericParams(prompt=prompt, duration=float(job.duration_seconds)), None


async def attach(
    session: AsyncSession, job: Job, generation_ids: dict[str, str], kind: str
) -> list[str]:
    """Put finished outputs on their scenes; return the scenes whose generation did not finish."""
    missing = []
    for scene_hex, generation_hex in generation_ids.items():
        scene = await session.get(Scene, uuid.UUID(scene_hex))
        generation = await session.get(Generation, uuid.UUID(generation_hex))
        if scene is None or generation is None:
            continue
        if generation.status is GenerationStatus.SUCCEEDED and generation.output_asset_id:
            if kind == "image":
                scene.image_asset_id, scene.status = (
                    generation.output_asset_id,
                    SceneStatus.IMAGE_READY,
                )
            else:
                scene.video_asset_id, scene.status = (
                    generation.output_asset_id,
                    SceneStatus.VIDEO_READY,
                )
            scene.error_message = None
        else:
            scene.status, scene.error_message = (
                SceneStatus.FAILED,
                (generation.error_message or "failed")[:500],
            )
            missing.append(scene_hex)
    await session.flush()
    return missing


async def locked_job(session: AsyncSession, job_id: str) -> Job | None:
    """The job, locked; None when it has ended (cancelled, failed) and must not move on."""
    job = await session.get(Job, uuid.UUID(job_id), with_for_update=True)
    return job if job is not None and lifecycle.may_move(job) else None
