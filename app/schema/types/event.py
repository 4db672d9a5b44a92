"""Stored events as clients receive them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.models import JobEvent


@strawberry.type(name="Event", description="One change, with its place in its stream.")
class EventType:
    stream: str
    seq: int = strawberry.field(description="The event's place in its own stream.")
    workspace_seq: int = strawberry.field(
        description="Its place among all of the workspace's events (resume with `afterSeq`)."
    )
    type: str
    payload: JSON
    created_at: datetime
    # The stored event's id: what subscribers following it share (``app.events.fanout``).
    event_id: strawberry.Private[uuid.UUID | None] = None

    @classmethod
    def from_model(cls, row: JobEvent) -> EventType:
        return cls(
            stream=row.stream_id,
            seq=row.seq,
            workspace_seq=row.workspace_seq,
            type=row.type,
            payload=cast(JSON, row.payload),
            created_at=row.created_at,
            event_id=row.id,
        )
