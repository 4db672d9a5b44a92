"""The ``ApiKey`` type: what a user may see of their keys (never the secret)."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from app.ids import encode_global_id
from app.models import ApiKey
from app.schema.types.common import Node


@strawberry.type(name="ApiKey", description="A long-lived credential; the secret is shown once.")
class ApiKeyType(Node):
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The key's public start, to recognise it.")
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None
    pk: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: ApiKey) -> ApiKeyType:
        return cls(
            id=strawberry.ID(encode_global_id("ApiKey", row.id)),
            name=row.name,
            prefix=row.prefix,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            pk=row.id,
        )
