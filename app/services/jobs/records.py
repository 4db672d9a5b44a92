"""Job progress and events: every change of a job is stored as the next event of its stream."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job
from app.services.events import job_stream, record


async def job_event(
    session: AsyncSession, job: Job, type: str, payload: dict[str, Any] | None = None
) -> None:
    event = await record(
        session,
        workspace_id=job.workspace_id,
        stream_id=job_stream(job.id),
        type=type,
        payload={"status": job.status.value, "progress": job.progress, **(payload or {})},
    )
    job.last_event_seq = event.seq


def progress(
    job: Job,
    stage: str,
    message: str,
    *,
    step: int | None = None,
    steps: int | None = None,
    percent: float | None = None,
) -> None:
    current = dict(job.progress or {})
    total = steps if steps is not None else current.get("totalSteps", 0)
    done = step if step is not None else current.get("currentStep", 0)
    if percent is None:
        percent = round(100 * done / total, 1) if total else 0.0
    job.progress = {
        "stage": stage,
        "percent": percent,
        "message": message[:200],
        "currentStep": done,
        "totalSteps": total,
    }
