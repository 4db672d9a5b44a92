"""The ad-video job (brief -> storyboard -> approval -> scene videos -> music -> final MP4)."""

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
from app.models.enums import AspectRatio, JobStatus, SceneStatus, ShotType, Transition


class Job(TimestampedModel, table=True):
    __tablename__ = "job"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "idempotency_key"),
        sa.Index("ix_job_workspace_created", "workspace_id", "created_at", "id"),
        sa.Index("ix_job_campaign_created", "campaign_id", "created_at", "id"),
        sa.Index("ix_job_client_created", "client_id", "created_at", "id"),
        sa.Index("ix_job_status", "status"),
        sa.CheckConstraint("duration_seconds IN (15, 30, 60)", name="duration_allowed"),
        sa.CheckConstraint(
            "refinement_count >= 0 AND refinement_count <= 5", name="refinements_bounded"
        ),
        sa.CheckConstraint(
            "scene_count IS NULL OR scene_count BETWEEN 3 AND 7", name="scene_count"
        ),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    client_id: uuid.UUID = foreign_key("client.id", ondelete="CASCADE", nullable=False, index=False)
    campaign_id: uuid.UUID | None = foreign_key("campaign.id", ondelete="SET NULL", index=False)
    created_by_id: uuid.UUID | None = foreign_key("user_account.id", ondelete="SET NULL")
    final_video_asset_id: uuid.UUID | None = foreign_key("asset.id", ondelete="SET NULL")
    music_asset_id: uuid.UUID | None = foreign_key("asset.id", ondelete="SET NULL")
    # brief: ad basics
    product: str = Field(max_length=500)
    target_audience: str = Field(max_length=500)
    key_message: str = Field(max_length=1000)
    call_to_action: str = Field(max_length=200)
    # brief: creative direction
    style: str = Field(max_length=200)
    tone: str | None = Field(default=None, max_length=200)
    visual_elements: list[str] = json_column(nullable=False, default_factory=list)
    music_style: str | None = Field(default=None, max_length=200)
    # video specs and advanced settings
    duration_seconds: int = Field(default=30)
    aspect_ratio: AspectRatio = enum_column(
        AspectRatio, "aspect_ratio", default=AspectRatio.LANDSCAPE
    )
    resolution: str = Field(default="720p", max_length=16)
    model_preferences: dict[str, Any] = json_column(nullable=False, default_factory=dict)
    scene_count: int | None = None
    # lifecycle
    status: JobStatus = enum_column(JobStatus, "job_status", default=JobStatus.PENDING)
    progress: dict[str, Any] = json_column(nullable=False, default_factory=dict)
    approved: bool = Field(default=False)
    approved_at: datetime | None = timestamp()
    refinement_count: int = Field(default=0)
    feedback: str | None = Field(default=None, max_length=2000)
    estimated_cost: Decimal | None = money()
    actual_cost: Decimal = money(nullable=False, default=Decimal(0))
    currency: str = currency()
    error_code: str | None = Field(default=None, max_length=64)
    error_message: str | None = Field(default=None, max_length=2000)
    idempotency_key: str | None = Field(default=None, max_length=128)
    workflow_id: str | None = Field(default=None, max_length=128)
    # the arguments its workflow was started with: enough to start it again after a crash
    workflow_args: list[Any] = json_column(nullable=False, default_factory=list)
    last_event_seq: int = Field(default=0)
    started_at: datetime | None = timestamp()
    completed_at: datetime | None = timestamp()


class Scene(TimestampedModel, table=True):
    __tablename__ = "scene"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint("duration_seconds > 0", name="duration_positive"),
    )

    id: uuid.UUID = primary_key()
    job_id: uuid.UUID = foreign_key("job.id", ondelete="CASCADE", nullable=False, index=False)
    number: int
    description: str = Field(max_length=1000)
    script: str | None = Field(default=None, max_length=1000)
    image_prompt: str = Field(max_length=2000)
    duration_seconds: float
    shot_type: ShotType = enum_column(ShotType, "shot_type", default=ShotType.MEDIUM)
    transition: Transition = enum_column(Transition, "transition", default=Transition.CUT)
    status: SceneStatus = enum_column(SceneStatus, "scene_status", default=SceneStatus.PENDING)
    image_asset_id: uuid.UUID | None = foreign_key("asset.id", ondelete="SET NULL")
    video_asset_id: uuid.UUID | None = foreign_key("asset.id", ondelete="SET NULL")
    error_message: str | None = Field(default=None, max_length=500)
