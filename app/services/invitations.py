"""Invitations: an admin offers a role to an email; the invitee accepts or declines it.

Inviting answers the same whether or not the email has an account, and nobody joins a
workspace without accepting. Every change locks the workspace row first (as membership
changes do), so an acceptance racing a revocation, or two invitations racing the pending
cap, run one after the other.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor
from app.errors import ConflictError, NotFoundError
from app.models import Invitation, Membership, User
from app.models.enums import InvitationStatus, Role
from app.services.access import visible_invitations
from app.services.accounts import normalize_email
from app.services.listing import PendingInvitationFilter
from app.services.validation import EMAIL_PATTERN, FieldErrors
from app.services.workspaces import check_can_grant, lock_workspace, require_role, role_now

INVITATION_TTL = timedelta(days=7)
MAX_PENDING_PER_WORKSPACE = 200
MAX_LISTED_FOR_INVITEE = 100


def state(status: InvitationStatus, expires_at: datetime, now: datetime) -> InvitationStatus:
    """The status as users see it: a pending invitation past its expiry is EXPIRED."""
    if status is InvitationStatus.PENDING and expires_at <= now:
        return InvitationStatus.EXPIRED
    return status


def pending(now: datetime) -> list[sa.ColumnElement[bool]]:
    return PendingInvitationFilter(now).conditions()


async def invite(
    session: AsyncSession,
    actor: Actor,
    *,
    workspace_id: uuid.UUID,
    email: str,
    role: Role,
    now: datetime,
) -> Invitation:
    """A pending invitation for ``email`` (renewed if one is already pending)."""
    actor.require(workspace_id, Role.ADMIN)
    email = normalize_email(email)
    with FieldErrors() as errors:
        if not EMAIL_PATTERN.match(email) or len(email) > 320:
            errors.add("email", "is not a valid email address")
    await lock_workspace(session, workspace_id)
    check_can_grant(
        require_role(await role_now(session, workspace_id, actor.user_id), Role.ADMIN), role
    )
    if await _is_member(session, workspace_id, email):
        # Members' emails are already visible to admins, so this reveals nothing new.
        raise ConflictError("That person is already a member.", fields={"email": "is a member"})
    invitation = await _pending_for(session, workspace_id, email, now)
    if invitation is None:
        await _check_pending_cap(session, workspace_id, now)
        invitation = Invitation(workspace_id=workspace_id, email=email, role=role, expires_at=now)
        session.add(invitation)
    invitation.role = role
    invitation.invited_by_id = actor.user_id
    invitation.expires_at = now + INVITATION_TTL
    await session.flush()
    return invitation


async def accept(
    session: AsyncSession, actor: Actor, *, invitation_id: uuid.UUID, now: datetime
) -> tuple[Invitation, Membership]:
    """Join the workspace with the invited role; only the invitee may, while it is pending."""
    invitation = await _respond(session, actor, invitation_id, now, InvitationStatus.ACCEPTED)
    membership = Membership(
        workspace_id=invitation.workspace_id, user_id=actor.user_id, role=invitation.role
    )
    session.add(membership)
    await session.flush()
    return invitation, membership


async def decline(
    session: AsyncSession, actor: Actor, *, invitation_id: uuid.UUID, now: datetime
) -> Invitation:
    return await _respond(session, actor, invitation_id, now, InvitationStatus.DECLINED)


async def revoke(
    session: AsyncSession, actor: Actor, *, invitation_id: uuid.UUID, now: datetime
) -> Invitation:
    """Withdraw a pending invitation (ADMIN; only an OWNER withdraws an OWNER invitation)."""
    invitation = await _locked(session, actor, invitation_id)
    actor.require(invitation.workspace_id, Role.ADMIN)
    current = require_role(
        await role_now(session, invitation.workspace_id, actor.user_id), Role.ADMIN
    )
    check_can_grant(current, invitation.role)
    _require_pending(invitation, now)
    invitation.status = InvitationStatus.REVOKED
    invitation.responded_at = now
    await session.flush()
    return invitation


async def for_invitee(session: AsyncSession, actor: Actor, now: datetime) -> list[Invitation]:
    """The pending invitations addressed to the actor's email, newest first."""
    if actor.bounds.workspace_id is not None:
        return []
    own_email = sa.select(col(User.email)).where(col(User.id) == actor.user_id)
    statement = (
        sa.select(Invitation)
        .where(col(Invitation.email) == own_email.scalar_subquery(), *pending(now))
        .order_by(col(Invitation.created_at).desc(), col(Invitation.id).desc())
        .limit(MAX_LISTED_FOR_INVITEE)
    )
    return list((await session.execute(statement)).scalars())


async def _respond(
    session: AsyncSession,
    actor: Actor,
    invitation_id: uuid.UUID,
    now: datetime,
    answer: InvitationStatus,
) -> Invitation:
    actor.require_unbound("answer invitations")
    invitation = await _locked(session, actor, invitation_id)
    email = await session.scalar(sa.select(col(User.email)).where(col(User.id) == actor.user_id))
    if invitation.email != email:  # an admin of the workspace sees it but cannot answer it
        raise NotFoundError("Invitation not found.")
    _require_pending(invitation, now)
    if answer is InvitationStatus.ACCEPTED and await role_now(
        session, invitation.workspace_id, actor.user_id
    ):
        raise ConflictError("You are already a member of this workspace.")
    invitation.status = answer
    invitation.responded_at = now
    await session.flush()
    return invitation


async def _locked(session: AsyncSession, actor: Actor, invitation_id: uuid.UUID) -> Invitation:
    """The invitation if the actor may see it, re-read under its workspace's lock."""
    statement = sa.select(col(Invitation.workspace_id)).where(
        col(Invitation.id) == invitation_id, visible_invitations(actor)
    )
    workspace_id = await session.scalar(statement)
    if workspace_id is None:
        raise NotFoundError("Invitation not found.")
    await lock_workspace(session, workspace_id)
    invitation = await session.get(
        Invitation, invitation_id, with_for_update=True, populate_existing=True
    )
    if invitation is None:
        raise NotFoundError("Invitation not found.")
    return invitation


def _require_pending(invitation: Invitation, now: datetime) -> None:
    current = state(invitation.status, invitation.expires_at, now)
    if current is not InvitationStatus.PENDING:
        raise ConflictError(
            f"This invitation is {current.value}; it can no longer be answered or revoked.",
            reason=f"INVITATION_{current.name}",
        )


async def _is_member(session: AsyncSession, workspace_id: uuid.UUID, email: str) -> bool:
    statement = (
        sa.select(col(Membership.id))
        .join(User, col(User.id) == col(Membership.user_id))
        .where(col(Membership.workspace_id) == workspace_id, col(User.email) == email)
    )
    return (await session.execute(statement)).first() is not None


async def _pending_for(
    session: AsyncSession, workspace_id: uuid.UUID, email: str, now: datetime
) -> Invitation | None:
    statement = sa.select(Invitation).where(
        col(Invitation.workspace_id) == workspace_id, col(Invitation.email) == email, *pending(now)
    )
    return (await session.execute(statement)).scalars().first()


async def _check_pending_cap(session: AsyncSession, workspace_id: uuid.UUID, now: datetime) -> None:
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(Invitation)
        .where(col(Invitation.workspace_id) == workspace_id, *pending(now))
    )
    if (count or 0) >= MAX_PENDING_PER_WORKSPACE:
        raise ConflictError(
            f"A workspace has at most {MAX_PENDING_PER_WORKSPACE} pending invitations; "
            "revoke some first.",
            reason="TOO_MANY_INVITATIONS",
            limit=MAX_PENDING_PER_WORKSPACE,
        )
