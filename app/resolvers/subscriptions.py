"""Live subscriptions: job and generation events and states, resumable with ``afterSeq``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from app.errors import NotFoundError
from app.events.fanout import current_sink
from app.ids import expect_global_id
from app.models import Generation, Job, JobEvent
from app.models.enums import GENERATION_FINAL, JOB_FINAL
from app.runtime import Runtime
from app.schema.context import Info
from app.schema.types.event import EventType
from app.schema.types.generation import GenerationType
from app.schema.types.job import JobType
from app.services.buffering import Guard
from app.services.events import generation_stream, job_stream
from app.services.following import (
    follow,
    follow_job_events,
    follow_workspace_pages,
    membership_ended,
)
from app.single_flight import shared


def _guard(info: Info, workspace_id: uuid.UUID) -> Guard:
    """Before every event: the credentials still work and the workspace is still theirs.

    The credential cache answers at once while it holds the credentials (it forgets a user the
    moment a session, key or membership of theirs changes, in every process); otherwise the
    credentials are resolved again."""
    context = info.context
    runtime = context.runtime

    async def check() -> None:
        credentials = context.credentials
        cached = (
            runtime.credentials.lookup(credentials, runtime.clock.now()) if credentials else None
        )
        actor = cached if cached is not None else await context.recheck()
        if workspace_id not in actor.workspace_ids:
            raise membership_ended()

    return check


async def _load_job(runtime: Runtime, job_id: uuid.UUID) -> Job | None:
    async with runtime.read_sessionmaker() as session:
        return await session.get(Job, job_id)


async def _shared_job(runtime: Runtime, job_id: uuid.UUID) -> Job | None:
    return await shared(("job", id(runtime), job_id), lambda: _load_job(runtime, job_id))


async def _job(info: Info, job_id: uuid.UUID) -> Job:
    actor = info.context.actor
    job = await _shared_job(info.context.runtime, job_id)
    if job is None or job.workspace_id not in actor.workspace_ids:
        raise NotFoundError("Job not found.")
    return job


async def _generation(info: Info, generation_id: uuid.UUID) -> Generation:
    actor = info.context.actor
    async with info.context.runtime.read_sessionmaker() as session:
        generation = await session.get(Generation, generation_id)
    if generation is None or generation.workspace_id not in actor.workspace_ids:
        raise NotFoundError("Generation not found.")
    return generation


async def _unsent(pages: AsyncIterator[list[JobEvent]]) -> AsyncIterator[EventType]:
    """The events to execute: where the operation's transport can write an event's shared
    result itself (``app.events.fanout.DirectSink``), that event is sent and skipped here."""
    sink = current_sink.get()  # this operation's socket, when its transport has one
    async for page in pages:
        for event in page:
            if sink is None or not await sink.send(event.id):
                yield EventType.from_model(event)


@strawberry.type
class JobSubscription:
    @strawberry.subscription(
        description="A job's events in order, from after `afterSeq`; ends when the job does."
    )
    async def job_events(
        self, info: Info, job_id: strawberry.ID, after_seq: int = 0
    ) -> AsyncGenerator[EventType, None]:
        pk = expect_global_id(job_id, "Job", field="jobId")
        job = await _job(info, pk)
        runtime = info.context.runtime

        async def finished() -> bool:  # asked once for every follower: no rights in here
            found = await _shared_job(runtime, pk)
            return found is None or found.status in JOB_FINAL

        pages = follow_job_events(
            runtime,
            guard=_guard(info, job.workspace_id),
            stream=job_stream(pk),
            after=after_seq,
            finished=finished,
        )
        async for event in _unsent(pages):
            yield event

    @strawberry.subscription(
        description="The job now, then again after every change, until it ends."
    )
    async def job_updated(self, info: Info, job_id: strawberry.ID) -> AsyncGenerator[JobType, None]:
        pk = expect_global_id(job_id, "Job", field="jobId")
        job = await _job(info, pk)
        yield JobType.from_model(job)
        if job.status in JOB_FINAL:
            return

        async def finished() -> bool:
            return (await _job(info, pk)).status in JOB_FINAL

        async for _ in follow(
            info.context.runtime,
            guard=_guard(info, job.workspace_id),
            stream=job_stream(pk),
            after=job.last_event_seq,
            finished=finished,
            resumable=False,  # each result is the whole state: a slow reader is only waited for
        ):
            yield JobType.from_model(await _job(info, pk))

    @strawberry.subscription(
        description="A generation now, then after every change, until it ends."
    )
    async def generation_updated(
        self,
        info: Info,
        id: strawberry.ID,
    ) -> AsyncGenerator[GenerationType, None]:
        pk = expect_global_id(id, "Generation")
        generation = await _generation(info, pk)
        yield GenerationType.from_model(generation)
        if generation.status in GENERATION_FINAL:
            return

        async def finished() -> bool:
            return (await _generation(info, pk)).status in GENERATION_FINAL

        async for _ in follow(
            info.context.runtime,
            guard=_guard(info, generation.workspace_id),
            stream=generation_stream(pk),
            after=0,
            finished=finished,
            resumable=False,
        ):
            yield GenerationType.from_model(await _generation(info, pk))


@strawberry.type
class ActivitySubscription:
    @strawberry.subscription(
        description=(
            "Every event in a workspace, in commit order: from now on, or after `afterSeq` "
            "(an event's `workspaceSeq`) to resume without losing any."
        )
    )
    async def workspace_activity(
        self, info: Info, workspace_id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[EventType, None]:
        pk = expect_global_id(workspace_id, "Workspace", field="workspaceId")
        actor = info.context.actor
        if pk not in actor.workspace_ids:
            raise NotFoundError("Workspace not found.")
        pages = follow_workspace_pages(
            info.context.runtime, guard=_guard(info, pk), workspace_id=pk, after=after_seq
        )
        async for event in _unsent(pages):
            yield event
