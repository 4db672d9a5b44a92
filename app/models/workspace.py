"""Workspaces (agency teams) and the memberships that give users a role in them."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from app.models.base import TimestampedModel, enum_column, foreign_key, primary_key
from app.models.enums import Role


class Workspace(TimestampedModel, table=True):
    __tablename__ = "workspace"

    id: uuid.UUID = primary_key()
    name: str = Field(max_length=100)
    slug: str = Field(max_length=120, unique=True)
    is_personal: bool = Field(default=False)


class Membership(TimestampedModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (sa.UniqueConstraint("workspace_id", "user_id"),)

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key("workspace.id", ondelete="CASCADE", nullable=False)
    user_id: uuid.UUID = foreign_key("user_account.id", ondelete="CASCADE", nullable=False)
    role: Role = enum_column(Role, "role")
