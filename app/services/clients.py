"""Clients: create, partial update, delete (refused while a job of theirs is running)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor
from app.errors import ConflictError
from app.models import Client, Job
from app.models.enums import JOB_FINAL, Role
from app.services.access import get_visible
from app.services.validation import FieldErrors, require_changes

BRAND_LISTS = ("colors", "fonts", "restrictions", "examples")


def clean_brand_guidelines(
    errors: FieldErrors, guidelines: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    if guidelines is None:
        return None
    cleaned: dict[str, Any] = {
        name: errors.text_list(f"brandGuidelines.{name}", guidelines.get(name))
        for name in BRAND_LISTS
    }
    cleaned["tone"] = (
        errors.text("brandGuidelines.tone", guidelines.get("tone"), max_length=200, required=False)
        or None
    )
    return cleaned


async def create_client(
    session: AsyncSession,
    actor: Actor,
    *,
    workspace_id: uuid.UUID,
    name: str,
    description: str | None = None,
    brand_guidelines: Mapping[str, Any] | None = None,
) -> Client:
    actor.require(workspace_id, Role.EDITOR)
    with FieldErrors() as errors:
        name = errors.text("name", name, min_length=1, max_length=100) or ""
        description = errors.text("description", description, max_length=500, required=False)
        guidelines = clean_brand_guidelines(errors, brand_guidelines)
    client = Client(
        workspace_id=workspace_id,
        created_by_id=actor.user_id,
        name=name,
        description=description or None,
        brand_guidelines=guidelines,
    )
    session.add(client)
    await session.flush()
    return client


async def update_client(
    session: AsyncSession, actor: Actor, *, client_id: uuid.UUID, changes: Mapping[str, Any]
) -> Client:
    """Apply the given fields only; ``None`` clears an optional field."""
    client = await get_visible(session, actor, Client, client_id, what="Client")
    actor.require(client.workspace_id, Role.EDITOR)
    require_changes(dict(changes))
    with FieldErrors() as errors:
        if "name" in changes:
            client.name = errors.text("name", changes["name"], min_length=1, max_length=100) or ""
        if "description" in changes:
            text = errors.text(
                "description", changes["description"], max_length=500, required=False
            )
            client.description = text or None
        if "brand_guidelines" in changes:
            client.brand_guidelines = clean_brand_guidelines(errors, changes["brand_guidelines"])
    await session.flush()
    return client


async def delete_client(session: AsyncSession, actor: Actor, *, client_id: uuid.UUID) -> Client:
    """Admins delete a client with its campaigns and jobs; assets stay, detached."""
    client = await get_visible(session, actor, Client, client_id, what="Client")
    actor.require(client.workspace_id, Role.ADMIN)
    await ensure_no_running_jobs(session, col(Job.client_id) == client.id, what="client")
    await session.delete(client)
    await session.flush()
    return client


async def ensure_no_running_jobs(session: AsyncSession, condition: Any, *, what: str) -> None:
    statement = sa.select(col(Job.id)).where(condition, col(Job.status).not_in(JOB_FINAL)).limit(1)
    if (await session.execute(statement)).first() is not None:
        raise ConflictError(f"This {what} has a job in progress; cancel it first.")
