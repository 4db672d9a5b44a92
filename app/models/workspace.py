"""Workspaces (agency teams) and the memberships that give users a role in them."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from app.models.base import (
    TimestampedModel,
    enum_column,
    foreign_key,
    primary_key,
    timestamp,
)
from app.models.enums import InvitationStatus, Role


class Workspace(TimestampedModel, table=True):
    __tablename__ = "workspace"

    id: uuid.UUID = primary_key()
    name: str = Field(max_length=100)
    slug: str = Field(max_length=120, unique=True)
    is_personal: bool = Field(default=False)


class Membership(TimestampedModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (
        sa.UniqueConstraint("workspace_id", "user_id"),
        sa.Index("ix_membership_workspace_created", "workspace_id", "created_at", "id"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    user_id: uuid.UUID = foreign_key("user_account.id", ondelete="CASCADE", nullable=False)
    role: Role = enum_column(Role, "role")


class Invitation(TimestampedModel, table=True):
    """An offer of a role in a workspace to whoever holds an email; joining needs acceptance.

    It answers the same whether or not the email has an account; the invitee sees it once
    signed in with that email and accepts or declines it. An admin may revoke it while it is
    pending; after ``expires_at`` it can no longer be accepted.
    """

    __tablename__ = "invitation"
    __table_args__ = (
        sa.Index("ix_invitation_workspace_created", "workspace_id", "created_at", "id"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    email: str = Field(max_length=320, index=True)  # stored lower-cased
    role: Role = enum_column(Role, "role")
    status: InvitationStatus = enum_column(
        InvitationStatus, "invitation_status", default=InvitationStatus.PENDING
    )
    invited_by_id: uuid.UUID | None = foreign_key("user_account.id", ondelete="SET NULL")
    expires_at: datetime = timestamp(nullable=False)
    responded_at: datetime | None = timestamp()
