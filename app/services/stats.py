"""Client and campaign statistics, aggregated in SQL from the cost ledger and jobs.

``videoCount`` counts completed ad-video jobs; ``totalSpend`` sums actual ledger entries;
``averageCost`` is the actual spend of the completed jobs divided by their number.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Campaign, Client, CostEntry, Job
from app.models.enums import CostKind, JobStatus

MICRO_PRECISION = Decimal("0.000001")
CENT = Decimal("0.01")
ZERO = Decimal(0)


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


@dataclass(frozen=True, slots=True)
class CampaignStats:
    video_count: int
    total_spend: Decimal
    average_cost: Decimal


def _completed_jobs(owner: Any) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.count(Job.id))
        .where(owner, Job.status == JobStatus.COMPLETED)
        .scalar_subquery()
    )


def _actual_spend(owner: Any) -> sa.ScalarSelect[Any]:
    return (
        sa.select(sa.func.sum(CostEntry.amount))
        .where(owner, CostEntry.kind == CostKind.ACTUAL)
        .scalar_subquery()
    )


async def client_stats(
    session: AsyncSession, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ClientStats]:
    statement = sa.select(
        Client.id,
        sa.select(sa.func.count(Campaign.id)).where(Campaign.client_id == Client.id).scalar_subquery(),
        _completed_jobs(Job.client_id == Client.id),
        _actual_spend(CostEntry.client_id == Client.id),
    ).where(Client.id.in_(client_ids))  # type: ignore[attr-defined]
    rows = await session.execute(statement)
    return {
        row[0]: ClientStats(int(row[1] or 0), int(row[2] or 0), to_money(row[3])) for row in rows
    }


async def campaign_stats(
    session: AsyncSession, campaign_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CampaignStats]:
    completed_spend = (
        sa.select(sa.func.sum(CostEntry.amount))
        .join(Job, Job.id == CostEntry.job_id)
        .where(
            Job.campaign_id == Campaign.id,
            Job.status == JobStatus.COMPLETED,
            CostEntry.kind == CostKind.ACTUAL,
        )
        .scalar_subquery()
    )
    statement = sa.select(
        Campaign.id,
        _completed_jobs(Job.campaign_id == Campaign.id),
        _actual_spend(CostEntry.campaign_id == Campaign.id),
        completed_spend,
    ).where(Campaign.id.in_(campaign_ids))  # type: ignore[attr-defined]
    stats = {}
    for campaign_id, videos, spend, completed in await session.execute(statement):
        count = int(videos or 0)
        average = to_money(completed) / count if count else ZERO
        stats[campaign_id] = CampaignStats(count, to_money(spend), to_money(average))
    return stats
