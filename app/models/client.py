"""Clients of an agency and their campaigns."""

from __future__ import annotations

import uuid
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
)
from app.models.enums import CampaignStatus


class Client(TimestampedModel, table=True):
    """An agency's client.

    ``brand_guidelines`` holds colors, fonts, tone, restrictions and examples.
    """

    __tablename__ = "client"
    __table_args__ = (
        sa.Index("ix_client_workspace_created", "workspace_id", "created_at", "id"),
        sa.Index("ix_client_workspace_name", "workspace_id", "name", "id"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    created_by_id: uuid.UUID | None = foreign_key("user_account.id", ondelete="SET NULL")
    name: str = Field(max_length=100, index=True)
    description: str | None = Field(default=None, max_length=500)
    brand_guidelines: dict[str, Any] | None = json_column()


class Campaign(TimestampedModel, table=True):
    """A client's campaign. An archived campaign takes no new work."""

    __tablename__ = "campaign"
    __table_args__ = (
        sa.Index("ix_campaign_client_created", "client_id", "created_at", "id"),
        sa.Index("ix_campaign_client_name", "client_id", "name", "id"),
        sa.Index("ix_campaign_workspace_status", "workspace_id", "status"),
        sa.CheckConstraint("budget IS NULL OR budget >= 0", name="budget_non_negative"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    client_id: uuid.UUID = foreign_key("client.id", ondelete="CASCADE", nullable=False, index=False)
    created_by_id: uuid.UUID | None = foreign_key("user_account.id", ondelete="SET NULL")
    name: str = Field(max_length=100)
    goal: str = Field(max_length=500)
    status: CampaignStatus = enum_column(
        CampaignStatus, "campaign_status", default=CampaignStatus.DRAFT
    )
    brief: dict[str, Any] | None = json_column()
    budget: Decimal | None = money()
    budget_currency: str = currency()
