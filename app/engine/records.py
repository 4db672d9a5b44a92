"""The engine's writes to our tables: each in its own short transaction, with the row locked.

What a change means (its status, its event, what is booked) is decided by the lifecycle
service; this module only opens the transaction around it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.engine.deps import current
from app.models import Generation
from app.models.enums import GENERATION_FINAL
from app.services import generation_lifecycle as lifecycle

Rule = Callable[[AsyncSession, Generation], Awaitable[bool]]


async def load(generation_id: uuid.UUID) -> Generation:
    async with current().runtime.read_sessionmaker() as session:
        generation = await session.get(Generation, generation_id)
    if generation is None:
        raise LookupError(f"generation {generation_id} is gone")
    return generation


async def apply(generation_id: uuid.UUID, rule: Rule) -> bool:
    """Apply one lifecycle rule to the locked generation; False when it changed nothing."""
    async with current().runtime.sessionmaker() as session, session.begin():
        generation = await session.get(Generation, generation_id, with_for_update=True)
        if generation is None:
            return False
        return await rule(session, generation)


async def update(generation_id: uuid.UUID, **values: Any) -> bool:
    """Set working fields (attempts, inputs) on a generation that is not final yet."""

    async def assign(_session: AsyncSession, generation: Generation) -> bool:
        if generation.status in GENERATION_FINAL:
            return False
        for name, value in values.items():
            setattr(generation, name, value)
        return True

    return await apply(generation_id, assign)


async def fail(generation_id: uuid.UUID, code: str, message: str) -> bool:
    """Fail the generation; False when it had already reached a final state."""
    now = current().now()
    return await apply(
        generation_id, lambda session, row: lifecycle.failed(session, row, code, message, now)
    )


async def attach_prediction(generation_id: uuid.UUID, prediction_id: str) -> None:
    """Keep the id of a prediction created for a generation that was stopped meanwhile, so
    the recovery sweep can make sure it stops upstream too."""

    async def attach(_session: AsyncSession, generation: Generation) -> bool:
        if generation.provider_prediction_id is not None:
            return False
        generation.provider_prediction_id = prediction_id
        return True

    await apply(generation_id, attach)


async def close_upstream(generation_id: uuid.UUID) -> None:
    now = current().now()

    async def close(_session: AsyncSession, generation: Generation) -> bool:
        if generation.upstream_closed_at is not None:
            return False
        generation.upstream_closed_at = now
        return True

    await apply(generation_id, close)
