"""API keys: a secret shown once, stored as a hash, found by its prefix."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor
from app.auth.tokens import hash_secret, new_api_key
from app.errors import NotFoundError
from app.models import ApiKey
from app.services.validation import FieldErrors

MAX_EXPIRY_DAYS = 3650


async def create_api_key(
    session: AsyncSession, actor: Actor, *, name: str, expires_in_days: int | None, now: datetime
) -> tuple[ApiKey, str]:
    """Return the stored key and its secret; the secret is never retrievable again."""
    with FieldErrors() as errors:
        name = errors.text("name", name, min_length=1, max_length=100) or ""
        if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
            errors.add("expiresInDays", f"must be between 1 and {MAX_EXPIRY_DAYS}")
    prefix, secret = new_api_key()
    api_key = ApiKey(
        user_id=actor.user_id,
        name=name,
        prefix=prefix,
        secret_hash=hash_secret(secret),
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(api_key)
    await session.flush()
    return api_key, secret


async def list_api_keys(session: AsyncSession, actor: Actor) -> list[ApiKey]:
    statement = (
        sa.select(ApiKey)
        .where(col(ApiKey.user_id) == actor.user_id)
        .order_by(col(ApiKey.created_at).desc(), col(ApiKey.id).desc())
    )
    return list((await session.execute(statement)).scalars())


async def revoke_api_key(
    session: AsyncSession, actor: Actor, *, api_key_id: uuid.UUID, now: datetime
) -> ApiKey:
    api_key = await session.get(ApiKey, api_key_id)
    if api_key is None or api_key.user_id != actor.user_id:
        raise NotFoundError("API key not found.")
    if api_key.revoked_at is None:
        api_key.revoked_at = now
    await session.flush()
    return api_key
