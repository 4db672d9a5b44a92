"""Stored events as clients receive them."""

from __future__ import annotations

from datetime import datetime
from typing import cast

import strawberry
from strawberry.scalars import JSON

from app.models import JobEvent


@strawberry.type(name="Event", description="One change, with its place in its stream.")
class EventType:
    stream: str
    seq: int
    type: str
    payload: JSON
    created_at: datetime

    @classmethod
    def from_model(cls, row: JobEvent) -> EventType:
        return cls(
            stream=row.stream_id,
            seq=row.seq,
            type=row.type,
            payload=cast(JSON, row.payload),
            created_at=row.created_at,
        )
