"""``User`` and ``Membership``: people and their roles in workspaces."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.ids import encode_global_id
from app.models import Membership, User
from app.schema.context import Info
from app.schema.enums import Role
from app.schema.types.common import Node, required
from app.services import invitations

if TYPE_CHECKING:
    from app.schema.types.invitation import InvitationType
    from app.schema.types.workspace import WorkspaceType

InvitationRef = Annotated["InvitationType", strawberry.lazy("app.schema.types.invitation")]
WorkspaceRef = Annotated["WorkspaceType", strawberry.lazy("app.schema.types.workspace")]


@strawberry.type(name="User", description="A person with an account.")
class UserType(Node):
    id: strawberry.ID
    email: str
    name: str
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: User) -> UserType:
        return cls(
            id=strawberry.ID(encode_global_id("User", row.id)),
            email=row.email,
            name=row.name,
            created_at=row.created_at,
            pk=row.id,
        )

    @strawberry.field(description="The user's memberships in workspaces you share.")
    async def memberships(self, info: Info) -> list[MembershipType]:
        rows = await info.context.loaders.user_memberships.load(self.pk)
        return [MembershipType.from_model(row) for row in rows]

    @strawberry.field(
        description=(
            "Pending invitations addressed to this user's email, newest first (at most 100). "
            "Only on yourself (`viewer`): null for anyone else."
        )
    )
    async def invitations(self, info: Info) -> list[InvitationRef] | None:
        from app.schema.types.invitation import InvitationType

        ctx = info.context
        if self.pk != ctx.actor.user_id:
            return None
        rows = await invitations.for_invitee(ctx.session, ctx.actor, ctx.now())
        return [InvitationType.from_model(row) for row in rows]


@strawberry.type(name="Membership", description="A user's role in a workspace.")
class MembershipType(Node):
    id: strawberry.ID
    role: Role
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]
    user_id: strawberry.Private[uuid.UUID]
    workspace_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: Membership) -> MembershipType:
        return cls(
            id=strawberry.ID(encode_global_id("Membership", row.id)),
            role=row.role,
            created_at=row.created_at,
            pk=row.id,
            user_id=row.user_id,
            workspace_id=row.workspace_id,
        )

    @strawberry.field
    async def user(self, info: Info) -> UserType:
        return await required(info.context.loaders.user, self.user_id, UserType.from_model, "User")

    @strawberry.field
    async def workspace(self, info: Info) -> WorkspaceRef:
        from app.schema.types.workspace import WorkspaceType

        return await required(
            info.context.loaders.workspace, self.workspace_id, WorkspaceType.from_model, "Workspace"
        )
