"""Job rows written straight to the database, for tests that follow a job's events."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette

from app.ids import decode_global_id
from app.models import Job
from app.models.enums import JobStatus
from app.services.events import job_stream, record
from tests.graphql import Account, create_client


async def insert_job(runtime: object, workspace_id: uuid.UUID, client_id: uuid.UUID) -> uuid.UUID:
    """A bare PENDING job row, written straight to the database (no workflow starts)."""
    async with runtime.sessionmaker() as session, session.begin():  # type: ignore[attr-defined]
        job = Job(
            workspace_id=workspace_id,
            client_id=client_id,
            product="p",
            target_audience="t",
            key_message="k",
            call_to_action="c",
            style="s",
        )
        session.add(job)
        await session.flush()
        return job.id


async def owned_job(app: Starlette, owner: Account) -> tuple[uuid.UUID, uuid.UUID]:
    """(workspace, job): a new client of ``owner``'s workspace with a bare job row."""
    workspace_id = decode_global_id(owner.workspace_id).id
    client_id = decode_global_id(await create_client(owner.gql, owner.workspace_id)).id
    return workspace_id, await insert_job(app.state.runtime, workspace_id, client_id)


async def write_events(
    app: Starlette,
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    indexes: range,
    *,
    last: bool,
    payload: Callable[[int], dict[str, Any]],
) -> None:
    """One committed event per index on the job's stream (type ``e<index>``); ``last``: the
    last one's transaction also cancels the job, which ends the stream."""
    for index in indexes:
        async with app.state.runtime.sessionmaker() as session, session.begin():
            if last and index == indexes[-1]:
                job = await session.get(Job, job_id)
                assert job is not None
                job.status = JobStatus.CANCELLED
            await record(
                session,
                workspace_id=workspace_id,
                stream_id=job_stream(job_id),
                type=f"e{index}",
                payload=payload(index),
            )
