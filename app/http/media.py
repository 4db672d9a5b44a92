"""``GET /media/{asset}/{variant}``: signed (or bearer-authorised) reads with Range and ETag."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from urllib.parse import quote

import sqlalchemy as sa
from sqlmodel import col
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app.auth.credentials import read_credentials
from app.auth.resolve import authenticate
from app.errors import AppError
from app.http.ranges import ByteRange, parse_range
from app.models import Asset
from app.models.enums import AssetStatus
from app.runtime import Runtime
from app.storage.links import Variant

SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Accept-Ranges": "bytes"}


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    mime: str
    etag: str
    filename: str


async def serve_media(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        asset_id = uuid.UUID(hex=request.path_params["asset"])
        variant = Variant(request.path_params["variant"])
    except ValueError:
        return _plain(404, "Not found")
    if variant is Variant.UPLOAD or not await _allowed(request, runtime, asset_id, variant):
        return _plain(404, "Not found")
    target = await _target(runtime, asset_id, variant)
    if target is None:
        return _plain(404, "Not found")
    return await _respond(request, runtime, target)


async def _allowed(
    request: Request, runtime: Runtime, asset_id: uuid.UUID, variant: Variant
) -> bool:
    expires = request.query_params.get("expires")
    signature = request.query_params.get("signature")
    if expires and signature:
        return runtime.links.verify(asset_id, variant, expires, signature, runtime.clock.now())
    credentials = read_credentials(request.headers, request.cookies)
    if credentials is None:
        return False
    try:
        actor = await authenticate(runtime, credentials)
    except AppError:
        return False
    async with runtime.read_sessionmaker() as session:
        workspace = await session.scalar(
            sa.select(col(Asset.workspace_id)).where(col(Asset.id) == asset_id)
        )
    return workspace is not None and workspace in actor.workspace_ids


async def _target(runtime: Runtime, asset_id: uuid.UUID, variant: Variant) -> Target | None:
    async with runtime.read_sessionmaker() as session:
        asset = await session.get(Asset, asset_id)
    if asset is None or asset.status is not AssetStatus.READY:
        return None
    if variant is Variant.ORIGINAL and asset.storage_key:
        return Target(
            asset.storage_key,
            asset.mime_type or "application/octet-stream",
            f'"{asset.sha256}"',
            asset.name,
        )
    key = {
        Variant.THUMBNAIL: asset.thumbnail_key,
        Variant.WAVEFORM: asset.waveform_key,
        Variant.POSTER: asset.poster_key,
    }.get(variant)
    if key is None:
        return None
    stem = asset.name.rsplit(".", 1)[0]
    digest = key.rsplit("/", 1)[-1].split(".", 1)[0]
    return Target(key, "image/png", f'"{digest}"', f"{stem}-{variant.value}.png")


async def _respond(request: Request, runtime: Runtime, target: Target) -> Response:
    headers = {
        **SECURITY_HEADERS,
        "ETag": target.etag,
        "Cache-Control": "private, max-age=3600",
        "Content-Disposition": _disposition(target.filename),
    }
    if target.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    size = await runtime.storage.size(target.key)
    byte_range = parse_range(request.headers.get("range"), size)
    if byte_range is None:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{size}"})
    return _stream(request, runtime, target, byte_range, size, headers)


def _stream(
    request: Request,
    runtime: Runtime,
    target: Target,
    byte_range: ByteRange,
    size: int,
    headers: dict[str, str],
) -> Response:
    headers = {**headers, "Content-Length": str(byte_range.length)}
    status = 200
    if byte_range.partial:
        status = 206
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=target.mime)
    body = runtime.storage.read(target.key, byte_range.start, byte_range.end)
    return StreamingResponse(body, status_code=status, headers=headers, media_type=target.mime)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def _disposition(filename: str) -> str:
    ascii_name = filename.encode("ascii", "ignore").decode().replace('"', "") or "file"
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def _plain(status: int, text: str) -> Response:
    return Response(text, status_code=status, media_type="text/plain", headers=SECURITY_HEADERS)
