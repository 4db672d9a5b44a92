"""What one process shares for authentication: hashing, token lifetimes, credential limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.auth.passwords import Passwords
from app.auth.throttle import CredentialLimits
from app.auth.tokens import TokenConfig
from app.ratelimit import RateLimiter
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Security:
    passwords: Passwords
    tokens: TokenConfig
    limits: CredentialLimits

    @classmethod
    def from_settings(cls, settings: Settings, limiter: RateLimiter) -> Security:
        return cls(
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_cost_kib=settings.argon2_memory_kib,
                concurrency=settings.password_hash_concurrency,
            ),
            tokens=TokenConfig(
                secret=settings.signing_key(),
                access_ttl=timedelta(minutes=settings.access_token_ttl_minutes),
                refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
            ),
            limits=CredentialLimits.from_settings(settings, limiter),
        )
