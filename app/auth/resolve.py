"""Turning credentials into an :class:`Actor`: once per request, cached or in two statements."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor, AuthMethod, KeyBounds
from app.auth.credentials import CredentialKind, Credentials
from app.auth.tokens import (
    AccessClaims,
    TokenConfig,
    api_key_prefix,
    decode_access_token,
    secrets_match,
)
from app.errors import UnauthenticatedError
from app.models import ApiKey, Membership, RefreshToken, User
from app.models.enums import ApiKeyScope, Role
from app.runtime import Runtime

API_KEY_TOUCH_INTERVAL = timedelta(minutes=1)


async def authenticate(runtime: Runtime, credentials: Credentials) -> Actor:
    """The actor the credentials prove: from the credential cache, else from the database.

    A miss reads in a short transaction of its own, before the operation runs. Access tokens
    only read; an API key may record its last use, so it gets a writer.
    """
    cache = runtime.credentials
    now = runtime.clock.now()
    actor = cache.lookup(credentials, now)
    if actor is not None:
        return actor
    config = runtime.security.tokens
    claims = None
    if credentials.kind is CredentialKind.API_KEY:
        owner = cache.owner(credentials)
    else:
        claims = decode_access_token(config, credentials.secret, now)
        owner = claims.user_id
    stamp = cache.stamp(owner) if owner is not None else None  # before the database is read
    writes = credentials.kind is CredentialKind.API_KEY
    maker = runtime.sessionmaker if writes else runtime.read_sessionmaker
    async with maker() as session, session.begin():
        actor = await resolve_actor(session, config, credentials, now, claims=claims)
    if stamp is not None:
        cache.store(credentials, actor, stamp, now)
    elif writes:
        cache.remember_owner(credentials, actor.user_id)  # the next lookup can be cached
    return actor


async def resolve_actor(
    session: AsyncSession,
    config: TokenConfig,
    credentials: Credentials,
    now: datetime,
    *,
    claims: AccessClaims | None = None,
) -> Actor:
    """The actor the credentials prove, or UNAUTHENTICATED with the reason."""
    if credentials.kind is CredentialKind.API_KEY:
        api_key = await _live_api_key(session, credentials.secret, now)
        bounds = key_bounds(api_key)
        roles = bounds.restrict(await _roles(session, api_key.user_id))
        return Actor(
            api_key.user_id, AuthMethod.API_KEY, roles, bounds=bounds, expires_at=api_key.expires_at
        )
    if claims is None:
        claims = decode_access_token(config, credentials.secret, now)
    if not await _session_is_live(session, claims.user_id, claims.session_id, now):
        raise UnauthenticatedError("The session has ended; sign in again.", reason="TOKEN_REVOKED")
    roles = await _roles(session, claims.user_id)
    return Actor(
        claims.user_id,
        AuthMethod.ACCESS_TOKEN,
        roles,
        claims.session_id,
        expires_at=claims.expires_at,
    )


async def _session_is_live(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> bool:
    """The user is active and the sign-in (refresh-token family) is not revoked or expired."""
    live_token = (
        sa.select(col(RefreshToken.id))
        .where(
            col(RefreshToken.family_id) == session_id,
            col(RefreshToken.user_id) == user_id,
            col(RefreshToken.revoked_at).is_(None),
            col(RefreshToken.expires_at) > now,
        )
        .exists()
    )
    statement = sa.select(col(User.id)).where(
        col(User.id) == user_id, col(User.is_active), live_token
    )
    return (await session.execute(statement)).first() is not None


def key_bounds(api_key: ApiKey) -> KeyBounds:
    return KeyBounds(
        read_only=api_key.scope is ApiKeyScope.READ_ONLY,
        workspace_id=api_key.workspace_id,
        expires_at=api_key.expires_at,
    )


async def _live_api_key(session: AsyncSession, key: str, now: datetime) -> ApiKey:
    prefix = api_key_prefix(key)
    invalid = UnauthenticatedError("The API key is invalid.", reason="API_KEY_INVALID")
    if prefix is None:
        raise invalid
    statement = (
        sa.select(ApiKey)
        .join(User, col(User.id) == col(ApiKey.user_id))
        .where(col(ApiKey.prefix) == prefix, col(User.is_active))
    )
    api_key = (await session.execute(statement)).scalar_one_or_none()
    if api_key is None or not secrets_match(key, api_key.secret_hash):
        raise invalid
    if api_key.revoked_at is not None:
        raise UnauthenticatedError("The API key has been revoked.", reason="API_KEY_REVOKED")
    if api_key.expires_at is not None and api_key.expires_at <= now:
        raise UnauthenticatedError("The API key has expired.", reason="API_KEY_EXPIRED")
    if api_key.last_used_at is None or now - api_key.last_used_at > API_KEY_TOUCH_INTERVAL:
        api_key.last_used_at = now
    return api_key


async def _roles(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, Role]:
    statement = sa.select(col(Membership.workspace_id), col(Membership.role)).where(
        col(Membership.user_id) == user_id
    )
    return {row.workspace_id: row.role for row in await session.execute(statement)}


async def actor_for_sign_in(
    session: AsyncSession, user_id: uuid.UUID, session_id: uuid.UUID
) -> Actor:
    """The actor a just-completed sign-in stands for (to resolve its payload)."""
    return Actor(user_id, AuthMethod.ACCESS_TOKEN, await _roles(session, user_id), session_id)


async def with_current_roles(session: AsyncSession, actor: Actor) -> Actor:
    """The same actor with roles re-read (after a change to its own memberships)."""
    roles = actor.bounds.restrict(await _roles(session, actor.user_id))
    return Actor(
        actor.user_id,
        actor.method,
        roles,
        actor.session_id,
        expires_at=actor.expires_at,
        bounds=actor.bounds,
    )
