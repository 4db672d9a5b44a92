"""What happens to a job as it runs: a phase starts, the job moves between stages, fails,
completes or is cancelled. This module is the one home of those rules; the services call it
for what users do, and the engine's steps for what the work does.

A phase's workflow is recorded on the job (its id and arguments) in the same transaction
that changes the job, and started once that commits; a crash in between leaves a row the
recovery sweep starts again with the same id and arguments.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.after_commit import after_commit
from app.engine.port import WorkEngine, job_phase, job_workflow_id
from app.models import Generation, Job, Scene
from app.models.enums import (
    GENERATION_FINAL,
    JOB_FINAL,
    GenerationStatus,
    JobStatus,
    SceneStatus,
)
from app.services import generation_lifecycle
from app.services.jobs.records import job_event, progress

SCENE_WORKING = (SceneStatus.PENDING, SceneStatus.IMAGE_PROCESSING, SceneStatus.VIDEO_PROCESSING)
OVERRUN = Decimal("1.2")  # an actual cost over 120 % of the estimate is announced


def start(session: AsyncSession, engine: WorkEngine, job: Job, phase: str, *args: object) -> None:
    """Record the phase's workflow on the job and start it once this commits."""
    job.workflow_id = job_workflow_id(job.id, phase, job.last_event_seq)
    job.workflow_args = list(args)
    restart(session, engine, job)


def restart(session: AsyncSession, engine: WorkEngine, job: Job) -> None:
    """Start the job's recorded workflow (again): a start that already happened is kept."""
    workflow, args = job.workflow_id, workflow_args(job)
    if workflow is None or args is None:
        return
    job_id, workspace_id, phase = job.id, job.workspace_id, job_phase(workflow)
    after_commit(session, lambda: engine.start_job(job_id, workspace_id, phase, workflow, *args))


def workflow_args(job: Job) -> list[Any] | None:
    """The arguments of the job's recorded workflow; None when they are unknown."""
    if job.workflow_args or job_phase(job.workflow_id or "") == "render":
        return list(job.workflow_args)
    if job_phase(job.workflow_id or "") == "storyboard":  # recorded before arguments were
        return [job.feedback or ""]
    return None


def may_move(job: Job) -> bool:
    """A job that was cancelled or failed is left where it is; a completed one may refresh."""
    return job.status not in JOB_FINAL or job.status is JobStatus.COMPLETED


async def move(
    session: AsyncSession,
    job: Job,
    status: JobStatus,
    stage: str,
    message: str,
    event: str,
    payload: dict[str, Any] | None = None,
    **step: Any,
) -> None:
    job.status = status
    progress(job, stage, message, **step)
    await job_event(session, job, event, payload)


PART_NAMES = {"image": "scene image", "video": "scene clip", "music": "music"}


async def part_finished(
    session: AsyncSession,
    job: Job,
    kind: str,
    key: str,
    status: GenerationStatus,
    step: int | None,
) -> None:
    """One part of the job (a scene's image or clip, the music) ended: one event, and the
    job's progress moved to ``step`` (kept where it is when None)."""
    done = status is GenerationStatus.SUCCEEDED
    name = PART_NAMES.get(kind, kind)
    stage = (job.progress or {}).get("stage", kind)
    message = f"{name.capitalize()} {'ready' if done else 'could not be made'}."
    progress(job, stage, message, step=step)
    payload = {"part": kind, "sceneId": None if key == "music" else key, "ok": done}
    await job_event(session, job, "job.part_finished", payload)


async def fail(session: AsyncSession, job: Job, code: str, message: str) -> None:
    job.error_code, job.error_message = code, message[:2000]
    await _stop_scenes(session, job.id)
    await move(session, job, JobStatus.FAILED, "failed", message, "job.failed", {"error": message})


async def complete(
    session: AsyncSession, job: Job, asset_id: uuid.UUID, actual_cost: Decimal, now: datetime
) -> None:
    job.final_video_asset_id, job.actual_cost, job.completed_at = asset_id, actual_cost, now
    await move(
        session,
        job,
        JobStatus.COMPLETED,
        "completed",
        "The ad is ready.",
        "job.completed",
        {"assetId": asset_id.hex, "actualCost": str(actual_cost)},
        step=(job.progress or {}).get("totalSteps"),
        percent=100.0,
    )
    estimate = job.estimated_cost or Decimal(0)
    if estimate and actual_cost > estimate * OVERRUN:
        payload = {"estimate": str(estimate), "actual": str(actual_cost)}
        await job_event(session, job, "job.cost_overrun", payload)


async def cancel(session: AsyncSession, job: Job, engine: WorkEngine | None, now: datetime) -> bool:
    """Cancel the job and its unfinished generations; once this commits, the workflow and
    the generations' predictions are stopped. False if the job had already ended."""
    if job.status in JOB_FINAL:
        return False
    job.status = JobStatus.CANCELLED
    progress(job, "cancelled", "Cancelled.")
    for row in await _unfinished_generations(session, job.id):
        await generation_lifecycle.cancelled(session, row, "Job cancelled.", now)
    await _stop_scenes(session, job.id)
    await job_event(session, job, "job.cancelled")
    workflow, job_id = job.workflow_id, job.id
    if engine is not None and workflow:
        after_commit(session, lambda: engine.cancel_job(job_id, workflow))
    return True


async def _stop_scenes(session: AsyncSession, job_id: uuid.UUID) -> None:
    """Scenes still being drawn or rendered when the job stopped are CANCELLED."""
    await session.execute(
        sa.update(Scene)
        .where(col(Scene.job_id) == job_id, col(Scene.status).in_(SCENE_WORKING))
        .values(status=SceneStatus.CANCELLED)
        .execution_options(synchronize_session="fetch")
    )


async def _unfinished_generations(session: AsyncSession, job_id: uuid.UUID) -> Sequence[Generation]:
    statement = (
        sa.select(Generation)
        .where(col(Generation.job_id) == job_id, col(Generation.status).not_in(GENERATION_FINAL))
        .order_by(col(Generation.id))
        .with_for_update()
    )
    return (await session.execute(statement)).scalars().all()
