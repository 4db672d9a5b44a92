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
    # All of a workspace's writers queue for that lock, so it is held for as few round trips
    # as can be: the transaction's own changes are written before it is taken, and then one
    # statement numbers and inserts the event (its snapshot, taken once the lock is held,
    # sees every event committed before).
    await session.flush()
    await session.execute(
        sa.select(col(Workspace.id))
        .where(col(Workspace.id) == workspace_id)
        .with_for_update(key_share=True)
    )
    event = JobEvent(
        workspace_id=workspace_id,
        stream_id=stream_id,
        seq=0,  # numbered by the insert below
        workspace_seq=0,
        type=type,
        payload=payload or {},
    )
    numbered = (
        sa.insert(JobEvent)
        .values(
            id=event.id,
            workspace_id=workspace_id,
            stream_id=stream_id,
            seq=_next(col(JobEvent.seq), col(JobEvent.stream_id) == stream_id),
            workspace_seq=_next(
                col(JobEvent.workspace_seq), col(JobEvent.workspace_id) == workspace_id
            ),
            type=type,
            payload=event.payload,
            created_at=event.created_at,
        )
        .returning(col(JobEvent.seq), col(JobEvent.workspace_seq))
    )
    event.seq, event.workspace_seq = (await session.execute(numbered)).one()
    note_stream(session, stream_id)  # announced once this transaction commits
    note_stream(session, workspace_stream(workspace_id))
    return event


def _next(number: Any, where: sa.ColumnElement[bool]) -> sa.ScalarSelect[int]:
    return sa.select(sa.func.coalesce(sa.func.max(number), 0) + 1).where(where).scalar_subquery()
