"""Mutations on assets: multipart upload, upload URLs, URL import, edits and deletion."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import strawberry
from strawberry.file_uploads import Upload

from app.after_commit import after_commit
from app.errors import BadUserInputError
from app.ids import expect_global_id
from app.media.errors import MediaRejected
from app.media.fetch import Fetched, UrlGuard, fetch
from app.media.intake import Received
from app.media.probe import Probe
from app.media.rules import Declared, sanitize_filename
from app.models import Asset
from app.models.enums import AssetKind, AssetSource
from app.schema.changes import given
from app.schema.context import Context, Info
from app.schema.extensions import mutation
from app.schema.types.asset import AssetType, asset_from_model
from app.services import assets, blobs
from app.services.assets import NewAsset, clean_tags, store_asset, upload_expiry
from app.services.ingest import receive_and_probe
from app.services.placement import Placement, place
from app.services.validation import FieldErrors

CHUNK = 256 * 1024


@strawberry.input(description="Where the asset goes and how it is labelled.")
class AssetPlacementInput:
    name: str | None = strawberry.field(default=None, description="Defaults to the file name.")
    kind: AssetKind | None = strawberry.field(
        default=None, description="Checked against the bytes."
    )
    workspace_id: strawberry.ID | None = None
    client_id: strawberry.ID | None = None
    campaign_id: strawberry.ID | None = None
    tags: list[str] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="The same key (in the workspace) returns the asset the first request made, "
        "without sending or fetching the bytes again; with another request it is CONFLICT.",
    )


@strawberry.input
class CreateAssetUploadInput(AssetPlacementInput):
    size: int = strawberry.field(default=0, description="Exact size in bytes of what you will PUT.")
    content_type: str | None = None


@strawberry.input
class ImportAssetFromUrlInput(AssetPlacementInput):
    url: str = ""


@strawberry.type
class AssetPayload:
    asset: AssetType


@strawberry.type(description="PUT the raw bytes to uploadUrl before expiresAt.")
class CreateAssetUploadPayload:
    asset: AssetType
    upload_url: str
    expires_at: datetime


@strawberry.input(description="Only the fields you give change; null detaches client/campaign.")
class UpdateAssetInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    tags: list[str] | None = strawberry.UNSET
    client_id: strawberry.ID | None = strawberry.UNSET
    campaign_id: strawberry.ID | None = strawberry.UNSET


@strawberry.input
class DeleteAssetInput:
    id: strawberry.ID


@strawberry.type
class DeleteAssetPayload:
    deleted_asset_id: strawberry.ID


async def _count_upload(ctx: Context) -> None:
    await ctx.runtime.limiter.hit("upload", ctx.actor.user_id, ctx.settings.upload_rate_limit)


async def _new_asset(
    ctx: Context,
    data: AssetPlacementInput,
    filename: str,
    source: AssetSource,
    url: str | None = None,
) -> NewAsset:
    placement = await place(
        ctx.session,
        ctx.actor,
        workspace_id=_id(data.workspace_id, "Workspace", "workspaceId"),
        client_id=_id(data.client_id, "Client", "clientId"),
        campaign_id=_id(data.campaign_id, "Campaign", "campaignId"),
    )
    with FieldErrors() as errors:
        tags = clean_tags(errors, data.tags)
    name = sanitize_filename(data.name or filename)
    return NewAsset(placement, name, tags, source, url, _key(data))


def _key(data: AssetPlacementInput) -> str | None:
    return (data.idempotency_key or None) and data.idempotency_key[:128]


async def _check_placement(ctx: Context, data: AssetPlacementInput) -> Placement:
    """The caller may add assets there (a short read of its own: no lock while fetching)."""
    async with ctx.runtime.read_sessionmaker() as session:
        return await place(
            session,
            ctx.actor,
            workspace_id=_id(data.workspace_id, "Workspace", "workspaceId"),
            client_id=_id(data.client_id, "Client", "clientId"),
            campaign_id=_id(data.campaign_id, "Campaign", "campaignId"),
        )


async def _replayed(ctx: Context, data: AssetPlacementInput, replay: assets.Replay) -> Asset | None:
    """The asset an earlier request with the same key made, checked before any work."""
    if not _key(data):
        return None
    placement = await _check_placement(ctx, data)
    return await assets.replayed(ctx.session, placement.workspace_id, _key(data), replay)


async def _fetch_and_probe(
    ctx: Context, input: ImportAssetFromUrlInput
) -> tuple[Received, Probe, Fetched]:
    """Fetch, check and probe the file within one deadline for the whole import."""
    deadline = ctx.settings.import_timeout_seconds
    guard = UrlGuard(ctx.settings.import_allowed_networks)
    try:
        async with asyncio.timeout(deadline), fetch(input.url, guard, deadline) as fetched:
            declared = Declared(fetched.filename, input.kind, fetched.mime, fetched.size)
            received, probe = await receive_and_probe(
                ctx.runtime.storage,
                ctx.runtime.caps,
                declared,
                fetched.response.aiter_bytes(CHUNK),
            )
    except TimeoutError:
        raise MediaRejected(f"the import took longer than {deadline:g} s") from None
    return received, probe, fetched


def _id(value: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
    return expect_global_id(value, type_name, field=field) if value else None


async def _chunks(upload: Upload) -> AsyncIterator[bytes]:
    """The uploaded file's bytes; the spooled part is closed (and deleted) afterwards."""
    try:
        while chunk := await upload.read(CHUNK):  # type: ignore[attr-defined]
            yield chunk
    finally:
        await upload.close()  # type: ignore[attr-defined]


@strawberry.type
class AssetMutation:
    @mutation(
        description="Upload a file (GraphQL multipart request; send Apollo-Require-Preflight)."
    )
    async def upload_asset(
        self,
        info: Info,
        file: Upload,
        input: AssetPlacementInput,
    ) -> AssetPayload | None:
        ctx = info.context
        if not callable(getattr(file, "read", None)):  # a value in the JSON, not a file part
            raise BadUserInputError(
                "`file` must be a file part of a multipart request.",
                fields={"file": "is not a file"},
            )
        filename = getattr(file, "filename", None) or "upload"
        declared = Declared(filename, input.kind, getattr(file, "content_type", None))
        try:
            name = sanitize_filename(input.name or filename)
            earlier = await _replayed(ctx, input, assets.Replay(AssetSource.UPLOADED, name))
            if earlier is None:
                await _count_upload(ctx)
        except BaseException:
            await file.close()  # type: ignore[attr-defined]
            raise
        if earlier is not None:
            await file.close()  # type: ignore[attr-defined]
            return AssetPayload(asset=asset_from_model(earlier))
        # Checked and probed before the transaction opens: no lock is held while bytes move.
        received, probe = await receive_and_probe(
            ctx.runtime.storage, ctx.runtime.caps, declared, _chunks(file)
        )
        try:
            new = await _new_asset(ctx, input, filename, AssetSource.UPLOADED)
            asset = await store_asset(
                ctx.session, ctx.runtime.storage, ctx.actor.user_id, new, received, probe
            )
        finally:
            await asyncio.to_thread(received.path.unlink, True)
        return AssetPayload(asset=asset_from_model(asset))

    @mutation(description="Start a large upload: PUT the bytes to the returned URL.")
    async def create_asset_upload(
        self,
        info: Info,
        input: CreateAssetUploadInput,
    ) -> CreateAssetUploadPayload | None:
        ctx = info.context
        name = sanitize_filename(input.name or "upload")
        replay = assets.Replay(AssetSource.UPLOADED, name, size=input.size)
        earlier = await _replayed(ctx, input, replay)
        if earlier is not None:
            expires = earlier.upload_expires_at or ctx.now()
            return CreateAssetUploadPayload(
                asset=asset_from_model(earlier),
                upload_url=ctx.runtime.links.upload_url(earlier.id, expires),
                expires_at=expires,
            )
        await _count_upload(ctx)
        new = await _new_asset(ctx, input, input.name or "upload", AssetSource.UPLOADED)
        expires_at = upload_expiry(ctx.now(), ctx.settings.upload_url_ttl_seconds)
        asset = await assets.create_pending_upload(
            ctx.session,
            ctx.actor,
            new,
            kind=input.kind,
            size=input.size,
            mime_type=input.content_type,
            caps=ctx.runtime.caps,
            expires_at=expires_at,
        )
        url = ctx.runtime.links.upload_url(asset.id, expires_at)
        return CreateAssetUploadPayload(
            asset=asset_from_model(asset), upload_url=url, expires_at=expires_at
        )

    @mutation(description="Copy a file from a public URL into the workspace.")
    async def import_asset_from_url(
        self,
        info: Info,
        input: ImportAssetFromUrlInput,
    ) -> AssetPayload | None:
        ctx = info.context
        replay = assets.Replay(AssetSource.IMPORTED, url=input.url)
        earlier = await _replayed(ctx, input, replay)
        if earlier is not None:
            return AssetPayload(asset=asset_from_model(earlier))
        await _count_upload(ctx)
        await _check_placement(ctx, input)  # the caller's rights before any byte is fetched
        received, probe, fetched = await _fetch_and_probe(ctx, input)
        try:  # the transaction opens only once the file is here and checked
            new = await _new_asset(ctx, input, fetched.filename, AssetSource.IMPORTED, input.url)
            asset = await store_asset(
                ctx.session, ctx.runtime.storage, ctx.actor.user_id, new, received, probe
            )
        finally:
            await asyncio.to_thread(received.path.unlink, True)
        return AssetPayload(asset=asset_from_model(asset))

    @mutation(description="Rename, retag or move an asset within its workspace (EDITOR).")
    async def update_asset(
        self,
        info: Info,
        input: UpdateAssetInput,
    ) -> AssetPayload | None:
        ctx = info.context
        changes = given(input, "name", "tags", "client_id", "campaign_id")
        for key, type_name in (("client_id", "Client"), ("campaign_id", "Campaign")):
            if changes.get(key) is not None:
                changes[key] = expect_global_id(changes[key], type_name, field=key)
        asset = await assets.update_asset(
            ctx.session, ctx.actor, asset_id=expect_global_id(input.id, "Asset"), changes=changes
        )
        return AssetPayload(asset=asset_from_model(asset))

    @mutation(description="Delete an asset (CONFLICT while a running job uses it).")
    async def delete_asset(
        self,
        info: Info,
        input: DeleteAssetInput,
    ) -> DeleteAssetPayload | None:
        ctx = info.context
        keys = await assets.delete_asset(
            ctx.session, ctx.actor, asset_id=expect_global_id(input.id, "Asset")
        )
        runtime = ctx.runtime

        async def release() -> None:
            async with runtime.sessionmaker() as session, session.begin():
                await blobs.release_blobs(session, runtime.storage, keys)

        after_commit(ctx.session, release)
        return DeleteAssetPayload(deleted_asset_id=input.id)
