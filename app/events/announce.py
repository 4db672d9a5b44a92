"""Announcing after commit: ``record`` notes the streams it wrote in the session; when that
session commits, the hub attached to it is told (and on rollback, nothing is)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

log = structlog.get_logger("app.events")
HUB_KEY = "event_hub"
STREAMS_KEY = "written_streams"
_pending: set[asyncio.Task[None]] = set()


def note_stream(session: Any, stream: str) -> None:
    info = getattr(session, "info", None)
    if info is not None:
        info.setdefault(STREAMS_KEY, set()).add(stream)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    streams = session.info.pop(STREAMS_KEY, None)
    hub = session.info.get(HUB_KEY)
    if not streams or hub is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    task = loop.create_task(_publish(hub, streams))
    _pending.add(task)  # hints are best effort: a lost one only delays a subscriber's re-read
    task.add_done_callback(_pending.discard)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(STREAMS_KEY, None)


async def _publish(hub: Any, streams: set[str]) -> None:
    try:
        await hub.publish(streams)
    except Exception as error:
        log.warning("announcing events failed", error=str(error))


async def drain(timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Let announcements already under way finish (before the hub they use is stopped)."""
    if _pending:
        await asyncio.wait(list(_pending), timeout=timeout)
