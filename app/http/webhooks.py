"""``POST /webhooks/replicate``: signed (Standard Webhooks), fresh, once per id, then recorded.

The webhook only records the prediction's final state on its generation; the engine's waiting
step picks it up (and polling covers webhooks that never come).
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
import structlog
from replicate.webhook import Webhooks, WebhookSigningSecret
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import JSONResponse

from app.generation.provider import TERMINAL
from app.models import Generation, WebhookDelivery
from app.runtime import Runtime

log = structlog.get_logger("app.webhooks")
TOLERANCE_SECONDS = 300


async def replicate_webhook(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    secret = runtime.settings.replicate_webhook_secret
    if secret is None:
        return _answer(404, "webhooks are not enabled")
    body = await request.body()
    try:
        Webhooks.validate(
            headers=dict(request.headers),
            body=body.decode(),
            secret=WebhookSigningSecret(key=secret.get_secret_value()),
            tolerance=TOLERANCE_SECONDS,
        )
    except ValueError as exc:  # the library's validation errors, and undecodable bodies
        log.warning("webhook refused", reason=type(exc).__name__)
        return _answer(401, f"invalid webhook ({type(exc).__name__})")
    try:
        prediction = json.loads(body)
    except (ValueError, RecursionError):
        return _answer(400, "the body is not JSON")
    if not isinstance(prediction, dict) or not isinstance(prediction.get("id"), str):
        return _answer(400, "the body is not a prediction")
    if not await _first_delivery(runtime, request.headers["webhook-id"]):
        return _answer(200, "already processed")
    await _record(runtime, prediction)
    return _answer(200, "ok")


async def _first_delivery(runtime: Runtime, webhook_id: str) -> bool:
    """Record the id; False when it was seen before (a replay or a redelivery)."""
    async with runtime.sessionmaker() as session, session.begin():
        dialect = session.get_bind().dialect.name
        insert = (
            postgresql.insert(WebhookDelivery)
            if dialect == "postgresql"
            else sqlite.insert(WebhookDelivery)
        )
        result = await session.execute(
            insert.values(
                id=webhook_id[:128], provider="replicate", received_at=runtime.clock.now()
            ).on_conflict_do_nothing(index_elements=["id"])
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def _record(runtime: Runtime, prediction: dict[str, Any]) -> None:
    status = prediction.get("status")
    if status not in TERMINAL:
        return
    output = prediction.get("output")
    outputs = output if isinstance(output, list) else ([output] if output else [])
    state = {
        "id": prediction.get("id"),
        "status": status,
        "outputs": [str(o) for o in outputs],
        "predict_seconds": (prediction.get("metrics") or {}).get("predict_time"),
        "error": prediction.get("error"),
    }
    async with runtime.sessionmaker() as session, session.begin():
        generation = (
            await session.execute(
                sa.select(Generation)
                .where(col(Generation.provider_prediction_id) == state["id"])
                .with_for_update()
            )
        ).scalar_one_or_none()
        if generation is None:
            log.info("webhook for an unknown prediction", prediction_id=state["id"])
            return
        generation.output = {**(generation.output or {}), "webhook": state}


def _answer(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)
