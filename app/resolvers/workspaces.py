"""Mutations on workspaces and their members."""

from __future__ import annotations

import strawberry

from app.ids import expect_global_id
from app.schema.context import Info
from app.schema.enums import Role
from app.schema.extensions import mutation
from app.schema.types.member import MembershipType
from app.schema.types.workspace import WorkspaceType
from app.services import workspaces


@strawberry.input
class CreateWorkspaceInput:
    name: str


@strawberry.type
class CreateWorkspacePayload:
    workspace: WorkspaceType
    membership: MembershipType


@strawberry.input
class UpdateMemberRoleInput:
    membership_id: strawberry.ID
    role: Role


@strawberry.type
class UpdateMemberRolePayload:
    membership: MembershipType


@strawberry.input
class RemoveMemberInput:
    membership_id: strawberry.ID


@strawberry.type
class RemoveMemberPayload:
    removed_membership_id: strawberry.ID


@strawberry.type
class WorkspaceMutation:
    @mutation(description="Create a workspace; you become its OWNER.")
    async def create_workspace(
        self, info: Info, input: CreateWorkspaceInput
    ) -> CreateWorkspacePayload | None:
        ctx = info.context
        workspace, membership = await workspaces.create_workspace(
            ctx.session, ctx.actor, name=input.name
        )
        await ctx.reload_roles()
        return CreateWorkspacePayload(
            workspace=WorkspaceType.from_model(workspace),
            membership=MembershipType.from_model(membership),
        )

    @mutation(description="Change a member's role; a workspace keeps an owner.")
    async def update_member_role(
        self, info: Info, input: UpdateMemberRoleInput
    ) -> UpdateMemberRolePayload | None:
        ctx = info.context
        membership = await workspaces.update_member_role(
            ctx.session,
            ctx.actor,
            membership_id=expect_global_id(input.membership_id, "Membership", field="membershipId"),
            role=input.role,
        )
        await ctx.reload_roles()
        return UpdateMemberRolePayload(membership=MembershipType.from_model(membership))

    @mutation(description="Remove a member (ADMIN), or leave yourself.")
    async def remove_member(
        self, info: Info, input: RemoveMemberInput
    ) -> RemoveMemberPayload | None:
        ctx = info.context
        await workspaces.remove_member(
            ctx.session,
            ctx.actor,
            membership_id=expect_global_id(input.membership_id, "Membership", field="membershipId"),
        )
        await ctx.reload_roles()
        return RemoveMemberPayload(removed_membership_id=input.membership_id)
