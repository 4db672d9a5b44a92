"""Work that must follow a commit, attached to the session that makes the change.

Any layer that writes can ask for it: a service starting a workflow, an asset deletion
releasing blobs. The actions run, in the order given, once the session commits, and are
dropped if it rolls back; nothing starts work for a change that was never made. A crash
between the commit and the action is covered by the recovery sweep, which finds the row.
Event announcements use the same two moments (``app.events.announce``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session

log = structlog.get_logger("app.after_commit")
Action = Callable[[], Awaitable[object]]
ACTIONS_KEY = "after_commit_actions"
STARTED_KEY = "after_commit_started"
_running: set[asyncio.Task[None]] = set()


def after_commit(session: Any, action: Action) -> None:
    """Run ``action`` once ``session`` (sync or async) commits; drop it on rollback."""
    session.info.setdefault(ACTIONS_KEY, []).append(action)


async def settle(session: Any) -> None:
    """Wait for the actions this session's commits started (so a reply follows them)."""
    started: list[asyncio.Task[None]] = session.info.pop(STARTED_KEY, [])
    if started:
        await asyncio.gather(*started)


async def drain(timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Let actions under way finish (before what they use is closed)."""
    if _running:
        await asyncio.wait(list(_running), timeout=timeout)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    actions: list[Action] | None = session.info.pop(ACTIONS_KEY, None)
    if not actions:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        log.error("committed outside an event loop: its follow-up work is left to recovery")
        return
    task = loop.create_task(_run(actions))
    _running.add(task)
    task.add_done_callback(_running.discard)
    session.info.setdefault(STARTED_KEY, []).append(task)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(ACTIONS_KEY, None)


async def _run(actions: list[Action]) -> None:
    for action in actions:
        try:
            await action()
        except Exception:  # the change is committed; the sweep retries what did not start
            log.exception("an after-commit action failed")
