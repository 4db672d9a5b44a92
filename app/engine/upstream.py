"""One bounded look at an upstream prediction, and a cancel that never raises."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog

from app.engine import records
from app.engine.deps import current
from app.generation.provider import PredictionState, ProviderRejected, ProviderUnavailable

log = structlog.get_logger("app.engine")
POLL_TIMEOUT_SECONDS = 5.0
LAST_LOOK_SECONDS = 30.0  # before giving up, a slow answer is still worth waiting for


async def stop_upstream(generation_id: uuid.UUID, prediction_id: str) -> bool:
    """Ask the provider to cancel; True (and recorded) once nothing runs there any more.

    A refusal means the prediction is gone or already final. When the provider cannot be
    reached the generation stays open, and the recovery sweep asks again later.
    """
    try:
        async with asyncio.timeout(POLL_TIMEOUT_SECONDS):
            await current().provider.cancel(prediction_id)
    except ProviderRejected as refused:
        log.info("upstream cancel refused", prediction_id=prediction_id, reason=str(refused))
    except (ProviderUnavailable, TimeoutError) as problem:
        log.warning("upstream cancel failed", prediction_id=prediction_id, reason=str(problem))
        return False
    await records.close_upstream(generation_id)
    return True


async def poll_once(
    prediction_id: str, within: float = POLL_TIMEOUT_SECONDS
) -> PredictionState | None:
    """One look at the prediction, bounded in time (the client itself retries 5xx for long)."""
    try:
        async with asyncio.timeout(within):
            return await current().provider.get(prediction_id)
    except (ProviderUnavailable, TimeoutError) as problem:
        log.warning("poll failed; will retry", prediction_id=prediction_id, reason=str(problem))
        return None


def outcome_of(state: PredictionState) -> dict[str, Any]:
    return {
        "status": state.status,
        "outputs": state.outputs,
        "predict_seconds": state.predict_seconds,
        "error": state.error,
    }
