"""Workspaces and memberships. A workspace always keeps at least one OWNER."""

from __future__ import annotations

import re
import secrets
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import ROLE_RANK, Actor
from app.errors import ConflictError, ForbiddenError, NotFoundError
from app.models import Membership, User, Workspace
from app.models.enums import Role
from app.services.access import get_visible
from app.services.validation import FieldErrors

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def _slug(name: str) -> str:
    base = _SLUG_STRIP.sub("-", name.lower()).strip("-")[:100] or "workspace"
    return f"{base}-{secrets.token_hex(3)}"


async def create_personal_workspace(session: AsyncSession, user: User) -> Workspace:
    workspace = Workspace(
        name=f"{user.name}'s workspace"[:100], slug=_slug(user.name), is_personal=True
    )
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user.id, role=Role.OWNER))
    await session.flush()
    return workspace


async def create_workspace(
    session: AsyncSession, actor: Actor, *, name: str
) -> tuple[Workspace, Membership]:
    actor.require_unbound("create workspaces")
    with FieldErrors() as errors:
        name = errors.text("name", name, min_length=1, max_length=100) or ""
    workspace = Workspace(name=name, slug=_slug(name))
    session.add(workspace)
    await session.flush()
    membership = Membership(workspace_id=workspace.id, user_id=actor.user_id, role=Role.OWNER)
    session.add(membership)
    await session.flush()
    return workspace, membership


async def _locked(
    session: AsyncSession, actor: Actor, membership_id: uuid.UUID
) -> tuple[Membership, Role | None]:
    """The membership and the actor's role in its workspace, read under the workspace's lock."""
    visible = await get_visible(session, actor, Membership, membership_id, what="Membership")
    await lock_workspace(session, visible.workspace_id)
    membership = await session.get(
        Membership, membership_id, with_for_update=True, populate_existing=True
    )
    if membership is None:
        raise NotFoundError("Membership not found.")
    return membership, await role_now(session, membership.workspace_id, actor.user_id)


async def lock_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    """Every change to a workspace's memberships (and invitations) locks its row first.

    Concurrent changes (two owners removing each other, an invitation accepted while it is
    revoked) then run one after the other and never deadlock.
    """
    await session.execute(
        sa.select(col(Workspace.id)).where(col(Workspace.id) == workspace_id).with_for_update()
    )


async def role_now(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> Role | None:
    """The user's role in the workspace as it is in the database now."""
    return await session.scalar(
        sa.select(col(Membership.role)).where(
            col(Membership.workspace_id) == workspace_id, col(Membership.user_id) == user_id
        )
    )


def require_role(role: Role | None, minimum: Role) -> Role:
    if role is None:
        raise NotFoundError("Membership not found.")
    if ROLE_RANK[role] < ROLE_RANK[minimum]:
        raise ForbiddenError(
            f"This needs the {minimum.value} role or higher; you are {role.value}.",
            requiredRole=minimum.name,
        )
    return role


async def update_member_role(
    session: AsyncSession, actor: Actor, *, membership_id: uuid.UUID, role: Role
) -> Membership:
    membership, current = await _locked(session, actor, membership_id)
    actor.require(membership.workspace_id, Role.ADMIN)  # what the credential may do
    actor_role = require_role(current, Role.ADMIN)  # what the member may do now
    check_can_grant(actor_role, membership.role)
    check_can_grant(actor_role, role)
    if membership.role is Role.OWNER and role is not Role.OWNER:
        await _keep_an_owner(session, membership)
    membership.role = role
    await session.flush()
    return membership


async def remove_member(
    session: AsyncSession, actor: Actor, *, membership_id: uuid.UUID
) -> Membership:
    """Admins remove members; anyone may leave. The last owner can do neither."""
    membership, current = await _locked(session, actor, membership_id)
    if membership.user_id != actor.user_id:
        actor.require(membership.workspace_id, Role.ADMIN)
        actor_role = require_role(current, Role.ADMIN)
        check_can_grant(actor_role, membership.role)
    if membership.role is Role.OWNER:
        await _keep_an_owner(session, membership)
    await session.delete(membership)
    await session.flush()
    return membership


def check_can_grant(actor_role: Role, role: Role) -> None:
    """Only owners touch the OWNER role; nobody grants or changes a role above their own."""
    if ROLE_RANK[role] > ROLE_RANK[actor_role] or (
        role is Role.OWNER and actor_role is not Role.OWNER
    ):
        raise ForbiddenError(
            f"Only an owner can manage the {role.name} role.", requiredRole="OWNER"
        )


async def _keep_an_owner(session: AsyncSession, leaving: Membership) -> None:
    statement = (
        sa.select(col(Membership.id))
        .where(
            col(Membership.workspace_id) == leaving.workspace_id,
            col(Membership.role) == Role.OWNER,
            col(Membership.id) != leaving.id,
        )
        .with_for_update()
    )
    if (await session.execute(statement)).first() is None:
        raise ConflictError("A workspace must keep at least one owner.")
