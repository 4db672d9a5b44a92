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

from app.id_lists import IdList
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


def _counts(owner: Any, ids: IdList, *where: Any) -> sa.Subquery:
    """``(owner, n)``: how many rows each of ``ids`` owns (one grouped scan)."""
    return (
        sa.select(owner.label("owner"), sa.func.count().label("n"))
        .where(ids.contains(owner), *where)
        .group_by(owner)
        .subquery()
    )


def _spend(owner: Any, ids: IdList) -> sa.Subquery:
    """``(owner, total, simulated)``: each owner's actual spend, and the simulated part."""
    amount = col(CostEntry.amount)
    return (
        sa.select(
            owner.label("owner"),
            sa.func.sum(amount).label("total"),
            sa.func.sum(amount).filter(col(CostEntry.simulated).is_(True)).label("simulated"),
        )
        .where(ids.contains(owner), col(CostEntry.kind) == CostKind.ACTUAL)
        .group_by(owner)
        .subquery()
    )


def _completed_spend(ids: IdList) -> sa.Subquery:
    """``(owner, total)``: what each campaign's completed jobs were charged."""
    return (
        sa.select(
            col(Job.campaign_id).label("owner"), sa.func.sum(col(CostEntry.amount)).label("total")
        )
        .join(Job, col(Job.id) == col(CostEntry.job_id))
        .where(
            ids.contains(col(Job.campaign_id)),
            col(Job.status) == JobStatus.COMPLETED,
            col(CostEntry.kind) == CostKind.ACTUAL,
        )
        .group_by(col(Job.campaign_id))
        .subquery()
    )


def _joined(owner_id: Any, ids: IdList, *parts: sa.Subquery) -> sa.Select[Any]:
    """``owner_id``'s rows among ``ids``, each joined to the grouped ``parts`` (one row each)."""
    statement = sa.select(owner_id).where(ids.contains(owner_id))
    for part in parts:
        statement = statement.outerjoin(part, part.c.owner == owner_id)
    return statement


async def client_stats(
    session: AsyncSession, client_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ClientStats]:
    """One statement for the whole batch: three grouped aggregates joined to the clients."""
    ids = IdList(client_ids, session.get_bind().dialect.name)
    campaigns = _counts(col(Campaign.client_id), ids)
    videos = _counts(col(Job.client_id), ids, col(Job.status) == JobStatus.COMPLETED)
    spend = _spend(col(CostEntry.client_id), ids)
    statement = _joined(col(Client.id), ids, campaigns, videos, spend).add_columns(
        campaigns.c.n, videos.c.n, spend.c.total, spend.c.simulated
    )
    rows = await session.execute(statement)
    return {
        row[0]: ClientStats(int(row[1] or 0), int(row[2] or 0), to_money(row[3]), to_money(row[4]))
        for row in rows
    }


async def campaign_stats(
    session: AsyncSession, campaign_ids: list[uuid.UUID]
) -> dict[uuid.UUID, CampaignStats]:
    """One statement for the whole batch: three grouped aggregates joined to the campaigns."""
    ids = IdList(campaign_ids, session.get_bind().dialect.name)
    videos = _counts(col(Job.campaign_id), ids, col(Job.status) == JobStatus.COMPLETED)
    spend = _spend(col(CostEntry.campaign_id), ids)
    completed = _completed_spend(ids)
    statement = _joined(col(Campaign.id), ids, videos, spend, completed).add_columns(
        videos.c.n, spend.c.total, completed.c.total, spend.c.simulated
    )
    stats = {}
    for campaign_id, videos_done, spent, completed_spent, simulated in await session.execute(
        statement
    ):
        count = int(videos_done or 0)
        average = to_money(completed_spent) / count if count else ZERO
        stats[campaign_id] = CampaignStats(
            count, to_money(spent), to_money(average), to_money(simulated)
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
