"""Mutations on invitations: admins invite and revoke, invitees accept or decline."""

from __future__ import annotations

import uuid

import strawberry

from app.ids import expect_global_id
from app.schema.context import Info
from app.schema.enums import Role
from app.schema.extensions import mutation
from app.schema.types.invitation import InvitationType
from app.schema.types.member import MembershipType
from app.services import invitations


@strawberry.input
class InviteMemberInput:
    workspace_id: strawberry.ID
    email: str
    role: Role = Role.VIEWER


@strawberry.type
class InviteMemberPayload:
    invitation: InvitationType


@strawberry.input
class InvitationInput:
    invitation_id: strawberry.ID


@strawberry.type
class AcceptInvitationPayload:
    invitation: InvitationType
    membership: MembershipType


@strawberry.type
class InvitationPayload:
    invitation: InvitationType


@strawberry.type
class InvitationMutation:
    @mutation(
        description=(
            "Invite an email to the workspace (ADMIN; only an OWNER invites owners). The answer "
            "is the same whether or not the email has an account; inviting a pending email "
            "again renews its invitation. Nobody joins until they accept."
        )
    )
    async def invite_member(
        self, info: Info, input: InviteMemberInput
    ) -> InviteMemberPayload | None:
        ctx = info.context
        invitation = await invitations.invite(
            ctx.session,
            ctx.actor,
            workspace_id=expect_global_id(input.workspace_id, "Workspace", field="workspaceId"),
            email=input.email,
            role=input.role,
            now=ctx.now(),
        )
        return InviteMemberPayload(invitation=InvitationType.from_model(invitation))

    @mutation(description="Join the workspace an invitation addressed to you offers.")
    async def accept_invitation(
        self, info: Info, input: InvitationInput
    ) -> AcceptInvitationPayload | None:
        ctx = info.context
        invitation, membership = await invitations.accept(
            ctx.session, ctx.actor, invitation_id=_invitation_id(input), now=ctx.now()
        )
        await ctx.reload_roles()
        return AcceptInvitationPayload(
            invitation=InvitationType.from_model(invitation),
            membership=MembershipType.from_model(membership),
        )

    @mutation(description="Turn down an invitation addressed to you.")
    async def decline_invitation(
        self, info: Info, input: InvitationInput
    ) -> InvitationPayload | None:
        ctx = info.context
        invitation = await invitations.decline(
            ctx.session, ctx.actor, invitation_id=_invitation_id(input), now=ctx.now()
        )
        return InvitationPayload(invitation=InvitationType.from_model(invitation))

    @mutation(description="Withdraw a pending invitation (ADMIN).")
    async def revoke_invitation(
        self, info: Info, input: InvitationInput
    ) -> InvitationPayload | None:
        ctx = info.context
        invitation = await invitations.revoke(
            ctx.session, ctx.actor, invitation_id=_invitation_id(input), now=ctx.now()
        )
        return InvitationPayload(invitation=InvitationType.from_model(invitation))


def _invitation_id(input: InvitationInput) -> uuid.UUID:
    return expect_global_id(input.invitation_id, "Invitation", field="invitationId")
