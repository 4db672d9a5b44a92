"""Mutations on workspaces and their members."""

from __future__ import annotations

import strawberry

from app.ids import expect_global_id
from app.models.enums import Role
from app.schema.extensions import mutation
from app.schema.context import Info
from app.schema.enums import RoleEnum
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
class AddMemberInput:
    workspace_id: strawberry.ID
    email: str
    role: RoleEnum = Role.VIEWER


@strawberry.type
class AddMemberPayload:
    membership: MembershipType


@strawberry.input
class UpdateMemberRoleInput:
    membership_id: strawberry.ID
    role: RoleEnum


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
        self, info: Info, input: CreateWorkspaceInput  # noqa: A002
    ) -> CreateWorkspacePayload:
        ctx = info.context
        workspace, membership = await workspaces.create_workspace(
            ctx.session, ctx.actor, name=input.name
        )
        return CreateWorkspacePayload(
            workspace=WorkspaceType.from_model(workspace),
            membership=MembershipType.from_model(membership),
        )

    @mutation(description="Add a user by email (ADMIN; only an OWNER adds owners).")
    async def add_member(self, info: Info, input: AddMemberInput) -> AddMemberPayload:  # noqa: A002
        ctx = info.context
        membership = await workspaces.add_member(
            ctx.session, ctx.actor,
            workspace_id=expect_global_id(input.workspace_id, "Workspace", field="workspaceId"),
            email=input.email, role=input.role,
        )
        return AddMemberPayload(membership=MembershipType.from_model(membership))

    @mutation(description="Change a member's role; a workspace keeps an owner.")
    async def update_member_role(
        self, info: Info, input: UpdateMemberRoleInput  # noqa: A002
    ) -> UpdateMemberRolePayload:
        ctx = info.context
        membership = await workspaces.update_member_role(
            ctx.session, ctx.actor,
            membership_id=expect_global_id(input.membership_id, "Membership", field="membershipId"),
            role=input.role,
        )
        return UpdateMemberRolePayload(membership=MembershipType.from_model(membership))

    @mutation(description="Remove a member (ADMIN), or leave yourself.")
    async def remove_member(
        self, info: Info, input: RemoveMemberInput  # noqa: A002
    ) -> RemoveMemberPayload:
        ctx = info.context
        await workspaces.remove_member(
            ctx.session, ctx.actor,
            membership_id=expect_global_id(input.membership_id, "Membership", field="membershipId"),
        )
        return RemoveMemberPayload(removed_membership_id=input.membership_id)
