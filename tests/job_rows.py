"""Job rows written straight to the database, for tests that follow a job's events."""

from __future__ import annotations

import uuid

from app.models import Job


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
