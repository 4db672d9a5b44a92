"""Accounts: registration, sign-in, refresh-token rotation and sign-out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor
from app.auth.revocation import credentials_changed
from app.auth.security import Security
from app.auth.throttle import CredentialAction
from app.auth.tokens import hash_secret, issue_access_token, new_refresh_token
from app.errors import UnauthenticatedError
from app.models import RefreshToken, User
from app.services.validation import EMAIL_PATTERN, FieldErrors
from app.services.workspaces import create_personal_workspace

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256


@dataclass(frozen=True, slots=True)
class SignIn:
    """What a successful sign-in or refresh hands back to the client."""

    user: User
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime
    refresh_token_id: uuid.UUID
    session_id: uuid.UUID


def normalize_email(email: str) -> str:
    return email.strip().lower()


async def register(
    session: AsyncSession,
    security: Security,
    *,
    email: str,
    password: str,
    name: str,
    now: datetime,
    address: str | None = None,
) -> User | None:
    """Create the user and their personal workspace (as OWNER); None if the email is taken.

    The caller answers the same either way, and the password is hashed either way, so
    neither the answer nor its timing tells whether an email has an account.
    """
    email = normalize_email(email)
    await security.limits.check(CredentialAction.REGISTER, address=address, account=email)
    with FieldErrors() as errors:
        if not EMAIL_PATTERN.match(email) or len(email) > 320:
            errors.add("email", "is not a valid email address")
        _check_password(errors, password)
        name = errors.text("name", name, min_length=1, max_length=100) or ""
    password_hash = await security.passwords.hash(password)
    if await _user_by_email(session, email) is not None:
        return None
    user = User(email=email, name=name, password_hash=password_hash)
    try:
        async with session.begin_nested():  # a concurrent registration of the same email
            session.add(user)
            await session.flush()
    except IntegrityError:
        return None
    await create_personal_workspace(session, user)
    return user


async def login(
    session: AsyncSession,
    security: Security,
    *,
    email: str,
    password: str,
    now: datetime,
    user_agent: str | None = None,
    address: str | None = None,
) -> SignIn:
    """Check the password; an unknown email costs the same time as a wrong password."""
    email = normalize_email(email)
    await security.limits.check(CredentialAction.LOGIN, address=address, account=email)
    user = await _user_by_email(session, email)
    if user is None or not user.is_active:
        await security.passwords.verify_unknown(password)
        raise _bad_credentials()
    if not await security.passwords.verify(user.password_hash, password):
        raise _bad_credentials()
    if security.passwords.needs_rehash(user.password_hash):
        user.password_hash = await security.passwords.hash(password)
    user.last_login_at = now
    return await _start_session(session, security, user, now=now, user_agent=user_agent)


async def refresh(
    session: AsyncSession,
    security: Security,
    *,
    refresh_token: str,
    now: datetime,
    address: str | None = None,
) -> SignIn:
    """Rotate a refresh token. Presenting a token that was already rotated revokes its family."""
    await security.limits.check_address(CredentialAction.REFRESH, address)
    token = await _token_by_secret(session, refresh_token)
    if token is None:
        raise UnauthenticatedError("The refresh token is invalid.", reason="TOKEN_INVALID")
    await security.limits.check_account(CredentialAction.REFRESH, token.user_id)
    if token.revoked_at is not None or not await _claim(session, token, now):
        await _revoke_family(session, token.family_id, now)
        raise UnauthenticatedError(
            "The refresh token has been revoked.", reason="TOKEN_REVOKED", keep_changes=True
        )
    if token.expires_at <= now:
        raise UnauthenticatedError("The refresh token has expired.", reason="TOKEN_EXPIRED")
    user = await session.get(User, token.user_id)
    if user is None or not user.is_active:
        raise UnauthenticatedError("The account is disabled.", reason="ACCOUNT_DISABLED")
    sign_in = await _start_session(
        session, security, user, now=now, family_id=token.family_id, user_agent=token.user_agent
    )
    token.replaced_by_id = sign_in.refresh_token_id
    return sign_in


async def logout(
    session: AsyncSession, *, actor: Actor | None, refresh_token: str | None, now: datetime
) -> bool:
    """End a sign-in: the refresh token's family (or the caller's session) is revoked."""
    family_id: uuid.UUID | None = None
    if refresh_token:
        token = await _token_by_secret(session, refresh_token)
        family_id = token.family_id if token is not None else None
    if family_id is None and actor is not None:
        family_id = actor.session_id
    if family_id is None:
        return False
    await _revoke_family(session, family_id, now)
    return True


def _check_password(errors: FieldErrors, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        errors.add("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    elif len(password) > MAX_PASSWORD_LENGTH:
        errors.add("password", f"must be at most {MAX_PASSWORD_LENGTH} characters")


def _bad_credentials() -> UnauthenticatedError:
    return UnauthenticatedError("Wrong email or password.", reason="BAD_CREDENTIALS")


async def _user_by_email(session: AsyncSession, email: str) -> User | None:
    statement = sa.select(User).where(col(User.email) == email)
    return (await session.execute(statement)).scalar_one_or_none()


async def _token_by_secret(session: AsyncSession, secret: str) -> RefreshToken | None:
    statement = sa.select(RefreshToken).where(col(RefreshToken.token_hash) == hash_secret(secret))
    return (await session.execute(statement)).scalar_one_or_none()


async def _claim(session: AsyncSession, token: RefreshToken, now: datetime) -> bool:
    """Revoke ``token`` only if nobody else did first (two racing refreshes: one wins)."""
    statement = (
        sa.update(RefreshToken)
        .where(col(RefreshToken.id) == token.id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(statement)
    token.revoked_at = now
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    statement = (
        sa.update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=now)
        .returning(col(RefreshToken.user_id))
        .execution_options(synchronize_session=False)
    )
    users = (await session.execute(statement)).scalars().all()
    credentials_changed(session, users)  # a bulk UPDATE: flush events do not see it


async def _start_session(
    session: AsyncSession,
    security: Security,
    user: User,
    *,
    now: datetime,
    family_id: uuid.UUID | None = None,
    user_agent: str | None = None,
) -> SignIn:
    family_id = family_id or uuid.uuid4()
    secret = new_refresh_token()
    refresh_expires_at = now + security.tokens.refresh_ttl
    token = RefreshToken(
        user_id=user.id,
        family_id=family_id,
        token_hash=hash_secret(secret),
        expires_at=refresh_expires_at,
        user_agent=(user_agent or "")[:255] or None,
    )
    session.add(token)
    await session.flush()
    access_token, access_expires_at = issue_access_token(
        security.tokens, user_id=user.id, session_id=family_id, now=now
    )
    return SignIn(
        user, access_token, access_expires_at, secret, refresh_expires_at, token.id, family_id
    )
