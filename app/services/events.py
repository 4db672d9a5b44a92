"""Stored events: each change is written, with the next sequence number of its stream, in the
same transaction as the change itself (announcing it comes later, after commit)."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.events.announce import note_stream
from app.models import JobEvent, Workspace


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
    # Every event of a workspace is numbered under its row's lock, held until commit: both
    # sequences then follow commit order, and two writers never take the same number. NO KEY
    # UPDATE: rows inserted in the same transactions reference the workspace (their foreign
    # key checks take KEY SHARE), and a plain FOR UPDATE after them deadlocks two writers.
    await session.execute(
        sa.select(col(Workspace.id))
        .where(col(Workspace.id) == workspace_id)
        .with_for_update(key_share=True)
    )
    last = await session.scalar(
        sa.select(sa.func.max(col(JobEvent.seq))).where(col(JobEvent.stream_id) == stream_id)
    )
    last_in_workspace = await session.scalar(
        sa.select(sa.func.max(col(JobEvent.workspace_seq))).where(
            col(JobEvent.workspace_id) == workspace_id
        )
    )
    event = JobEvent(
        workspace_id=workspace_id,
        stream_id=stream_id,
        seq=(last or 0) + 1,
        workspace_seq=(last_in_workspace or 0) + 1,
        type=type,
        payload=payload or {},
    )
    session.add(event)
    await session.flush()
    note_stream(session, stream_id)  # announced once this transaction commits
    note_stream(session, workspace_stream(workspace_id))
    return event
