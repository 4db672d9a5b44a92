"""Tenancy in one place: what an actor may see, and loading a visible row or NOT_FOUND."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import ROLE_RANK, Actor
from app.errors import NotFoundError
from app.models import ApiKey, Invitation, Job, Membership, Scene, User
from app.models.enums import Role

M = TypeVar("M")


def visible(actor: Actor, model: Any) -> sa.ColumnElement[bool]:
    """The filter every read of a workspace-owned table applies (scenes: through their job)."""
    if model is Scene:
        return visible_scenes(actor)
    return model.workspace_id.in_(actor.workspace_ids)  # type: ignore[no-any-return]


def visible_scenes(actor: Actor) -> sa.ColumnElement[bool]:
    """A scene has no workspace of its own: it is visible when its job is."""
    jobs = sa.select(col(Job.id)).where(visible(actor, Job))
    return col(Scene.job_id).in_(jobs)


def visible_users(actor: Actor) -> sa.ColumnElement[bool]:
    """Users who share a workspace with the actor (and the actor)."""
    shares = (
        sa.select(col(Membership.id))
        .where(
            col(Membership.user_id) == col(User.id),
            col(Membership.workspace_id).in_(actor.workspace_ids),
        )
        .exists()
    )
    return sa.or_(col(User.id) == actor.user_id, shares)


def visible_api_keys(actor: Actor) -> sa.ColumnElement[bool]:
    """The actor's own keys; a key bound to a workspace sees only keys bound to the same one."""
    own = col(ApiKey.user_id) == actor.user_id
    if actor.bounds.workspace_id is None:
        return own
    return sa.and_(own, col(ApiKey.workspace_id) == actor.bounds.workspace_id)


def visible_invitations(actor: Actor) -> sa.ColumnElement[bool]:
    """Admins see their workspaces' invitations; anyone sees those addressed to their email."""
    admin_of = [ws for ws, role in actor.roles.items() if ROLE_RANK[role] >= ROLE_RANK[Role.ADMIN]]
    condition: sa.ColumnElement[bool] = col(Invitation.workspace_id).in_(admin_of)
    if actor.bounds.workspace_id is None:  # a key bound to one workspace sees only that one
        own_email = sa.select(col(User.email)).where(col(User.id) == actor.user_id)
        condition = sa.or_(condition, col(Invitation.email) == own_email.scalar_subquery())
    return condition


async def get_visible(
    session: AsyncSession,
    actor: Actor,
    model: type[M],
    row_id: uuid.UUID,
    *,
    what: str,
    for_update: bool = False,
) -> M:
    """The row if the actor can see it; otherwise NOT_FOUND, as if it did not exist.

    ``for_update`` locks it (and re-reads it) for a change that also records an event: the
    engine's writes lock the same row, so the two never number their events alike.
    """
    statement = sa.select(model).where(
        model.id == row_id,  # type: ignore[attr-defined]
        visible(actor, model),
    )
    if for_update:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    row = (await session.execute(statement)).scalar_one_or_none()
    if row is None:
        raise NotFoundError(f"{what} not found.")
    return row
