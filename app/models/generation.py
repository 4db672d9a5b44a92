"""One provider call: an image, video, music or text generation and its outcome."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field

from app.models.base import (
    TimestampedModel,
    currency,
    enum_column,
    foreign_key,
    json_column,
    money,
    primary_key,
    timestamp,
)
from app.models.enums import GenerationKind, GenerationStatus


class Generation(TimestampedModel, table=True):
    """Attribution (workspace, client, campaign, job, scene) survives deletion of the parents
    through SET NULL, so the cost history stays whole."""

    __tablename__ = "generation"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "idempotency_key"),
        sa.Index("ix_generation_workspace_created", "workspace_id", "created_at", "id"),
        sa.Index("ix_generation_job_created", "job_id", "created_at", "id"),
        sa.Index("ix_generation_client_created", "client_id", "created_at", "id"),
        sa.Index("ix_generation_campaign_created", "campaign_id", "created_at", "id"),
        sa.Index("ix_generation_status", "status"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    client_id: uuid.UUID | None = foreign_key("client.id", ondelete="SET NULL", index=False)
    campaign_id: uuid.UUID | None = foreign_key("campaign.id", ondelete="SET NULL", index=False)
    job_id: uuid.UUID | None = foreign_key("job.id", ondelete="SET NULL", index=False)
    scene_id: uuid.UUID | None = foreign_key("scene.id", ondelete="SET NULL")
    created_by_id: uuid.UUID | None = foreign_key("user_account.id", ondelete="SET NULL")
    output_asset_id: uuid.UUID | None = foreign_key("asset.id", ondelete="SET NULL")
    kind: GenerationKind = enum_column(GenerationKind, "generation_kind")
    model: str = Field(max_length=120)
    provider: str = Field(max_length=32)  # the provider that runs it
    # Run by a stand-in (the offline local provider) for another provider's model: priced as
    # that model, but nobody was charged.
    simulated: bool = Field(default=False)
    input: dict[str, Any] = json_column(nullable=False, default_factory=dict)
    output: dict[str, Any] | None = json_column()
    status: GenerationStatus = enum_column(
        GenerationStatus, "generation_status", default=GenerationStatus.PENDING
    )
    provider_prediction_id: str | None = Field(default=None, max_length=128, index=True)
    workflow_id: str | None = Field(default=None, max_length=128)
    idempotency_key: str | None = Field(default=None, max_length=128)
    attempts: int = Field(default=0)
    submitted_at: datetime | None = timestamp()
    # Set once nothing runs upstream any more for a stopped generation (cancelled there, or
    # seen terminal); until then the recovery sweep keeps asking the provider to cancel.
    upstream_closed_at: datetime | None = timestamp()
    started_at: datetime | None = timestamp()
    completed_at: datetime | None = timestamp()
    predict_time_seconds: float | None = None
    estimated_cost: Decimal | None = money()
    cost: Decimal | None = money()
    currency: str = currency()
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, max_length=2000)
