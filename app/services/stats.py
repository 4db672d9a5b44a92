"""Client and campaign statistics, aggregated in SQL from the cost ledger and jobs.

``videoCount`` counts completed ad-video jobs; ``totalSpend`` sums actual ledger entries
(``simulatedSpend`` is the part of it run offline, which nobody was charged); ``averageCost``
is the actual spend of the completed jobs divided by their number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Campaign, Client, CostEntry, Job
from app.models.enums import CostKind, JobStatus

MICRO_PRECISION = Decimal("0.000001")
CENT = Decimal("0.01")
ZERO = Decimal(0)
NO_SPEND = Decimal("0.00")


def to_money(value: Any) -> Decimal:
    """A SQL sum as an exact Decimal (SQLite returns floats for NUMERIC sums).

    Six decimal places at most, two at least: ``0.00``, ``3.015``, ``0.000225``.
    """
    amount = Decimal(str(value)) if value is not None else ZERO
    amount = amount.quantize(MICRO_PRECISION).normalize()
    if amount.as_tuple().exponent > -2:  # type: ignore[operator]
        amount = amount.quantize(CENT)
    return amount


@dataclass(frozen=True, slots=True)
class ClientStats:
    campaign_count: int
    video_count: int
    total_spend: Decimal
    simulated_spend: Decimal = NO_SPEND


@dataclass(frozen=True, slots=True)
class CampaignStats:
    video_count: int
    total_spend: Decimal
    average_cost: Decimal
    simulated_spend: Decimal = NO_SPEND


def _completed_jobs(owner: Any) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count(col(Job.id)))
        .where(owner, col(Job.status) == JobStatus.COMPLETED)
        .scalar_subquery()
    )


def _actual_spend(owner: Any, *, simulated_only: bool = False) -> sa.ScalarSelect[Any]:
    only = col(CostEntry.simulated).is_(True) if simulated_only else sa.true()
    return (
        sa.select(sa.func.sum(col(CostEntry.amount)))
        .where(owner, col(CostEntry.kind) == CostKind.ACTUAL, only)
        .scalar_subquery()
    )


async def client_stats(
    session: AsyncSession, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ClientStats]:
    statement = sa.select(
        col(Client.id),
        sa.select(sa.func.count(col(Campaign.id)))
        .where(col(Campaign.client_id) == col(Client.id))
        .scalar_subquery(),
        _completed_jobs(col(Job.client_id) == col(Client.id)),
        _actual_spend(col(CostEntry.client_id) == col(Client.id)),
        _actual_spend(col(CostEntry.client_id) == col(Client.id), simulated_only=True),
    ).where(col(Client.id).in_(client_ids))
    rows = await session.execute(statement)
    return {
        row[0]: ClientStats(int(row[1] or 0), int(row[2] or 0), to_money(row[3]), to_money(row[4]))
        for row in rows
    }


async def campaign_stats(
    session: AsyncSession, campaign_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CampaignStats]:
    completed_spend = (
        sa.select(sa.func.sum(col(CostEntry.amount)))
        .join(Job, col(Job.id) == col(CostEntry.job_id))
        .where(
            col(Job.campaign_id) == col(Campaign.id),
            col(Job.status) == JobStatus.COMPLETED,
            col(CostEntry.kind) == CostKind.ACTUAL,
        )
        .scalar_subquery()
    )
    statement = sa.select(
        col(Campaign.id),
        _completed_jobs(col(Job.campaign_id) == col(Campaign.id)),
        _actual_spend(col(CostEntry.campaign_id) == col(Campaign.id)),
        completed_spend,
        _actual_spend(col(CostEntry.campaign_id) == col(Campaign.id), simulated_only=True),
    ).where(col(Campaign.id).in_(campaign_ids))
    stats = {}
    for campaign_id, videos, spend, completed, simulated in await session.execute(statement):
        count = int(videos or 0)
        average = to_money(completed) / count if count else ZERO
        stats[campaign_id] = CampaignStats(
            count, to_money(spend), to_money(average), to_money(simulated)
        )
    return stats


async def job_spend(session: AsyncSession, job_ids: list[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    """What each job's generations were charged, whatever the job's state (one statement)."""
    statement = (
        sa.select(col(CostEntry.job_id), sa.func.sum(col(CostEntry.amount)))
        .where(col(CostEntry.job_id).in_(job_ids), col(CostEntry.kind) == CostKind.ACTUAL)
        .group_by(col(CostEntry.job_id))
    )
    rows = await session.execute(statement)
    return {job_id: to_money(spent) for job_id, spent in rows if job_id is not None}
