"""The ``Invitation`` type: an offer of a role in a workspace, answered by its invitee."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.ids import encode_global_id
from app.models import Invitation
from app.schema.context import Info
from app.schema.enums import InvitationStatus, Role
from app.schema.types.common import Node
from app.services.invitations import state

if TYPE_CHECKING:
    from app.schema.types.workspace import WorkspaceType

WorkspaceRef = Annotated["WorkspaceType", strawberry.lazy("app.schema.types.workspace")]


@strawberry.type(
    name="Invitation",
    description=(
        "An offer of a role in a workspace to an email. Its admins and its invitee see it; "
        "the invitee joins only by accepting it."
    ),
)
class InvitationType(Node):
    id: strawberry.ID
    email: str = strawberry.field(description="Who is invited (lower-cased).")
    role: Role = strawberry.field(description="The role the invitee gets on accepting.")
    created_at: datetime
    expires_at: datetime = strawberry.field(description="After this it can't be accepted.")
    responded_at: datetime | None = strawberry.field(
        description="When it was accepted, declined or revoked."
    )
    pk: strawberry.Private[uuid.UUID]
    stored_status: strawberry.Private[InvitationStatus]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: Invitation) -> InvitationType:
        return cls(
            id=strawberry.ID(encode_global_id("Invitation", row.id)),
            email=row.email,
            role=row.role,
            created_at=row.created_at,
            expires_at=row.expires_at,
            responded_at=row.responded_at,
            pk=row.id,
            stored_status=row.status,
            workspace_id=row.workspace_id,
        )

    @strawberry.field(description="PENDING until answered; EXPIRED once past expiresAt.")
    def status(self, info: Info) -> InvitationStatus:
        return state(self.stored_status, self.expires_at, info.context.now())

    @strawberry.field(description="The workspace's name, shown to the invitee before joining.")
    async def workspace_name(self, info: Info) -> str:
        return (await info.context.loaders.invitation_labels.load(self.pk)).workspace_name

    @strawberry.field(description="Who sent it; null if their account is gone.")
    async def invited_by_name(self, info: Info) -> str | None:
        return (await info.context.loaders.invitation_labels.load(self.pk)).invited_by_name

    @strawberry.field(description="The workspace; null until you are a member of it.")
    async def workspace(self, info: Info) -> WorkspaceRef | None:
        from app.schema.types.workspace import WorkspaceType

        row = await info.context.loaders.workspace.load(self.workspace_id)
        return WorkspaceType.from_model(row) if row is not None else None
