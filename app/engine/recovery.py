"""Work that is not finished but has no live workflow gets one, at start-up and periodically.

A crash between a commit and the enqueue that follows it (``createJob``, a generation) leaves
a row whose workflow never started; a workflow that ended without finishing its row (an
error DBOS recorded before the give-up step existed, a job step whose retries ran out, an
engine bug) leaves a row that would wait forever. The sweep starts the first kind and fails
the second, so nothing stays stuck.
Every start is idempotent (the workflow id is fixed), so servers may sweep at the same time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog
from dbos import DBOS
from sqlmodel import col

from app.engine import records
from app.engine.deps import current
from app.engine.give_up import stop_and_book
from app.engine.port import generation_workflow_id, job_phase
from app.errors import ProviderError
from app.models import Generation, Job
from app.models.enums import (
    GENERATION_FINAL,
    GENERATION_STOPPED,
    JOB_WORKING,
    GenerationStatus,
    JobStatus,
)
from app.runtime import Runtime
from app.services.jobs import lifecycle

log = structlog.get_logger("app.engine")
ENDED = frozenset({"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})
UPSTREAM_BATCH = 100
_ENDED_WITHOUT_RESULT = "The generation's work ended without a result."

StartGeneration = Callable[[uuid.UUID, uuid.UUID], Awaitable[None]]
StartJob = Callable[..., Awaitable[None]]


@dataclass
class Swept:
    started_generations: int = 0
    failed_generations: int = 0
    started_jobs: int = 0
    failed_jobs: int = 0
    stopped_upstream: int = 0


async def workflow_state(workflow: str) -> str | None:
    """DBOS's status for the workflow, or None when it was never started."""
    status = await DBOS.get_workflow_status_async(workflow)
    return None if status is None else str(status.status)


async def sweep(runtime: Runtime, start_generation: StartGeneration, start_job: StartJob) -> Swept:
    swept = Swept()
    await _sweep_generations(runtime, start_generation, swept)
    await _sweep_jobs(runtime, start_job, swept)
    await _sweep_lost_creates(runtime, swept)
    await _sweep_upstream(runtime, swept)
    if any(vars(swept).values()):
        log.info("recovered unfinished work", **vars(swept))
    return swept


async def _sweep_generations(runtime: Runtime, start: StartGeneration, swept: Swept) -> None:
    unfinished = [s for s in GenerationStatus if s not in GENERATION_FINAL]
    async with runtime.read_sessionmaker() as session:
        rows = (
            await session.execute(
                sa.select(
                    col(Generation.id),
                    col(Generation.workspace_id),
                    col(Generation.workflow_id),
                    col(Job.status),
                )
                .outerjoin(Job, col(Job.id) == col(Generation.job_id))
                .where(col(Generation.status).in_(unfinished))
            )
        ).all()
    for generation_id, workspace_id, workflow, of_job in rows:
        job_status: JobStatus | None = of_job  # None: not a job's generation
        if workflow != generation_workflow_id(generation_id):
            continue  # a chained start image: its parent's workflow answers for it
        state = await workflow_state(workflow)
        if state is None and job_status is None:
            await start(generation_id, workspace_id)
            swept.started_generations += 1
        elif (
            state in ENDED or (state is None and job_status not in JOB_WORKING)
        ) and await records.fail(generation_id, "INTERNAL_ERROR", _ENDED_WITHOUT_RESULT):
            # Not counted when its workflow finished it after the rows were read. One of a
            # job still running is started by the job's workflow, as its child.
            swept.failed_generations += 1


async def _sweep_jobs(runtime: Runtime, start: StartJob, swept: Swept) -> None:
    async with runtime.read_sessionmaker() as session:
        jobs = (
            (
                await session.execute(
                    sa.select(Job).where(
                        col(Job.status).in_(JOB_WORKING), col(Job.workflow_id).is_not(None)
                    )
                )
            )
            .scalars()
            .all()
        )
    for job in jobs:
        workflow = job.workflow_id or ""
        state = await workflow_state(workflow)
        if state in ENDED:
            if await _fail_job(runtime, job.id, workflow):
                swept.failed_jobs += 1
        elif state is None and (args := lifecycle.workflow_args(job)) is not None:
            await start(job.id, job.workspace_id, job_phase(workflow), workflow, *args)
            swept.started_jobs += 1


async def _fail_job(runtime: Runtime, job_id: uuid.UUID, workflow: str) -> bool:
    """Fail a job its ended workflow left running; False if it moved on meanwhile (a newer
    workflow of its own, approved or retried since it was read)."""
    message = "The job's work ended without a result."
    async with runtime.sessionmaker() as session, session.begin():
        job = await session.get(Job, job_id, with_for_update=True)
        if job is None or job.workflow_id != workflow or job.status not in JOB_WORKING:
            return False
        await lifecycle.fail(session, job, "INTERNAL_ERROR", message)
    return True


async def _sweep_upstream(runtime: Runtime, swept: Swept) -> None:
    """Stopped generations whose prediction may still run upstream: cancel it there (again).

    The intent is the row's status, committed with the cancel itself; this makes the upstream
    cancel durable across crashes and restarts, until the provider confirms.
    """
    rows = await _stopped_and_open(
        runtime,
        col(Generation.provider_prediction_id),
        col(Generation.provider_prediction_id).is_not(None),
    )
    for generation_id, prediction_id in rows:
        if await stop_and_book(generation_id, str(prediction_id)):
            swept.stopped_upstream += 1


async def _sweep_lost_creates(runtime: Runtime, swept: Swept) -> None:
    """Stopped generations that tried to create a prediction and never learnt its id (a crash
    during the call): the provider is asked for one carrying their marker, which is stopped."""
    provider = current().provider
    rows = await _stopped_and_open(
        runtime,
        col(Generation.created_at),
        col(Generation.attempts) > 0,
        col(Generation.provider_prediction_id).is_(None),
    )
    for generation_id, created_at in rows:
        try:
            found = await provider.find(generation_id.hex, created_at)
        except ProviderError as problem:  # asked again at the next sweep
            log.warning("looking up a lost create failed", reason=str(problem))
            continue
        if found is None:
            await records.close_upstream(generation_id)  # nothing was created
            continue
        await records.attach_prediction(generation_id, found.id)
        if await stop_and_book(generation_id, found.id):
            swept.stopped_upstream += 1


async def _stopped_and_open(
    runtime: Runtime, column: Any, *conditions: sa.ColumnElement[bool]
) -> list[Any]:
    """(id, ``column``) of stopped generations whose upstream is not known to be closed."""
    async with runtime.read_sessionmaker() as session:
        statement = (
            sa.select(col(Generation.id), column)
            .where(
                col(Generation.status).in_(GENERATION_STOPPED),
                col(Generation.upstream_closed_at).is_(None),
                *conditions,
            )
            .order_by(col(Generation.updated_at).desc())
            .limit(UPSTREAM_BATCH)
        )
        return list((await session.execute(statement)).all())


async def sweep_forever(
    runtime: Runtime, start_generation: StartGeneration, start_job: StartJob, every: float
) -> None:
    """Sweep every ``every`` seconds until cancelled; a failed sweep is logged and retried."""
    while True:
        await asyncio.sleep(every)
        try:
            await sweep(runtime, start_generation, start_job)
        except Exception:
            log.exception("sweeping unfinished work failed")
