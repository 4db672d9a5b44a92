"""The ``ApiKey`` type: what a user may see of their keys (never the secret)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.ids import encode_global_id
from app.models import ApiKey
from app.schema.context import Info
from app.schema.enums import ApiKeyScope
from app.schema.types.common import Node

if TYPE_CHECKING:
    from app.schema.types.workspace import WorkspaceType

WorkspaceRef = Annotated["WorkspaceType", strawberry.lazy("app.schema.types.workspace")]


@strawberry.type(name="ApiKey", description="A long-lived credential; the secret is shown once.")
class ApiKeyType(Node):
    id: strawberry.ID
    name: str
    prefix: str = strawberry.field(description="The key's public start, to recognise it.")
    scope: ApiKeyScope
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None = strawberry.field(
        description="After this the key is refused (UNAUTHENTICATED); null: it never expires."
    )
    revoked_at: datetime | None
    pk: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(
        description="The one workspace the key is bound to; null: every workspace of its user."
    )
    async def workspace(self, info: Info) -> WorkspaceRef | None:
        from app.schema.types.workspace import WorkspaceType

        if self.workspace_id is None:
            return None
        row = await info.context.loaders.workspace.load(self.workspace_id)
        return WorkspaceType.from_model(row) if row is not None else None

    @classmethod
    def from_model(cls, row: ApiKey) -> ApiKeyType:
        return cls(
            id=strawberry.ID(encode_global_id("ApiKey", row.id)),
            name=row.name,
            prefix=row.prefix,
            scope=row.scope,
            created_at=row.created_at,
            last_used_at=row.last_used_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            pk=row.id,
            workspace_id=row.workspace_id,
        )
