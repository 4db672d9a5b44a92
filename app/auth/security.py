"""The authentication settings one process shares: password hashing and token lifetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from app.auth.passwords import Passwords
from app.auth.tokens import TokenConfig
from app.settings import Settings


@dataclass(frozen=True, slots=True)
class Security:
    passwords: Passwords
    tokens: TokenConfig

    @classmethod
    def from_settings(cls, settings: Settings) -> Security:
        return cls(
            passwords=Passwords(
                time_cost=settings.argon2_time_cost, memory_cost_kib=settings.argon2_memory_kib
            ),
            tokens=TokenConfig(
                secret=settings.signing_key(),
                access_ttl=timedelta(minutes=settings.access_token_ttl_minutes),
                refresh_ttl=timedelta(days=settings.refresh_token_ttl_days),
            ),
        )
