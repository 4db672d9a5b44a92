"""Job rules: creating (priced, budgeted, idempotent), approving, cancelling, retrying."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor
from app.engine.port import WorkEngine
from app.errors import BadUserInputError, ConflictError
from app.generation.catalog import Catalog
from app.generation.pricing import Charge
from app.models import Campaign, Client, Job, Scene
from app.models.enums import (
    BillingBasis,
    CampaignStatus,
    JobStatus,
    Role,
)
from app.services import budgets, ledger
from app.services.access import get_visible
from app.services.admission import Admit, admit_all
from app.services.jobs import lifecycle
from app.services.jobs.brief import Brief
from app.services.jobs.estimate import JobEstimate, estimate_job, job_models
from app.services.jobs.records import job_event, progress
from app.services.ledger import Owner, book_estimate

MAX_REFINEMENTS = 5


@dataclass(frozen=True, slots=True)
class Created:
    job: Job
    estimate: JobEstimate
    new: bool


async def estimate(
    session: AsyncSession,
    actor: Actor,
    catalog: Catalog,
    provider: str,
    brief: Brief,
    now: datetime,
) -> JobEstimate:
    """What the job would cost, for a client (and campaign) the caller can see."""
    client = await get_visible(session, actor, Client, brief.client_id, what="Client")
    await _campaign(session, actor, brief, client)
    return estimate_job(brief.check(), catalog, provider, now)


async def create_job(
    session: AsyncSession,
    actor: Actor,
    catalog: Catalog,
    engine: WorkEngine,
    brief: Brief,
    *,
    idempotency_key: str | None,
    now: datetime,
    admit: Admit = admit_all,
) -> Created:
    """A new job, budgeted and started once this commits. A repeated idempotency key returns
    the job it made (started if a crash kept it from starting) without calling ``admit``;
    with a different brief it is CONFLICT."""
    client = await get_visible(session, actor, Client, brief.client_id, what="Client")
    actor.require(client.workspace_id, Role.EDITOR)
    campaign = await _campaign(session, actor, brief, client)
    provider = engine.provider_name
    estimate = estimate_job(brief.check(), catalog, provider, now)
    job = _new_job(actor, client, campaign, brief, catalog, provider, estimate, idempotency_key)
    existing = await _by_key(session, client.workspace_id, idempotency_key)
    if existing is not None:
        if not same_request(existing, job):
            raise ConflictError(
                "This idempotencyKey was used for a different brief.",
                fields={"idempotencyKey": "was used with another brief"},
            )
        if existing.status is JobStatus.PENDING:
            lifecycle.restart(session, engine, existing)  # a crash kept it from starting
        return Created(existing, estimate, False)
    await admit()
    await budgets.check(session, job.campaign_id, estimate.total)
    session.add(job)
    await session.flush()
    for line in estimate.lines:
        charge = Charge(_basis(catalog, line.model), line.quantity, line.unit_price, line.cost)
        book_estimate(
            session,
            Owner.of_job(job),
            charge,
            stage=line.stage,
            model=line.model,
            simulated=line.simulated,
        )
    progress(
        job, "queued", "Waiting for the storyboard to start.", step=0, steps=brief.scenes * 2 + 3
    )
    await job_event(session, job, "job.created", {"estimate": str(estimate.total)})
    lifecycle.start(session, engine, job, "storyboard", "")
    await session.flush()
    return Created(job, estimate, True)


def _basis(catalog: Catalog, model_id: str) -> BillingBasis:
    return catalog.get(model_id).billing


def _new_job(
    actor: Actor,
    client: Client,
    campaign: Campaign | None,
    brief: Brief,
    catalog: Catalog,
    provider: str,
    estimate: JobEstimate,
    key: str | None,
) -> Job:
    models = {k: v.id for k, v in job_models(brief, catalog, provider).items()}
    return Job(
        workspace_id=client.workspace_id,
        client_id=client.id,
        campaign_id=campaign.id if campaign else None,
        created_by_id=actor.user_id,
        product=brief.product.strip(),
        target_audience=brief.target_audience.strip(),
        key_message=brief.key_message.strip(),
        call_to_action=brief.call_to_action.strip(),
        style=brief.style.strip(),
        tone=brief.tone,
        visual_elements=list(brief.visual_elements),
        music_style=brief.music_style,
        duration_seconds=brief.duration,
        aspect_ratio=brief.aspect_ratio,
        resolution=brief.resolution,
        model_preferences=models,
        scene_count=brief.scene_count,
        estimated_cost=estimate.total,
        idempotency_key=key,
    )


async def still_to_spend(session: AsyncSession, job: Job) -> Decimal:
    """The job's estimate beyond what it has been charged already."""
    left = (job.estimated_cost or Decimal(0)) - await ledger.actual_total(session, job.id)
    return max(left, Decimal(0))


SAME_REQUEST_FIELDS = (
    "client_id",
    "campaign_id",
    "product",
    "target_audience",
    "key_message",
    "call_to_action",
    "style",
    "tone",
    "visual_elements",
    "music_style",
    "duration_seconds",
    "aspect_ratio",
    "resolution",
    "scene_count",
    "model_preferences",
)


def same_request(existing: Job, new: Job) -> bool:
    """Whether two jobs were made from the same brief (what an idempotent replay must be)."""
    return all(getattr(existing, name) == getattr(new, name) for name in SAME_REQUEST_FIELDS)


async def _campaign(
    session: AsyncSession, actor: Actor, brief: Brief, client: Client
) -> Campaign | None:
    if brief.campaign_id is None:
        return None
    campaign = await get_visible(session, actor, Campaign, brief.campaign_id, what="Campaign")
    if campaign.client_id != client.id:
        raise BadUserInputError(
            "The campaign belongs to another client.", fields={"campaignId": "is not this client's"}
        )
    if campaign.status is CampaignStatus.ARCHIVED:
        raise ConflictError("An archived campaign takes no new work.")
    return campaign


async def _by_key(session: AsyncSession, workspace_id: uuid.UUID, key: str | None) -> Job | None:
    if not key:
        return None
    statement = sa.select(Job).where(
        col(Job.workspace_id) == workspace_id, col(Job.idempotency_key) == key
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def approve(
    session: AsyncSession, actor: Actor, engine: WorkEngine, *, job_id: uuid.UUID, now: datetime
) -> Job:
    job = await get_visible(session, actor, Job, job_id, what="Job", for_update=True)
    actor.require(job.workspace_id, Role.EDITOR)
    if job.status is not JobStatus.STORYBOARD_READY:
        raise ConflictError(
            f"Only a storyboard that is ready can be approved (this job is {job.status.name})."
        )
    await budgets.check(
        session, job.campaign_id, await still_to_spend(session, job), excluding_job=job.id
    )
    job.approved, job.approved_at, job.status = True, now, JobStatus.VIDEO_PROCESSING
    progress(job, "video", "Storyboard approved; rendering scene videos.")
    await job_event(session, job, "job.approved")
    lifecycle.start(session, engine, job, "render")
    await session.flush()
    return job


async def cancel(
    session: AsyncSession,
    actor: Actor,
    engine: WorkEngine | None,
    *,
    job_id: uuid.UUID,
    now: datetime,
) -> Job:
    job = await get_visible(session, actor, Job, job_id, what="Job", for_update=True)
    actor.require(job.workspace_id, Role.EDITOR)
    await lifecycle.cancel(session, job, engine, now)
    await session.flush()
    return job


async def retry(
    session: AsyncSession, actor: Actor, engine: WorkEngine, *, job_id: uuid.UUID
) -> Job:
    job = await get_visible(session, actor, Job, job_id, what="Job", for_update=True)
    actor.require(job.workspace_id, Role.EDITOR)
    if job.status is not JobStatus.FAILED:
        raise ConflictError("Only a failed job can be retried.")
    await budgets.check(session, job.campaign_id, await still_to_spend(session, job))
    job.status = JobStatus.VIDEO_PROCESSING if job.approved else JobStatus.STORYBOARD_PROCESSING
    job.error_code = job.error_message = None
    progress(job, "retrying", "Resuming from the first unfinished step.")
    await job_event(session, job, "job.retried")
    if job.approved:
        lifecycle.start(session, engine, job, "render")
    else:
        lifecycle.start(session, engine, job, "storyboard", "")
    await session.flush()
    return job


async def scenes_of(session: AsyncSession, job_id: uuid.UUID) -> list[Scene]:
    statement = sa.select(Scene).where(col(Scene.job_id) == job_id).order_by(col(Scene.number))
    return list((await session.execute(statement)).scalars())
