"""Assets: storing checked files, pending uploads, edits and deletion."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor
from app.errors import BadUserInputError, ConflictError, NotFoundError
from app.media.intake import Received
from app.media.probe import Probe
from app.media.rules import SizeCaps, sanitize_filename
from app.models import Asset, Job, Scene
from app.models.enums import JOB_FINAL, AssetKind, AssetSource, AssetStatus, Role
from app.services.access import get_visible
from app.services.blobs import keep_blob
from app.services.placement import Placement, place
from app.services.validation import FieldErrors, require_changes
from app.storage.base import Storage, content_key

MAX_TAGS = 20
STALE_UPLOAD = timedelta(minutes=15)
MAX_TAG_LENGTH = 50


@dataclass(frozen=True, slots=True)
class NewAsset:
    """What the caller knows about an asset before its bytes arrive."""

    placement: Placement
    name: str
    tags: list[str] = field(default_factory=list)
    source: AssetSource = AssetSource.UPLOADED
    source_url: str | None = None
    idempotency_key: str | None = None  # the same key in the workspace gives this asset back


def clean_tags(errors: FieldErrors, tags: list[str] | None) -> list[str]:
    cleaned = list(dict.fromkeys(t.strip() for t in tags or [] if t.strip()))
    if len(cleaned) > MAX_TAGS:
        errors.add("tags", f"at most {MAX_TAGS} tags")
    if any(len(t) > MAX_TAG_LENGTH for t in cleaned):
        errors.add("tags", f"each tag at most {MAX_TAG_LENGTH} characters")
    return cleaned


async def store_asset(
    session: AsyncSession,
    storage: Storage,
    actor_id: uuid.UUID | None,
    new: NewAsset,
    received: Received,
    probe: Probe,
    *,
    existing: Asset | None = None,
) -> Asset:
    """Keep the bytes (and any poster frame or waveform) and make the asset READY."""
    namespace = new.placement.workspace_id.hex
    key = content_key(namespace, received.sha256, f".{received.media.format}")
    await keep_blob(
        session,
        storage,
        workspace_id=new.placement.workspace_id,
        key=key,
        source=received.path,
        sha256=received.sha256,
        size=received.size,
        mime_type=received.media.mime,
    )
    asset = existing or Asset(
        workspace_id=new.placement.workspace_id,
        client_id=new.placement.client_id,
        campaign_id=new.placement.campaign_id,
        created_by_id=actor_id,
        kind=received.media.kind,
        name=new.name,
        tags=new.tags,
        source=new.source,
        source_url=new.source_url,
        idempotency_key=new.idempotency_key,
    )
    asset.kind, asset.format, asset.mime_type = (
        received.media.kind,
        received.media.format,
        received.media.mime,
    )
    asset.size_bytes, asset.sha256, asset.storage_key = received.size, received.sha256, key
    asset.width, asset.height, asset.duration_seconds = probe.width, probe.height, probe.duration
    asset.page_count, asset.status, asset.status_reason = probe.page_count, AssetStatus.READY, None
    asset.upload_expires_at = None
    asset.thumbnail_key = await _keep_derived(session, storage, new.placement, probe.thumbnail)
    asset.waveform_key = await _keep_derived(session, storage, new.placement, probe.waveform)
    await _add_once(session, asset)
    return asset


async def keep_poster(
    session: AsyncSession, storage: Storage, asset_id: uuid.UUID, png: bytes
) -> str | None:
    """Keep a video's full-size poster frame beside it, once; its key (None if it is gone)."""
    asset = await session.get(Asset, asset_id, with_for_update=True, populate_existing=True)
    if asset is None or asset.kind is not AssetKind.VIDEO:
        return None
    if asset.poster_key is None:
        placement = Placement(asset.workspace_id, asset.client_id, asset.campaign_id)
        asset.poster_key = await _keep_derived(session, storage, placement, png)
        await session.flush()
    return asset.poster_key


async def _keep_derived(
    session: AsyncSession, storage: Storage, placement: Placement, png: bytes | None
) -> str | None:
    if png is None:
        return None
    sha256 = hashlib.sha256(png).hexdigest()
    key = content_key(placement.workspace_id.hex, sha256, ".png")
    spooled = storage.spool_dir() / f"derived-{uuid.uuid4().hex}"
    await asyncio.to_thread(spooled.write_bytes, png)
    await keep_blob(
        session,
        storage,
        workspace_id=placement.workspace_id,
        key=key,
        source=spooled,
        sha256=sha256,
        size=len(png),
        mime_type="image/png",
    )
    return key


async def create_pending_upload(
    session: AsyncSession,
    actor: Actor,
    new: NewAsset,
    *,
    kind: AssetKind | None,
    size: int,
    mime_type: str | None,
    caps: SizeCaps,
    expires_at: datetime,
) -> Asset:
    """An asset waiting for its bytes at a signed upload URL."""
    limit = caps.for_kind(kind) if kind is not None else caps.largest
    if not 0 < size <= limit:
        raise BadUserInputError(
            f"size must be between 1 and {limit} bytes.",
            fields={"size": f"must be between 1 and {limit} bytes"},
        )
    asset = Asset(
        workspace_id=new.placement.workspace_id,
        client_id=new.placement.client_id,
        campaign_id=new.placement.campaign_id,
        created_by_id=actor.user_id,
        kind=kind or AssetKind.DOCUMENT,
        name=new.name,
        tags=new.tags,
        source=new.source,
        size_bytes=size,
        mime_type=mime_type,
        status=AssetStatus.PENDING,
        upload_expires_at=expires_at,
        idempotency_key=new.idempotency_key,
    )
    asset.format = None if kind is not None else "unknown"
    await _add_once(session, asset)
    return asset


async def _add_once(session: AsyncSession, asset: Asset) -> None:
    """Insert the asset; CONFLICT when a request with its idempotency key won the race."""
    if asset.idempotency_key is None:
        session.add(asset)
        await session.flush()
        return
    try:
        async with session.begin_nested():
            session.add(asset)
            await session.flush()
    except IntegrityError:
        raise ConflictError(
            "A request with this idempotencyKey is being handled; send it again.",
            fields={"idempotencyKey": "is in use by a request under way"},
        ) from None


@dataclass(frozen=True, slots=True)
class Replay:
    """What an idempotent asset request asked for, to compare with what the key made."""

    source: AssetSource
    name: str | None = None
    url: str | None = None
    size: int | None = None


async def replayed(
    session: AsyncSession, workspace_id: uuid.UUID, key: str | None, request: Replay
) -> Asset | None:
    """The asset an earlier request with this key made (None if none); CONFLICT when that
    request asked for something else."""
    if not key:
        return None
    asset = (
        await session.execute(
            sa.select(Asset).where(
                col(Asset.workspace_id) == workspace_id, col(Asset.idempotency_key) == key
            )
        )
    ).scalar_one_or_none()
    if asset is None:
        return None
    if not _same(asset, request):
        raise ConflictError(
            "This idempotencyKey was used for a different request.",
            fields={"idempotencyKey": "was used with other inputs"},
        )
    return asset


def _same(asset: Asset, request: Replay) -> bool:
    return (
        asset.source is request.source
        and (request.name is None or asset.name == request.name)
        and (request.url is None or asset.source_url == request.url)
        and (request.size is None or asset.size_bytes == request.size)
    )


async def claim_upload(session: AsyncSession, asset_id: uuid.UUID, now: datetime) -> Asset:
    """Move a pending upload to PROCESSING; only one PUT can hold it. An upload left PROCESSING
    by a process that died (no progress for a while) can be claimed again."""
    waiting = col(Asset.status) == AssetStatus.PENDING
    abandoned = sa.and_(
        col(Asset.status) == AssetStatus.PROCESSING,
        col(Asset.updated_at) < now - STALE_UPLOAD,
    )
    claimed = await session.execute(
        sa.update(Asset)
        .where(
            col(Asset.id) == asset_id,
            sa.or_(waiting, abandoned),
            col(Asset.upload_expires_at) > now,
        )
        .values(status=AssetStatus.PROCESSING, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    asset = await session.get(Asset, asset_id, populate_existing=True)
    if asset is None:
        raise NotFoundError("Upload not found.")
    if not claimed.rowcount:  # type: ignore[attr-defined]
        raise ConflictError(f"This upload is not waiting for bytes (it is {asset.status.name}).")
    return asset


async def settle_upload(
    session: AsyncSession, asset_id: uuid.UUID, *, reason: str | None, retry: bool = False
) -> Asset | None:
    """A failed upload: REJECTED with a reason, or back to PENDING so it can be retried."""
    asset = await session.get(Asset, asset_id, populate_existing=True)
    if asset is None:
        return None
    asset.status = AssetStatus.PENDING if retry else AssetStatus.REJECTED
    asset.status_reason = reason
    await session.flush()
    return asset


async def update_asset(
    session: AsyncSession, actor: Actor, *, asset_id: uuid.UUID, changes: Mapping[str, Any]
) -> Asset:
    asset = await get_visible(session, actor, Asset, asset_id, what="Asset")
    actor.require(asset.workspace_id, Role.EDITOR)
    require_changes(dict(changes))
    with FieldErrors() as errors:
        if "name" in changes:
            raw = errors.text("name", changes["name"], min_length=1, max_length=255)
            asset.name = sanitize_filename(raw or "")
        if "tags" in changes:
            asset.tags = clean_tags(errors, changes["tags"])
    if "client_id" in changes or "campaign_id" in changes:
        await _move(session, actor, asset, changes)
    await session.flush()
    return asset


async def _move(
    session: AsyncSession, actor: Actor, asset: Asset, changes: Mapping[str, Any]
) -> None:
    client_id = changes.get("client_id", asset.client_id)
    campaign_id = changes.get("campaign_id", asset.campaign_id)
    if "client_id" in changes and client_id is None:
        campaign_id = None if "campaign_id" not in changes else campaign_id
    if campaign_id is not None or client_id is not None:
        placement = await place(
            session,
            actor,
            workspace_id=asset.workspace_id,
            client_id=client_id,
            campaign_id=campaign_id,
        )
        asset.client_id, asset.campaign_id = placement.client_id, placement.campaign_id
    else:
        asset.client_id, asset.campaign_id = None, None


async def delete_asset(session: AsyncSession, actor: Actor, *, asset_id: uuid.UUID) -> set[str]:
    """Delete the asset; return the storage keys to release once the deletion is committed."""
    asset = await get_visible(session, actor, Asset, asset_id, what="Asset")
    actor.require(asset.workspace_id, Role.EDITOR)
    if await _used_by_running_job(session, asset.id):
        raise ConflictError("A job in progress uses this asset; cancel it first.")
    derived = (asset.thumbnail_key, asset.waveform_key, asset.poster_key)
    keys = {k for k in (asset.storage_key, *derived) if k}
    await session.delete(asset)
    await session.flush()
    return keys


async def _used_by_running_job(session: AsyncSession, asset_id: uuid.UUID) -> bool:
    running = col(Job.status).not_in(JOB_FINAL)
    in_scene = (
        sa.select(col(Scene.id))
        .join(Job, col(Job.id) == col(Scene.job_id))
        .where(
            running,
            sa.or_(col(Scene.image_asset_id) == asset_id, col(Scene.video_asset_id) == asset_id),
        )
    )
    in_job = sa.select(col(Job.id)).where(
        running,
        sa.or_(col(Job.final_video_asset_id) == asset_id, col(Job.music_asset_id) == asset_id),
    )
    statement = sa.select(sa.or_(in_scene.exists(), in_job.exists()))
    return bool((await session.execute(statement)).scalar())


def upload_expiry(now: datetime, ttl_seconds: int) -> datetime:
    return now + timedelta(seconds=ttl_seconds)
