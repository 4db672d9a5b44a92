"""Stored events: each change is written, with the next sequence number of its stream, in the
same transaction as the change itself (announcing it comes later, after commit)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.events.announce import note_stream
from app.models import JobEvent


def generation_stream(generation_id: uuid.UUID) -> str:
    return f"generation:{generation_id.hex}"


def job_stream(job_id: uuid.UUID) -> str:
    return f"job:{job_id.hex}"


def workspace_stream(workspace_id: uuid.UUID) -> str:
    """A channel (not a stored stream) announcing any event of the workspace."""
    return f"workspace:{workspace_id.hex}"


async def record(
    session: AsyncSession,
    *,
    workspace_id: uuid.UUID,
    stream_id: str,
    type: str,
    payload: dict[str, Any] | None = None,
) -> JobEvent:
    last = await session.scalar(
        sa.select(sa.func.max(col(JobEvent.seq))).where(col(JobEvent.stream_id) == stream_id)
    )
    event = JobEvent(
        workspace_id=workspace_id,
        stream_id=stream_id,
        seq=(last or 0) + 1,
        type=type,
        payload=payload or {},
    )
    session.add(event)
    await session.flush()
    note_stream(session, stream_id)  # announced once this transaction commits
    note_stream(session, workspace_stream(workspace_id))
    return event
