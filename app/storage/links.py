"""Signed, expiring links to media and upload endpoints (HMAC-SHA256 over path and expiry).

Expiry times are rounded up to a whole window, so the same asset yields the same URL for a
while and browsers can cache it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlencode


class Variant(StrEnum):
    ORIGINAL = "original"
    THUMBNAIL = "thumbnail"
    WAVEFORM = "waveform"
    POSTER = "poster"  # a video's poster frame at full size, once it was an image reference
    UPLOAD = "upload"


class MediaLinks:
    def __init__(self, secret: str, base_url: str, ttl_seconds: int) -> None:
        self._key = hashlib.sha256(b"adstudio-media-links:" + secret.encode()).digest()
        self._base = base_url.rstrip("/")
        self._ttl = ttl_seconds

    def media_url(self, asset_id: uuid.UUID, variant: Variant, now: datetime) -> str:
        expires = (math.floor(now.timestamp() / self._ttl) + 2) * self._ttl
        return self._signed(f"/media/{asset_id.hex}/{variant.value}", asset_id, variant, expires)

    def upload_url(self, asset_id: uuid.UUID, expires_at: datetime) -> str:
        expires = int(expires_at.timestamp())
        return self._signed(f"/uploads/{asset_id.hex}", asset_id, Variant.UPLOAD, expires)

    def verify(
        self, asset_id: uuid.UUID, variant: Variant, expires: str, signature: str, now: datetime
    ) -> bool:
        """The signature matches and the link has not expired."""
        try:
            expiry = int(expires)
        except ValueError:
            return False
        expected = self._sign(asset_id, variant, expiry).encode()
        offered = signature.encode("utf-8", "surrogatepass")  # any text, never an exception
        return hmac.compare_digest(expected, offered) and now.timestamp() < expiry

    @staticmethod
    def expiry_of(expires: str) -> datetime | None:
        try:
            return datetime.fromtimestamp(int(expires), UTC)
        except (ValueError, OverflowError, OSError):
            return None

    def _signed(self, path: str, asset_id: uuid.UUID, variant: Variant, expires: int) -> str:
        query = urlencode({"expires": expires, "signature": self._sign(asset_id, variant, expires)})
        return f"{self._base}{path}?{query}"

    def _sign(self, asset_id: uuid.UUID, variant: Variant, expires: int) -> str:
        message = f"{asset_id.hex}:{variant.value}:{expires}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
