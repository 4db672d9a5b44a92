"""API keys: a secret shown once, stored as a hash, found by its prefix.

A key may be narrower than its user: read-only, bound to one workspace, expiring. A key
never mints a broader one: a key created over an API key is at most as broad as it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor, KeyBounds
from app.auth.throttle import CredentialAction, CredentialLimits
from app.auth.tokens import hash_secret, new_api_key
from app.errors import ForbiddenError, NotFoundError
from app.models import ApiKey
from app.models.enums import ApiKeyScope, Role
from app.services.access import visible_api_keys
from app.services.validation import FieldErrors

MAX_EXPIRY_DAYS = 3650


@dataclass(frozen=True, slots=True)
class NewApiKey:
    name: str
    scope: ApiKeyScope = ApiKeyScope.FULL
    workspace_id: uuid.UUID | None = None
    expires_at: datetime | None = None
    expires_in_days: int | None = None


async def create_api_key(
    session: AsyncSession,
    actor: Actor,
    limits: CredentialLimits,
    request: NewApiKey,
    *,
    now: datetime,
    address: str | None = None,
) -> tuple[ApiKey, str]:
    """Return the stored key and its secret; the secret is never retrievable again."""
    await limits.check(CredentialAction.CREATE_API_KEY, address=address, account=actor.user_id)
    with FieldErrors() as errors:
        name = errors.text("name", request.name, min_length=1, max_length=100) or ""
        expires_at = _expiry(errors, request, now)
    bounds = _within(actor, request, expires_at)
    prefix, secret = new_api_key()
    api_key = ApiKey(
        user_id=actor.user_id,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        scope=ApiKeyScope.READ_ONLY if bounds.read_only else ApiKeyScope.FULL,
        workspace_id=bounds.workspace_id,
        expires_at=bounds.expires_at,
    )
    session.add(api_key)
    await session.flush()
    return api_key, secret


def _expiry(errors: FieldErrors, request: NewApiKey, now: datetime) -> datetime | None:
    """``expiresAt`` (a zone-less time is UTC) or ``expiresInDays`` from now, within bounds."""
    days, at = request.expires_in_days, request.expires_at
    if days is not None and at is not None:
        errors.add("expiresAt", "give expiresAt or expiresInDays, not both")
        return None
    if days is not None:
        if not 1 <= days <= MAX_EXPIRY_DAYS:
            errors.add("expiresInDays", f"must be between 1 and {MAX_EXPIRY_DAYS}")
            return None
        return now + timedelta(days=days)
    if at is None:
        return None
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    if not now < at <= now + timedelta(days=MAX_EXPIRY_DAYS):
        errors.add("expiresAt", f"must be in the future and within {MAX_EXPIRY_DAYS} days")
    return at


def _within(actor: Actor, request: NewApiKey, expires_at: datetime | None) -> KeyBounds:
    """The new key's bounds, refused if broader than the credential creating it."""
    parent = actor.bounds
    workspace_id = request.workspace_id or parent.workspace_id
    if workspace_id is not None:
        actor.require(workspace_id, Role.VIEWER)  # not a member (or beyond this key): NOT_FOUND
    read_only = request.scope is ApiKeyScope.READ_ONLY
    if parent.read_only and not read_only:
        raise _broader("a read-only key cannot create a full one")
    if parent.expires_at is not None:
        if expires_at is not None and expires_at > parent.expires_at:
            raise _broader("a key cannot outlive the key that creates it")
        expires_at = expires_at or parent.expires_at
    return KeyBounds(read_only=read_only, workspace_id=workspace_id, expires_at=expires_at)


def _broader(why: str) -> ForbiddenError:
    return ForbiddenError(
        f"The new key would be broader than this one: {why}.", reason="API_KEY_SCOPE"
    )


async def list_api_keys(session: AsyncSession, actor: Actor) -> list[ApiKey]:
    statement = (
        sa.select(ApiKey)
        .where(visible_api_keys(actor))
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    )
    return list((await session.execute(statement)).scalars())


async def revoke_api_key(
    session: AsyncSession, actor: Actor, *, api_key_id: uuid.UUID, now: datetime
) -> ApiKey:
    statement = sa.select(ApiKey).where(col(ApiKey.id) == api_key_id, visible_api_keys(actor))
    api_key = (await session.execute(statement)).scalar_one_or_none()
    if api_key is None:
        raise NotFoundError("API key not found.")
    if api_key.revoked_at is None:
        api_key.revoked_at = now
    await session.flush()
    return api_key
