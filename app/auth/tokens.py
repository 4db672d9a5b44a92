"""Access tokens (short-lived JWTs), refresh-token and API-key secrets (stored as hashes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt

from app.errors import UnauthenticatedError

ALGORITHM = "HS256"
AUDIENCE = "adstudio"
ISSUER = "adstudio"
API_KEY_PREFIX = "ads_"
HEX = frozenset("0123456789abcdef")
REFRESH_TOKEN_PREFIX = "adsr_"  # noqa: S105 (a marker that lets logs recognise and redact one)


@dataclass(frozen=True, slots=True)
class TokenConfig:
    secret: str = field(repr=False)
    access_ttl: timedelta
    refresh_ttl: timedelta


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    session_id: uuid.UUID
    expires_at: datetime


def issue_access_token(
    config: TokenConfig, *, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime
) -> tuple[str, datetime]:
    expires_at = now + config.access_ttl
    claims = {
        "sub": user_id.hex,
        "sid": session_id.hex,
        "typ": "access",
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "aud": AUDIENCE,
        "iss": ISSUER,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, config.secret, algorithm=ALGORITHM), expires_at


ISSUED_AT_LEEWAY_SECONDS = 60


def decode_access_token(config: TokenConfig, token: str, now: datetime) -> AccessClaims:
    """Verify signature, audience, issuer and (against ``now``) expiry; else UNAUTHENTICATED."""
    try:
        claims = jwt.decode(
            token,
            config.secret,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            # Times are checked below against ``now`` (the clock port), not the system clock.
            options={
                "require": ["exp", "iat", "sub", "sid"],
                "verify_exp": False,
                "verify_iat": False,
            },
        )
        if claims.get("typ") != "access":
            raise jwt.InvalidTokenError("not an access token")
        if int(claims["iat"]) > now.timestamp() + ISSUED_AT_LEEWAY_SECONDS:
            raise jwt.ImmatureSignatureError("issued in the future")
        parsed = AccessClaims(
            user_id=uuid.UUID(hex=claims["sub"]),
            session_id=uuid.UUID(hex=claims["sid"]),
            expires_at=datetime.fromtimestamp(int(claims["exp"]), UTC),
        )
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise UnauthenticatedError("The access token is invalid.", reason="TOKEN_INVALID") from None
    if parsed.expires_at <= now:
        raise UnauthenticatedError("The access token has expired.", reason="TOKEN_EXPIRED")
    return parsed


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_refresh_token() -> str:
    return REFRESH_TOKEN_PREFIX + new_secret()


def hash_secret(secret: str) -> str:
    """A SHA-256 digest: secrets here are 256-bit random values, so no slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secrets_match(secret: str, expected_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), expected_hash)


def new_api_key() -> tuple[str, str]:
    """Return ``(prefix, full_key)``; the prefix finds the row, the full key is hashed."""
    prefix = API_KEY_PREFIX + secrets.token_hex(6)
    return prefix, f"{prefix}_{new_secret()}"


def api_key_prefix(key: str) -> str | None:
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, sep, rest = key.partition("_")[2].partition("_")
    if not sep or not rest or len(prefix) != 12 or not all(c in HEX for c in prefix):
        return None
    return API_KEY_PREFIX + prefix
