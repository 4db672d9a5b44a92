"""Rate limits on the credential endpoints: per client address and per account.

Every attempt counts, failed or not, and is counted before any password is hashed or
checked: once an account is limited, even the right password waits for the window.
Counters live in the shared limiter (Redis when configured, so every process agrees).
"""

from __future__ import annotations

import hashlib
import ipaddress
import uuid
from dataclasses import dataclass
from enum import StrEnum

from app.ratelimit import RateLimiter
from app.settings import Settings

IPV6_NETWORK_BITS = 64  # one subscriber usually holds a whole /64


class CredentialAction(StrEnum):
    LOGIN = "login"
    REGISTER = "register"
    REFRESH = "refresh-token"
    CREATE_API_KEY = "create-api-key"


@dataclass(frozen=True, slots=True)
class Rate:
    per_address: str
    per_account: str


class CredentialLimits:
    def __init__(self, limiter: RateLimiter, rates: dict[CredentialAction, Rate]) -> None:
        self._limiter = limiter
        self._rates = rates

    @classmethod
    def from_settings(cls, settings: Settings, limiter: RateLimiter) -> CredentialLimits:
        s = settings
        return cls(
            limiter,
            {
                CredentialAction.LOGIN: Rate(s.login_address_rate_limit, s.login_rate_limit),
                CredentialAction.REGISTER: Rate(
                    s.register_address_rate_limit, s.register_rate_limit
                ),
                CredentialAction.REFRESH: Rate(s.refresh_address_rate_limit, s.refresh_rate_limit),
                CredentialAction.CREATE_API_KEY: Rate(
                    s.api_key_address_rate_limit, s.api_key_rate_limit
                ),
            },
        )

    async def check(
        self, action: CredentialAction, *, address: str | None, account: str | uuid.UUID
    ) -> None:
        """Count one attempt from ``address`` on ``account``; RATE_LIMITED past either rate."""
        await self.check_address(action, address)
        await self.check_account(action, account)

    async def check_address(self, action: CredentialAction, address: str | None) -> None:
        if address:
            await self._limiter.hit(
                f"{action}:address",
                address_key(address),
                self._rates[action].per_address,
                what=f"{action} attempts from this address",
            )

    async def check_account(self, action: CredentialAction, account: str | uuid.UUID) -> None:
        key = account if isinstance(account, uuid.UUID) else _digest(account)
        await self._limiter.hit(
            f"{action}:account",
            key,
            self._rates[action].per_account,
            what=f"{action} attempts for this account",
        )


def address_key(address: str) -> str:
    """The client an address stands for: IPv4 as is, IPv6 by its /64 network."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:100]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_NETWORK_BITS), strict=False))
    return str(ip)


def _digest(account: str) -> str:
    """Accounts (emails) are counted under a digest, so the counter store never holds them."""
    return hashlib.sha256(account.encode("utf-8", "surrogatepass")).hexdigest()
