"""Media and documents a workspace owns, uploaded, generated or imported."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import (
    TimestampedModel,
    UTCDateTime,
    enum_column,
    foreign_key,
    json_column,
    primary_key,
    timestamp,
    utcnow,
)
from app.models.enums import AssetKind, AssetSource, AssetStatus


class Asset(TimestampedModel, table=True):
    """One stored file. Bytes live in storage under ``storage_key`` (content-addressed).

    Assets are never deleted by cascade: deleting one must release its stored bytes, so
    client and campaign deletion only detach them (SET NULL).
    """

    __tablename__ = "asset"
    __table_args__ = (
        sa.Index("ix_asset_workspace_created", "workspace_id", "created_at", "id"),
        sa.Index("ix_asset_campaign_created", "campaign_id", "created_at", "id"),
        sa.Index("ix_asset_client_created", "client_id", "created_at", "id"),
        sa.Index("ix_asset_workspace_sha256", "workspace_id", "sha256"),
        sa.CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="size_non_negative"),
        sa.UniqueConstraint("workspace_id", "idempotency_key"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    client_id: uuid.UUID | None = foreign_key("client.id", ondelete="SET NULL", index=False)
    campaign_id: uuid.UUID | None = foreign_key("campaign.id", ondelete="SET NULL", index=False)
    created_by_id: uuid.UUID | None = foreign_key("user_account.id", ondelete="SET NULL")
    kind: AssetKind = enum_column(AssetKind, "asset_kind")
    source: AssetSource = enum_column(AssetSource, "asset_source", default=AssetSource.UPLOADED)
    status: AssetStatus = enum_column(AssetStatus, "asset_status", default=AssetStatus.PENDING)
    status_reason: str | None = Field(default=None, max_length=500)
    name: str = Field(max_length=255)
    mime_type: str | None = Field(default=None, max_length=127)
    format: str | None = Field(default=None, max_length=16)
    size_bytes: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger()))
    sha256: str | None = Field(default=None, max_length=64)
    storage_key: str | None = Field(default=None, max_length=255, index=True)
    width: int | None = None
    height: int | None = None
    duration_seconds: float | None = None
    page_count: int | None = None
    tags: list[str] = json_column(nullable=False, default_factory=list)
    thumbnail_key: str | None = Field(default=None, max_length=255, index=True)
    waveform_key: str | None = Field(default=None, max_length=255, index=True)
    # A video's poster frame at full size (PNG), made the first time it is an image reference.
    poster_key: str | None = Field(default=None, max_length=255, index=True)
    source_url: str | None = Field(default=None, max_length=2048)
    upload_expires_at: datetime | None = timestamp()
    idempotency_key: str | None = Field(default=None, max_length=128)


class Blob(SQLModel, table=True):
    """Stored bytes under one content-addressed key, shared by every asset that points at it.

    Writers and the releaser lock this row, so bytes are never removed while a new asset
    starts to reference them.
    """

    __tablename__ = "blob"

    key: str = Field(primary_key=True, max_length=255)
    workspace_id: uuid.UUID = foreign_key("workspace.id", ondelete="CASCADE", nullable=False)
    sha256: str = Field(max_length=64)
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger(), nullable=False))
    mime_type: str = Field(max_length=127)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime(),
        nullable=False,
    )
