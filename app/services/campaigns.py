"""Campaigns: create, partial update with status moves, delete. Archived means read-only."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.actor import Actor
from app.errors import ConflictError
from app.models import Campaign, Client, Job
from app.models.base import DEFAULT_CURRENCY
from app.models.enums import CampaignStatus, Role
from app.services.access import get_visible
from app.services.clients import ensure_no_running_jobs
from app.services.validation import FieldErrors, require_changes

ALLOWED_MOVES = {
    CampaignStatus.DRAFT: {CampaignStatus.ACTIVE, CampaignStatus.ARCHIVED},
    CampaignStatus.ACTIVE: {CampaignStatus.ARCHIVED},
    CampaignStatus.ARCHIVED: set(),
}
BRIEF_TEXTS = ("objective", "target_audience", "notes")
MAX_BUDGET = Decimal("1000000000")


def clean_brief(errors: FieldErrors, brief: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if brief is None:
        return None
    cleaned: dict[str, Any] = {
        name: errors.text(f"brief.{name}", brief.get(name), max_length=1000, required=False) or None
        for name in BRIEF_TEXTS
    }
    cleaned["key_messages"] = errors.text_list(
        "brief.keyMessages", brief.get("key_messages"), max_length=500
    )
    return cleaned


def clean_budget(errors: FieldErrors, amount: Any, currency: str | None) -> Decimal | None:
    if amount is None:
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        errors.add("budget.amount", "is not a number")
        return None
    if not value.is_finite() or value < 0 or value > MAX_BUDGET:
        errors.add("budget.amount", f"must be between 0 and {MAX_BUDGET}")
    elif value != value.quantize(Decimal("0.000001")):
        errors.add("budget.amount", "has more than 6 decimal places")
    if (currency or DEFAULT_CURRENCY) != DEFAULT_CURRENCY:
        errors.add("budget.currency", f"must be {DEFAULT_CURRENCY}")
    return value


async def create_campaign(
    session: AsyncSession,
    actor: Actor,
    *,
    client_id: uuid.UUID,
    name: str,
    goal: str,
    status: CampaignStatus = CampaignStatus.DRAFT,
    brief: Mapping[str, Any] | None = None,
    budget: Decimal | None = None,
    budget_currency: str | None = None,
) -> Campaign:
    client = await get_visible(session, actor, Client, client_id, what="Client")
    actor.require(client.workspace_id, Role.ADMIN if budget is not None else Role.EDITOR)
    with FieldErrors() as errors:
        name = errors.text("name", name, min_length=1, max_length=100) or ""
        goal = errors.text("goal", goal, min_length=1, max_length=500) or ""
        cleaned_brief = clean_brief(errors, brief)
        cleaned_budget = clean_budget(errors, budget, budget_currency)
        if status is CampaignStatus.ARCHIVED:
            errors.add("status", "a new campaign cannot start archived")
    campaign = Campaign(
        workspace_id=client.workspace_id,
        client_id=client.id,
        created_by_id=actor.user_id,
        name=name,
        goal=goal,
        status=status,
        brief=cleaned_brief,
        budget=cleaned_budget,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def update_campaign(
    session: AsyncSession, actor: Actor, *, campaign_id: uuid.UUID, changes: Mapping[str, Any]
) -> Campaign:
    campaign = await get_visible(session, actor, Campaign, campaign_id, what="Campaign")
    actor.require(campaign.workspace_id, Role.ADMIN if "budget" in changes else Role.EDITOR)
    require_changes(dict(changes))
    if campaign.status is CampaignStatus.ARCHIVED:
        raise ConflictError("An archived campaign cannot be changed.")
    with FieldErrors() as errors:
        _apply_changes(errors, campaign, changes)
    await session.flush()
    return campaign


def _apply_changes(errors: FieldErrors, campaign: Campaign, changes: Mapping[str, Any]) -> None:
    if "name" in changes:
        campaign.name = errors.text("name", changes["name"], min_length=1, max_length=100) or ""
    if "goal" in changes:
        campaign.goal = errors.text("goal", changes["goal"], min_length=1, max_length=500) or ""
    if "brief" in changes:
        campaign.brief = clean_brief(errors, changes["brief"])
    if "budget" in changes:
        campaign.budget = clean_budget(errors, changes["budget"], changes.get("budget_currency"))
    if "status" in changes:
        _move(errors, campaign, changes["status"])


def _move(errors: FieldErrors, campaign: Campaign, status: CampaignStatus | None) -> None:
    if status is None:
        errors.add("status", "is required")
    elif status is not campaign.status and status not in ALLOWED_MOVES[campaign.status]:
        raise ConflictError(
            f"A campaign cannot move from {campaign.status.name} to {status.name}.",
            fields={"status": f"cannot move from {campaign.status.name} to {status.name}"},
        )
    else:
        campaign.status = status


async def delete_campaign(
    session: AsyncSession, actor: Actor, *, campaign_id: uuid.UUID
) -> Campaign:
    campaign = await get_visible(session, actor, Campaign, campaign_id, what="Campaign")
    actor.require(campaign.workspace_id, Role.EDITOR)
    await ensure_no_running_jobs(session, Job.campaign_id == campaign.id, what="campaign")
    await session.delete(campaign)
    await session.flush()
    return campaign
