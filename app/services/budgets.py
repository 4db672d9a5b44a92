"""Campaign budgets guard all spending: jobs, standalone generations, refinements, retries.

What remains of a budget is the budget less what was charged (the ledger's actual entries)
and less what work under way may still charge: each unfinished job's estimate beyond what it
has already been charged, and each unfinished standalone generation's estimate. The campaign
row is locked while this is decided, so two launches on one campaign cannot both spend the
same remainder.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.errors import BudgetExceededError
from app.models import Campaign, CostEntry, Generation, Job
from app.models.enums import GENERATION_FINAL, JOB_FINAL, CostKind

NO_JOB = uuid.UUID(int=0)


async def check(
    session: AsyncSession,
    campaign_id: uuid.UUID | None,
    amount: Decimal,
    *,
    excluding_job: uuid.UUID | None = None,
) -> None:
    """BUDGET_EXCEEDED when ``amount`` is more than what remains of the campaign's budget.

    ``excluding_job`` is a job whose own reservation the amount replaces (its approval)."""
    if campaign_id is None:
        return
    # FOR NO KEY UPDATE: launches on the campaign wait for each other, but rows that merely
    # refer to it (a generation, an asset, a ledger line; their key-share lock) do not, so a
    # step that holds the workspace's event lock and inserts one cannot deadlock with us.
    campaign = await session.get(Campaign, campaign_id, with_for_update={"key_share": True})
    if campaign is None or campaign.budget is None:
        return
    remaining = campaign.budget - await committed(session, campaign_id, excluding_job)
    if amount > remaining:
        left = max(remaining, Decimal(0))
        raise BudgetExceededError(
            f"This needs {amount} USD but only {left:.2f} USD of the budget remains.",
            estimate=str(amount),
            remaining=str(left),
        )


async def committed(
    session: AsyncSession, campaign_id: uuid.UUID, excluding_job: uuid.UUID | None = None
) -> Decimal:
    """Charged so far plus what unfinished work may still charge."""
    charged = await _sum(
        session,
        sa.select(sa.func.sum(col(CostEntry.amount))).where(
            col(CostEntry.campaign_id) == campaign_id, col(CostEntry.kind) == CostKind.ACTUAL
        ),
    )
    jobs = await _jobs_ahead(session, campaign_id, excluding_job)
    return charged + jobs + await _generations_ahead(session, campaign_id)


async def _jobs_ahead(
    session: AsyncSession, campaign_id: uuid.UUID, excluding_job: uuid.UUID | None
) -> Decimal:
    spent = (
        sa.select(sa.func.coalesce(sa.func.sum(col(CostEntry.amount)), 0))
        .where(col(CostEntry.job_id) == col(Job.id), col(CostEntry.kind) == CostKind.ACTUAL)
        .correlate(Job)
        .scalar_subquery()
    )
    ahead = sa.func.coalesce(col(Job.estimated_cost), 0) - spent
    statement = sa.select(sa.func.sum(sa.case((ahead > 0, ahead), else_=0))).where(
        col(Job.campaign_id) == campaign_id,
        col(Job.status).not_in(JOB_FINAL),
        col(Job.id) != (excluding_job or NO_JOB),
    )
    return await _sum(session, statement)


async def _generations_ahead(session: AsyncSession, campaign_id: uuid.UUID) -> Decimal:
    statement = sa.select(sa.func.sum(col(Generation.estimated_cost))).where(
        col(Generation.campaign_id) == campaign_id,
        col(Generation.job_id).is_(None),
        col(Generation.status).not_in(GENERATION_FINAL),
    )
    return await _sum(session, statement)


async def _sum(session: AsyncSession, statement: sa.Select[Any]) -> Decimal:
    value = await session.scalar(statement)
    return Decimal(str(value or 0))
