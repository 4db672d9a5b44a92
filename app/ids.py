"""Opaque global IDs: ``base64url("TypeName:uuid")``, the Relay way."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import NamedTuple

from app.errors import BadUserInputError


class GlobalId(NamedTuple):
    type_name: str
    id: uuid.UUID


def encode_global_id(type_name: str, value: uuid.UUID) -> str:
    raw = f"{type_name}:{value.hex}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_global_id(value: str, *, field: str = "id") -> GlobalId:
    """Decode a global ID, raising BAD_USER_INPUT (naming ``field``) when it is malformed."""
    try:
        padded = value + "=" * (-len(value) % 4)
        type_name, _, raw_id = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return GlobalId(type_name, uuid.UUID(hex=raw_id))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInputError("Invalid ID.", fields={field: "is not a valid ID"}) from None


def expect_global_id(value: str, type_name: str, *, field: str = "id") -> uuid.UUID:
    """The UUID inside ``value``, which must be a global ID of ``type_name``."""
    decoded = decode_global_id(value, field=field)
    if decoded.type_name != type_name:
        raise BadUserInputError(
            f"Expected the ID of a {type_name}.", fields={field: f"is not a {type_name} ID"}
        )
    return decoded.id
