"""``PUT /uploads/{asset}``: the raw bytes of a pending asset, streamed through the intake."""

from __future__ import annotations

import asyncio
import uuid

import structlog
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse

from app.errors import AppError
from app.ids import encode_global_id
from app.media.errors import MediaRejected
from app.media.rules import Declared
from app.models import Asset
from app.runtime import Runtime
from app.services import assets
from app.services.assets import NewAsset, store_asset
from app.services.ingest import receive_and_probe
from app.services.placement import Placement
from app.storage.links import Variant

log = structlog.get_logger("app.uploads")


async def receive_upload(request: Request) -> JSONResponse:
    runtime: Runtime = request.app.state.runtime
    try:
        asset_id = uuid.UUID(hex=request.path_params["asset"])
    except ValueError:
        return _answer(404, "NOT_FOUND", "Upload not found.")
    query = request.query_params
    now = runtime.clock.now()
    if not runtime.links.verify(
        asset_id, Variant.UPLOAD, query.get("expires", ""), query.get("signature", ""), now
    ):
        return _answer(403, "FORBIDDEN", "The upload link is invalid or has expired.")
    try:
        asset = await _claim(runtime, asset_id)
    except AppError as error:
        return _answer(
            409 if error.code.value == "CONFLICT" else 404, error.code.value, error.message
        )
    return await _take(runtime, request, asset)


async def _claim(runtime: Runtime, asset_id: uuid.UUID) -> Asset:
    async with runtime.sessionmaker() as session, session.begin():
        return await assets.claim_upload(session, asset_id, runtime.clock.now())


async def _take(runtime: Runtime, request: Request, asset: Asset) -> JSONResponse:
    declared = Declared(
        filename=asset.name,
        kind=asset.kind if asset.format != "unknown" else None,
        mime=asset.mime_type,
        size=asset.size_bytes,
    )
    new = NewAsset(
        Placement(asset.workspace_id, asset.client_id, asset.campaign_id),
        asset.name,
        list(asset.tags),
        asset.source,
    )
    try:  # the bytes are received and probed before any transaction opens
        received, probe = await receive_and_probe(
            runtime.storage, runtime.caps, declared, request.stream()
        )
    except MediaRejected as rejected:
        await _settle(runtime, asset.id, rejected.reason, retry=False)
        return _answer(
            422, "BAD_USER_INPUT", rejected.message, status="REJECTED", reason=rejected.reason
        )
    except ClientDisconnect:
        await _settle(runtime, asset.id, "the upload was interrupted; send it again", retry=True)
        return _answer(400, "BAD_USER_INPUT", "The upload was interrupted.")
    except BaseException:
        await _settle(runtime, asset.id, "the upload failed; send it again", retry=True)
        raise
    try:
        async with runtime.sessionmaker() as session, session.begin():
            current = await session.get(Asset, asset.id)
            stored = await store_asset(
                session,
                runtime.storage,
                asset.created_by_id,
                new,
                received,
                probe,
                existing=current,
            )
    finally:
        await asyncio.to_thread(received.path.unlink, True)
    return JSONResponse({"id": encode_global_id("Asset", stored.id), "status": "READY"})


async def _settle(runtime: Runtime, asset_id: uuid.UUID, reason: str, *, retry: bool) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        await assets.settle_upload(session, asset_id, reason=reason, retry=retry)
    log.info("upload settled", asset_id=asset_id.hex, retry=retry, reason=reason)


def _answer(http_status: int, code: str, message: str, **extra: str) -> JSONResponse:
    body = {"error": {"code": code, "message": message}, **extra}
    return JSONResponse(body, status_code=http_status)
