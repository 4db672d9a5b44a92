"""The ``Workspace`` type: a team, its clients and its members."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from app.ids import encode_global_id
from app.models import Client, Invitation, Membership, Workspace
from app.pagination import Direction
from app.schema.connections import connection_field, resolve_connection
from app.schema.context import Info
from app.schema.enums import Role
from app.schema.types.asset_connection import assets_of
from app.schema.types.common import Connection, Node
from app.schema.types.generation_connection import generations_of
from app.schema.types.job_connection import jobs_of
from app.services.listing import ClientFilter, PendingInvitationFilter

if TYPE_CHECKING:
    from app.schema.types.client import ClientType
    from app.schema.types.invitation import InvitationType
    from app.schema.types.member import MembershipType

ClientRef = Annotated["ClientType", strawberry.lazy("app.schema.types.client")]
InvitationRef = Annotated["InvitationType", strawberry.lazy("app.schema.types.invitation")]
MembershipRef = Annotated["MembershipType", strawberry.lazy("app.schema.types.member")]


@strawberry.input(description="Narrow a workspace's clients.")
class ClientFilterInput:
    search: str | None = strawberry.field(default=None, description="Part of the name.")

    def to_filter(self) -> ClientFilter:
        return ClientFilter(search=self.search)


@strawberry.type(name="Workspace", description="An agency team; everything belongs to one.")
class WorkspaceType(Node):
    id: strawberry.ID
    name: str
    slug: str
    is_personal: bool
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, row: Workspace) -> WorkspaceType:
        return cls(
            id=strawberry.ID(encode_global_id("Workspace", row.id)),
            name=row.name,
            slug=row.slug,
            is_personal=row.is_personal,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
        )

    @strawberry.field(description="The signed-in user's role here.")
    def viewer_role(self, info: Info) -> Role | None:
        return info.context.actor.role_in(self.pk)

    clients = connection_field(
        model=Client,
        node=ClientRef,
        to_node=lambda row: _client_type().from_model(row),
        parent="workspace_id",
        filter_input=ClientFilterInput,
        empty_filter=ClientFilter(),
        description="The workspace's clients. Default order: newest first.",
    )

    generations = generations_of("workspace_id")

    jobs = jobs_of("workspace_id")

    assets = assets_of("workspace_id")

    @strawberry.field(description="Who belongs to the workspace, oldest membership first.")
    async def members(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MembershipRef]:
        from app.schema.types.member import MembershipType

        return await resolve_connection(
            info,
            model=Membership,
            parent="workspace_id",
            parent_id=self.pk,
            to_node=MembershipType.from_model,
            first=first,
            after=after,
            last=last,
            before=before,
            default_direction=Direction.ASC,
        )

    @strawberry.field(
        description=(
            "Invitations waiting for an answer, newest first (ADMIN; FORBIDDEN for other roles)."
        )
    )
    async def invitations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[InvitationRef] | None:
        from app.schema.types.invitation import InvitationType

        info.context.actor.require(self.pk, Role.ADMIN)
        return await resolve_connection(
            info,
            model=Invitation,
            parent="workspace_id",
            parent_id=self.pk,
            to_node=InvitationType.from_model,
            first=first,
            after=after,
            last=last,
            before=before,
            list_filter=PendingInvitationFilter(info.context.now()),
        )


def _client_type() -> type[ClientType]:
    from app.schema.types.client import ClientType

    return ClientType
