"""The engine's writes to our tables: each in its own short transaction, with its event."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.engine.deps import current
from app.models import Generation
from app.models.base import utcnow
from app.models.enums import GENERATION_FINAL, GenerationStatus
from app.services.events import generation_stream, record


async def load(generation_id: uuid.UUID) -> Generation:
    async with current().runtime.read_sessionmaker() as session:
        generation = await session.get(Generation, generation_id)
    if generation is None:
        raise LookupError(f"generation {generation_id} is gone")
    return generation


async def update(
    generation_id: uuid.UUID,
    event: str | None,
    payload: dict[str, Any] | None = None,
    **values: Any,
) -> Generation | None:
    """Set fields (unless the generation is already final) and record ``event``; None if final."""
    async with current().runtime.sessionmaker() as session, session.begin():
        generation = await session.get(Generation, generation_id, with_for_update=True)
        if generation is None or generation.status in GENERATION_FINAL:
            return None
        for name, value in values.items():
            setattr(generation, name, value)
        if event:
            await _event(session, generation, event, payload)
        return generation


async def _event(
    session: AsyncSession, generation: Generation, event: str, payload: dict[str, Any] | None
) -> None:
    await record(
        session,
        workspace_id=generation.workspace_id,
        stream_id=generation_stream(generation.id),
        type=event,
        payload={"status": generation.status.value, **(payload or {})},
    )


async def fail(generation_id: uuid.UUID, code: str, message: str) -> bool:
    """Fail the generation; False when it had already reached a final state."""
    failed = await update(
        generation_id,
        "generation.failed",
        {"errorCode": code},
        status=GenerationStatus.FAILED,
        error_code=code,
        error_message=message[:2000],
        completed_at=utcnow(),
    )
    return failed is not None


async def attach_prediction(generation_id: uuid.UUID, prediction_id: str) -> None:
    """Keep the id of a prediction created for a generation that was stopped meanwhile, so
    the recovery sweep can make sure it stops upstream too."""
    async with current().runtime.sessionmaker() as session, session.begin():
        generation = await session.get(Generation, generation_id, with_for_update=True)
        if generation is not None and generation.provider_prediction_id is None:
            generation.provider_prediction_id = prediction_id


async def close_upstream(generation_id: uuid.UUID) -> None:
    async with current().runtime.sessionmaker() as session, session.begin():
        generation = await session.get(Generation, generation_id, with_for_update=True)
        if generation is not None and generation.upstream_closed_at is None:
            generation.upstream_closed_at = utcnow()
