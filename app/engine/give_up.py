"""When a generation's retries run out: it ends FAILED with a code, nothing left running.

Whatever stopped the workflow (a step's retries exhausted, a refusal, an unexpected error),
the generation is recorded FAILED with a stable code, its upstream prediction is asked about
once more and cancelled if still running, and what the provider reports as spent is booked.
"""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from dbos import DBOS
from dbos._error import DBOSMaxStepRetriesExceeded

from app.engine import records
from app.engine.collect import book_spent
from app.engine.upstream import LAST_LOOK_SECONDS, outcome_of, poll_once, stop_upstream
from app.errors import ProviderError
from app.generation.provider import ProviderRejected, ProviderUnavailable
from app.models.enums import GENERATION_FINAL

log = structlog.get_logger("app.engine")
PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE"
PROVIDER_ERROR = "PROVIDER_ERROR"
INTERNAL_ERROR = "INTERNAL_ERROR"


def failure_of(error: BaseException) -> tuple[str, str]:
    """The code and message a generation ends with when ``error`` stopped its workflow."""
    if isinstance(error, DBOSMaxStepRetriesExceeded) and error.errors:
        error = error.errors[-1]
    if isinstance(error, ProviderUnavailable):
        return PROVIDER_UNAVAILABLE, f"The provider stayed unavailable: {error.message}"
    if isinstance(error, ProviderRejected):
        return PROVIDER_ERROR, error.message
    return INTERNAL_ERROR, "The generation stopped on an unexpected error."


@DBOS.step(name="give_up", retries_allowed=True, max_attempts=3, interval_seconds=1.0)
async def give_up_step(generation_id: str, code: str, message: str) -> str:
    generation = await records.load(uuid.UUID(generation_id))
    if generation.status in GENERATION_FINAL:
        return generation.status.value
    outcome: dict[str, Any] | None = None
    if generation.provider_prediction_id:
        outcome = await _last_look(generation.id, generation.provider_prediction_id)
    if outcome is not None:  # booked first: whoever sees it FAILED sees what it cost
        await book_spent(generation.id, outcome)
    await records.fail(generation.id, code, message)
    log.warning("generation failed", generation_id=generation_id, code=code)
    return "failed"


async def stop_and_book(generation_id: uuid.UUID, prediction_id: str) -> bool:
    """Stop a stopped generation's prediction and book what it used before it stopped; True
    once the provider confirmed (else the recovery sweep asks again)."""
    if not await stop_upstream(generation_id, prediction_id):
        return False
    try:
        state = await poll_once(prediction_id, LAST_LOOK_SECONDS)
    except ProviderError:
        return True
    if state is not None and state.terminal:
        await book_spent(generation_id, outcome_of(state))
    return True


async def _last_look(generation_id: uuid.UUID, prediction_id: str) -> dict[str, Any] | None:
    """What the provider says about the prediction; one that still runs is cancelled."""
    try:
        state = await poll_once(prediction_id, LAST_LOOK_SECONDS)
    except ProviderError:  # refused (e.g. 401): all we can do is try to stop it
        state = None
    if state is None or not state.terminal:
        await stop_upstream(generation_id, prediction_id)
        return None
    return outcome_of(state)
