"""Stored events: the truth that live subscriptions replay, one ordered stream per subject."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, foreign_key, json_column, primary_key, utcnow


class JobEvent(SQLModel, table=True):
    """An event in stream ``stream_id`` (e.g. ``job:<uuid>``) with a gap-free ``seq``."""

    __tablename__ = "job_event"
    __table_args__ = (
        sa.UniqueConstraint("stream_id", "seq"),
        sa.UniqueConstraint("workspace_id", "workspace_seq"),
        sa.Index("ix_job_event_workspace_created", "workspace_id", "created_at"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    stream_id: str = Field(max_length=80)
    seq: int
    # The event's place among all of its workspace's events, in commit order: numbered under
    # the workspace row's lock, so a reader paging by it never skips a later commit.
    workspace_seq: int
    type: str = Field(max_length=64)
    payload: dict[str, Any] = json_column(nullable=False, default_factory=dict)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime(),
        nullable=False,
    )
