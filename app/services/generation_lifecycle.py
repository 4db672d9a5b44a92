"""What happens to a generation as it runs: started, submitted, running, succeeded, failed,
cancelled, and what is booked for it. This module is the one home of those rules.

Each rule takes a session and the generation's row, locked by the caller: a resolver's
service inside its operation, or an engine step inside its own short transaction. A final
generation never changes again, so every rule returns False and does nothing when it is
already SUCCEEDED, FAILED or CANCELED. Each change is recorded as the next event of the
generation's stream, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.after_commit import after_commit
from app.engine.port import WorkEngine
from app.generation.catalog import GenericParams, ModelSpec
from app.generation.pricing import Charge, actual
from app.models import Generation
from app.models.enums import GENERATION_FINAL, GenerationStatus
from app.services.events import generation_stream, record
from app.services.ledger import book_actual

CANCELED = "CANCELED"


def start(session: AsyncSession, engine: WorkEngine, row: Generation) -> None:
    """Its workflow starts once this transaction commits (and never if it rolls back)."""
    generation_id, workspace_id = row.id, row.workspace_id
    after_commit(session, lambda: engine.enqueue_generation(generation_id, workspace_id))


async def submitted(
    session: AsyncSession, row: Generation, prediction_id: str, now: datetime
) -> bool:
    if row.status in GENERATION_FINAL:
        return False
    row.provider_prediction_id, row.status, row.submitted_at = (
        prediction_id,
        GenerationStatus.STARTING,
        now,
    )
    await _event(session, row, "generation.submitted", {"predictionId": prediction_id})
    return True


async def running(
    session: AsyncSession, row: Generation, processing: bool, progress: Any, now: datetime
) -> bool:
    """The provider reported progress: starting still, or processing since ``now``."""
    if row.status in GENERATION_FINAL:
        return False
    row.status = GenerationStatus.PROCESSING if processing else GenerationStatus.STARTING
    if processing and row.started_at is None:
        row.started_at = now
    await _event(session, row, "generation.progress", {"progress": progress})
    return True


async def succeeded(
    session: AsyncSession,
    row: Generation,
    spec: ModelSpec,
    now: datetime,
    *,
    outputs: Sequence[str],
    predict_seconds: float | None,
    asset_id: uuid.UUID | None = None,
) -> bool:
    """It produced its output: an asset, or (a text model) the text kept on the row."""
    if row.status in GENERATION_FINAL:
        return False
    await book_actual(session, row, spent(spec, row, True, outputs, predict_seconds))
    row.status, row.completed_at, row.predict_time_seconds = (
        GenerationStatus.SUCCEEDED,
        now,
        predict_seconds,
    )
    if asset_id is None:
        row.output = {**(row.output or {}), "text": "".join(outputs)[:20000]}
        await _event(session, row, "generation.succeeded")
        return True
    row.output_asset_id = asset_id
    row.output = {**(row.output or {}), "urls": list(outputs)}
    payload = {"assetId": asset_id.hex, "cost": str(row.cost)}
    await _event(session, row, "generation.succeeded", payload)
    return True


async def failed(
    session: AsyncSession, row: Generation, code: str, message: str, now: datetime
) -> bool:
    if row.status in GENERATION_FINAL:
        return False
    row.status, row.error_code, row.error_message, row.completed_at = (
        GenerationStatus.FAILED,
        code,
        message[:2000],
        now,
    )
    await _event(session, row, "generation.failed", {"errorCode": code})
    return True


async def cancelled(
    session: AsyncSession,
    row: Generation,
    message: str,
    now: datetime,
    engine: WorkEngine | None = None,
) -> bool:
    """Cancelled (by a user, its job, or upstream). The status is the durable intent: with
    an ``engine``, its workflow and prediction are stopped once this commits, and the
    recovery sweep keeps asking the provider until the prediction is known to be stopped."""
    if row.status in GENERATION_FINAL:
        return False
    # A video's start image still being made is cancelled with it. It is locked before any
    # event is written: the workspace's event lock is taken last, as every writer takes it.
    child = row.input.get("child_generation_id")
    start_image = (
        await session.get(Generation, uuid.UUID(child), with_for_update=True) if child else None
    )
    row.status, row.error_code, row.error_message, row.completed_at = (
        GenerationStatus.CANCELED,
        CANCELED,
        message,
        now,
    )
    await _event(session, row, "generation.canceled")
    if engine is not None:
        generation_id = row.id
        after_commit(session, lambda: engine.cancel_generation(generation_id))
    if start_image is not None:
        await cancelled(session, start_image, "Its video was cancelled.", now, engine)
    return True


async def book_spent(
    session: AsyncSession,
    row: Generation,
    spec: ModelSpec,
    *,
    succeeded_upstream: bool,
    outputs: Sequence[str],
    predict_seconds: float | None,
) -> bool:
    """What the provider charged for a prediction whose generation ended otherwise on our
    side (failed after it succeeded upstream, or failed there): booked once."""
    if not succeeded_upstream and (not predict_seconds or spec.hardware_rate is None):
        return False  # a failed run of a per-output model costs nothing
    charge = spent(spec, row, succeeded_upstream, outputs, predict_seconds)
    return await book_actual(session, row, charge)


def spent(
    spec: ModelSpec,
    row: Generation,
    succeeded_upstream: bool,
    outputs: Sequence[str],
    predict_seconds: float | None,
) -> Charge:
    """A success is charged in full (per output or per second); a failed or cancelled run,
    for the GPU time it used."""
    params = GenericParams.from_dict(row.input.get("params", {}))
    count = len(outputs) if succeeded_upstream else 0
    return actual(
        spec, params, predict_seconds=predict_seconds, outputs=count, simulated=row.simulated
    )


async def _event(
    session: AsyncSession, row: Generation, type: str, payload: dict[str, Any] | None = None
) -> None:
    await record(
        session,
        workspace_id=row.workspace_id,
        stream_id=generation_stream(row.id),
        type=type,
        payload={"status": row.status.value, **(payload or {})},
    )
