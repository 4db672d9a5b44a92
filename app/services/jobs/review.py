"""Reviewing a storyboard: edit, reorder, regenerate a scene, or reject it with feedback."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.engine.port import WorkEngine
from app.errors import BadUserInputError, ConflictError, NotFoundError
from app.generation.catalog import Catalog, GenericParams
from app.generation.pricing import estimate
from app.models import Job, Scene
from app.models.enums import JobStatus, Role, SceneStatus, Transition
from app.services import budgets
from app.services.access import get_visible
from app.services.jobs import lifecycle
from app.services.jobs.records import job_event, progress
from app.services.jobs.service import MAX_REFINEMENTS, scenes_of
from app.services.validation import FieldErrors, require_changes

MIN_SCENE_SECONDS = 1.0


async def _job_in_review(session: AsyncSession, actor: Actor, job_id: uuid.UUID) -> Job:
    job = await get_visible(session, actor, Job, job_id, what="Job", for_update=True)
    actor.require(job.workspace_id, Role.EDITOR)
    if job.status is not JobStatus.STORYBOARD_READY:
        raise ConflictError(
            f"The storyboard can only be changed while it is in review (now {job.status.name})."
        )
    return job


async def _scene(session: AsyncSession, actor: Actor, scene_id: uuid.UUID) -> tuple[Scene, Job]:
    scene = await session.get(Scene, scene_id)
    job = (
        await session.get(Job, scene.job_id, with_for_update=True, populate_existing=True)
        if scene
        else None
    )
    if scene is None or job is None or job.workspace_id not in actor.workspace_ids:
        raise NotFoundError("Scene not found.")
    return scene, job


async def update_scene(
    session: AsyncSession, actor: Actor, *, scene_id: uuid.UUID, changes: Mapping[str, Any]
) -> Scene:
    scene, job = await _scene(session, actor, scene_id)
    await _job_in_review(session, actor, job.id)
    require_changes(dict(changes))
    with FieldErrors() as errors:
        if "description" in changes:
            scene.description = (
                errors.text("description", changes["description"], min_length=1, max_length=1000)
                or ""
            )
        if "image_prompt" in changes:
            scene.image_prompt = (
                errors.text("imagePrompt", changes["image_prompt"], min_length=1, max_length=2000)
                or ""
            )
    if "duration" in changes:
        await _retime(session, job, scene, float(changes["duration"] or 0))
    await job_event(session, job, "job.scene_updated", {"sceneId": scene.id.hex})
    await session.flush()
    return scene


async def _retime(session: AsyncSession, job: Job, scene: Scene, duration: float) -> None:
    """Give the scene its new length and spread the difference over the others (total unchanged)."""
    others = [s for s in await scenes_of(session, job.id) if s.id != scene.id]
    rest = job.duration_seconds - duration
    if duration < MIN_SCENE_SECONDS or rest < MIN_SCENE_SECONDS * len(others):
        raise BadUserInputError(
            "That duration leaves too little for the other scenes.",
            fields={"duration": f"must leave at least {MIN_SCENE_SECONDS:g} s per scene"},
        )
    current = sum(s.duration_seconds for s in others)
    for other in others:
        other.duration_seconds = round(other.duration_seconds * rest / current, 2)
    drift = round(rest - sum(s.duration_seconds for s in others), 2)
    others[-1].duration_seconds = round(others[-1].duration_seconds + drift, 2)
    scene.duration_seconds = duration


async def reorder_scenes(
    session: AsyncSession, actor: Actor, *, job_id: uuid.UUID, scene_ids: list[uuid.UUID]
) -> list[Scene]:
    job = await _job_in_review(session, actor, job_id)
    scenes = {s.id: s for s in await scenes_of(session, job.id)}
    if sorted(scenes) != sorted(scene_ids):
        raise BadUserInputError(
            "Give every scene of the job exactly once.",
            fields={"sceneIds": "must list each scene once"},
        )
    for offset, scene in enumerate(scenes.values()):  # step aside first: numbers are unique
        scene.number = 1000 + offset
    await session.flush()
    ordered = [scenes[i] for i in scene_ids]
    for index, scene in enumerate(ordered):
        scene.number = index + 1
        if index == 0:
            scene.transition = Transition.FADE
    await job_event(session, job, "job.scenes_reordered")
    await session.flush()
    return ordered


async def regenerate_scene(
    session: AsyncSession,
    actor: Actor,
    engine: WorkEngine,
    catalog: Catalog,
    *,
    scene_id: uuid.UUID,
    prompt: str | None,
) -> tuple[Scene, Job]:
    """A new image for the scene (and, on a finished job, a new clip and a recomposed video)."""
    scene, job = await _scene(session, actor, scene_id)
    actor.require(job.workspace_id, Role.EDITOR)
    recompose = job.status is JobStatus.COMPLETED
    if job.status not in (JobStatus.STORYBOARD_READY, JobStatus.COMPLETED):
        raise ConflictError(
            f"A scene can be regenerated in review or once the job is done (now {job.status.name})."
        )
    _refine(job)
    extra = [("video", scene.duration_seconds)] if recompose else []
    await budgets.check(session, job.campaign_id, _cost(catalog, job, [("image", None), *extra]))
    if prompt:
        scene.image_prompt = prompt.strip()[:2000]
    scene.status = SceneStatus.IMAGE_PROCESSING
    job.approved = False
    job.status = JobStatus.VIDEO_PROCESSING if recompose else JobStatus.STORYBOARD_PROCESSING
    progress(job, "scene", f"Regenerating scene {scene.number}.")
    await job_event(session, job, "job.scene_regenerating", {"sceneId": scene.id.hex})
    lifecycle.start(session, engine, job, "scene", scene.id.hex, recompose)
    await session.flush()
    return scene, job


async def reject_storyboard(
    session: AsyncSession,
    actor: Actor,
    engine: WorkEngine,
    catalog: Catalog,
    *,
    job_id: uuid.UUID,
    feedback: str,
) -> Job:
    job = await _job_in_review(session, actor, job_id)
    with FieldErrors() as errors:
        feedback = errors.text("feedback", feedback, min_length=1, max_length=2000) or ""
    _refine(job)
    images = [("image", None)] * len(await scenes_of(session, job.id))
    await budgets.check(session, job.campaign_id, _cost(catalog, job, images))
    job.feedback, job.approved, job.status = feedback, False, JobStatus.STORYBOARD_PROCESSING
    progress(job, "storyboard", "Re-planning with your feedback.")
    await job_event(session, job, "job.storyboard_rejected", {"feedback": feedback})
    lifecycle.start(session, engine, job, "storyboard", feedback)
    await session.flush()
    return job


def _cost(catalog: Catalog, job: Job, parts: Sequence[tuple[str, float | None]]) -> Decimal:
    """What a refinement renders again, priced with the job's models: (kind, seconds)."""
    total = Decimal(0)
    for kind, seconds in parts:
        spec = catalog.get(job.model_preferences[kind])
        params = GenericParams(aspect_ratio=job.aspect_ratio.value, duration=seconds)
        total += estimate(spec, params).amount
    return total


def _refine(job: Job) -> None:
    if job.refinement_count >= MAX_REFINEMENTS:
        raise ConflictError(f"A job takes at most {MAX_REFINEMENTS} refinements.")
    job.refinement_count += 1
