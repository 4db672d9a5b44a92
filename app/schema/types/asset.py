"""The ``Asset`` interface and its four kinds; URLs are signed, expiring links."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from app.ids import encode_global_id
from app.models import Asset
from app.models.enums import AssetKind, AssetSource, AssetStatus
from app.schema.context import Info
from app.schema.types.common import Node, required
from app.storage.links import Variant

if TYPE_CHECKING:
    from app.schema.types.campaign import CampaignType
    from app.schema.types.client import ClientType
    from app.schema.types.workspace import WorkspaceType

ClientRef = Annotated["ClientType", strawberry.lazy("app.schema.types.client")]
CampaignRef = Annotated["CampaignType", strawberry.lazy("app.schema.types.campaign")]
WorkspaceRef = Annotated["WorkspaceType", strawberry.lazy("app.schema.types.workspace")]


@strawberry.interface(name="Asset", description="A stored file: image, video, audio or document.")
class AssetType(Node):
    id: strawberry.ID
    name: str
    kind: AssetKind
    format: str | None = strawberry.field(description="png, jpg, mp4, mov, mp3, wav, pdf...")
    mime_type: str | None
    size: int | None = strawberry.field(description="Bytes.")
    sha256: str | None
    tags: list[str]
    source: AssetSource
    status: AssetStatus
    status_reason: str | None = strawberry.field(description="Why it was REJECTED.")
    uploaded_at: datetime
    updated_at: datetime
    row: strawberry.Private[Asset]

    @strawberry.field(description="A signed link to the bytes (expires; fetch a fresh one).")
    def url(self, info: Info) -> str | None:
        return _link(info, self.row, Variant.ORIGINAL, self.row.storage_key)

    @strawberry.field
    async def workspace(self, info: Info) -> WorkspaceRef:
        from app.schema.types.workspace import WorkspaceType

        return await required(
            info.context.loaders.workspace,
            self.row.workspace_id,
            WorkspaceType.from_model,
            "Workspace",
        )

    @strawberry.field
    async def client(self, info: Info) -> ClientRef | None:
        from app.schema.types.client import ClientType

        if self.row.client_id is None:
            return None
        row = await info.context.loaders.client.load(self.row.client_id)
        return ClientType.from_model(row) if row is not None else None

    @strawberry.field
    async def campaign(self, info: Info) -> CampaignRef | None:
        from app.schema.types.campaign import CampaignType

        if self.row.campaign_id is None:
            return None
        row = await info.context.loaders.campaign.load(self.row.campaign_id)
        return CampaignType.from_model(row) if row is not None else None


def _link(info: Info, row: Asset, variant: Variant, key: str | None) -> str | None:
    if key is None or row.status is not AssetStatus.READY:
        return None
    runtime = info.context.runtime
    return runtime.links.media_url(row.id, variant, runtime.clock.now())


@strawberry.type(name="ImageAsset")
class ImageAssetType(AssetType):
    width: int | None
    height: int | None


@strawberry.type(name="VideoAsset")
class VideoAssetType(AssetType):
    width: int | None
    height: int | None
    duration: float | None = strawberry.field(description="Seconds.")

    @strawberry.field(description="A signed link to the poster frame (PNG).")
    def thumbnail_url(self, info: Info) -> str | None:
        return _link(info, self.row, Variant.THUMBNAIL, self.row.thumbnail_key)


@strawberry.type(name="AudioAsset")
class AudioAssetType(AssetType):
    duration: float | None = strawberry.field(description="Seconds.")

    @strawberry.field(description="A signed link to the waveform image (PNG).")
    def waveform_url(self, info: Info) -> str | None:
        return _link(info, self.row, Variant.WAVEFORM, self.row.waveform_key)


@strawberry.type(name="DocumentAsset")
class DocumentAssetType(AssetType):
    page_count: int | None

    @strawberry.field(description="A signed link to a preview image, when there is one.")
    def thumbnail_url(self, info: Info) -> str | None:
        return _link(info, self.row, Variant.THUMBNAIL, self.row.thumbnail_key)


def asset_from_model(row: Asset) -> AssetType:
    common: dict[str, Any] = {
        "id": strawberry.ID(encode_global_id("Asset", row.id)),
        "name": row.name,
        "kind": row.kind,
        "format": row.format,
        "mime_type": row.mime_type,
        "size": row.size_bytes,
        "sha256": row.sha256,
        "tags": list(row.tags),
        "source": row.source,
        "status": row.status,
        "status_reason": row.status_reason,
        "uploaded_at": row.created_at,
        "updated_at": row.updated_at,
        "row": row,
    }
    if row.kind is AssetKind.IMAGE:
        return ImageAssetType(**common, width=row.width, height=row.height)
    if row.kind is AssetKind.VIDEO:
        return VideoAssetType(
            **common, width=row.width, height=row.height, duration=row.duration_seconds
        )
    if row.kind is AssetKind.AUDIO:
        return AudioAssetType(**common, duration=row.duration_seconds)
    return DocumentAssetType(**common, page_count=row.page_count)


ASSET_TYPES = [ImageAssetType, VideoAssetType, AudioAssetType, DocumentAssetType]
