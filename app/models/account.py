"""People and their credentials: users, API keys and refresh tokens."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from app.models.base import TimestampedModel, enum_column, foreign_key, primary_key, timestamp
from app.models.enums import ApiKeyScope


class User(TimestampedModel, table=True):
    __tablename__ = "user_account"

    id: uuid.UUID = primary_key()
    email: str = Field(max_length=320, unique=True)  # stored lower-cased
    name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    is_active: bool = Field(default=True)
    last_login_at: datetime | None = timestamp()


class ApiKey(TimestampedModel, table=True):
    """A long-lived credential; only a hash of the secret is kept, found by its prefix.

    It may be narrower than its user: read-only, bound to one workspace, or expiring.
    """

    __tablename__ = "api_key"

    id: uuid.UUID = primary_key()
    user_id: uuid.UUID = foreign_key("user_account.id", ondelete="CASCADE", nullable=False)
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=32, unique=True)
    secret_hash: str = Field(max_length=128)
    scope: ApiKeyScope = enum_column(ApiKeyScope, "api_key_scope", default=ApiKeyScope.FULL)
    workspace_id: uuid.UUID | None = foreign_key("workspace.id", ondelete="CASCADE")
    last_used_at: datetime | None = timestamp()
    expires_at: datetime | None = timestamp()
    revoked_at: datetime | None = timestamp()


class RefreshToken(TimestampedModel, table=True):
    """One link of a rotating refresh-token family; reuse of a rotated link revokes the family."""

    __tablename__ = "refresh_token"

    id: uuid.UUID = primary_key()
    user_id: uuid.UUID = foreign_key("user_account.id", ondelete="CASCADE", nullable=False)
    family_id: uuid.UUID = Field(index=True)
    token_hash: str = Field(max_length=128, unique=True)
    expires_at: datetime = timestamp(nullable=False)
    revoked_at: datetime | None = timestamp()
    replaced_by_id: uuid.UUID | None = foreign_key("refresh_token.id", ondelete="SET NULL")
    user_agent: str | None = Field(default=None, sa_column=sa.Column(sa.String(255)))
