"""Reading credentials from a request: Bearer, X-API-Key or the browser's cookie."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.auth.tokens import api_key_prefix

ACCESS_COOKIE = "adstudio_access"
REFRESH_COOKIE = "adstudio_refresh"


class CredentialKind(StrEnum):
    ACCESS_TOKEN = "access_token"  # noqa: S105 (a kind, not a secret)
    API_KEY = "api_key"


@dataclass(frozen=True, slots=True)
class Credentials:
    kind: CredentialKind
    secret: str


def read_credentials(headers: Mapping[str, str], cookies: Mapping[str, str]) -> Credentials | None:
    """Headers win over the cookie; a Bearer value that looks like an API key is one."""
    api_key = headers.get("x-api-key")
    if api_key:
        return Credentials(CredentialKind.API_KEY, api_key.strip())
    authorization = headers.get("authorization", "")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        value = value.strip()
        kind = CredentialKind.API_KEY if api_key_prefix(value) else CredentialKind.ACCESS_TOKEN
        return Credentials(kind, value)
    cookie = cookies.get(ACCESS_COOKIE)
    if cookie:
        return Credentials(CredentialKind.ACCESS_TOKEN, cookie)
    return None


def read_connection_params(params: Mapping[str, object] | None) -> Credentials | None:
    """Credentials sent in a WebSocket's ``connection_params``."""
    if not params:
        return None
    lowered = {str(k).lower(): v for k, v in params.items() if isinstance(v, str)}
    headers = {
        "authorization": lowered.get("authorization", ""),
        "x-api-key": lowered.get("x-api-key", lowered.get("apikey", "")),
    }
    token = lowered.get("token") or lowered.get("accesstoken")
    if token and not headers["authorization"]:
        headers["authorization"] = f"Bearer {token}"
    return read_credentials(headers, {})
