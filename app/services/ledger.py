"""The cost ledger's bookings, written only here.

An estimate is booked when work is priced (a generation, each line of a job); the actual
charge is booked once per generation when it ends. A unique (generation, kind) row guards
the actual charge, so a retried step or a second finisher cannot bill twice. A line priced
as a real model but run by a stand-in (offline) is marked simulated: nobody was charged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.generation.pricing import Charge
from app.models import CostEntry, Generation, Job
from app.models.enums import CostKind


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose spend a line is: the placement it is attributed to, and its job or generation."""

    workspace_id: uuid.UUID
    client_id: uuid.UUID | None
    campaign_id: uuid.UUID | None
    job_id: uuid.UUID | None = None
    generation_id: uuid.UUID | None = None

    @classmethod
    def of_generation(cls, row: Generation) -> Owner:
        return cls(row.workspace_id, row.client_id, row.campaign_id, row.job_id, row.id)

    @classmethod
    def of_job(cls, job: Job) -> Owner:
        return cls(job.workspace_id, job.client_id, job.campaign_id, job.id)


def book_estimate(
    session: AsyncSession,
    owner: Owner,
    charge: Charge,
    *,
    stage: str,
    model: str,
    simulated: bool = False,
) -> None:
    session.add(_entry(owner, CostKind.ESTIMATE, charge, stage, model, simulated))


async def book_actual(session: AsyncSession, row: Generation, charge: Charge) -> bool:
    """The generation's actual charge, once; False when it was booked already."""
    row.cost = charge.amount
    await session.flush()  # a charge added earlier in this transaction counts too
    booked = await session.scalar(
        sa.select(sa.func.count())
        .select_from(CostEntry)
        .where(col(CostEntry.generation_id) == row.id, col(CostEntry.kind) == CostKind.ACTUAL)
    )
    if booked:
        return False
    owner = Owner.of_generation(row)
    session.add(_entry(owner, CostKind.ACTUAL, charge, row.kind.value, row.model, row.simulated))
    return True


async def actual_total(session: AsyncSession, job_id: uuid.UUID) -> Decimal:
    """What a job's generations were charged, in all."""
    spent = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(col(CostEntry.amount)), 0)).where(
            col(CostEntry.job_id) == job_id, col(CostEntry.kind) == CostKind.ACTUAL
        )
    )
    return Decimal(str(spent or 0))


def _entry(
    owner: Owner, kind: CostKind, charge: Charge, stage: str, model: str, simulated: bool
) -> CostEntry:
    return CostEntry(
        workspace_id=owner.workspace_id,
        client_id=owner.client_id,
        campaign_id=owner.campaign_id,
        job_id=owner.job_id,
        generation_id=owner.generation_id,
        kind=kind,
        basis=charge.basis,
        stage=stage,
        model=model,
        quantity=charge.quantity,
        unit_price=charge.unit_price,
        amount=charge.amount,
        simulated=simulated,
    )
