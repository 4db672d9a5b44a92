"""The cost ledger: every estimate and every actual charge, as Decimal rows."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.models.base import (
    MONEY,
    UTCDateTime,
    currency,
    enum_column,
    foreign_key,
    money,
    primary_key,
    utcnow,
)
from app.models.enums import BillingBasis, CostKind


class CostEntry(SQLModel, table=True):
    """One line of spend. Attribution survives deletion of parents (SET NULL).

    An actual charge is unique per generation, so a retried step cannot bill twice.
    """

    __tablename__ = "cost_entry"
    __table_args__ = (
        sa.UniqueConstraint("generation_id", "kind"),
        sa.Index("ix_cost_entry_campaign_kind", "campaign_id", "kind"),
        sa.Index("ix_cost_entry_client_kind", "client_id", "kind"),
        sa.Index("ix_cost_entry_job_kind", "job_id", "kind"),
        sa.Index("ix_cost_entry_workspace_created", "workspace_id", "created_at"),
    )

    id: uuid.UUID = primary_key()
    workspace_id: uuid.UUID = foreign_key(
        "workspace.id", ondelete="CASCADE", nullable=False, index=False
    )
    client_id: uuid.UUID | None = foreign_key("client.id", ondelete="SET NULL", index=False)
    campaign_id: uuid.UUID | None = foreign_key("campaign.id", ondelete="SET NULL", index=False)
    job_id: uuid.UUID | None = foreign_key("job.id", ondelete="SET NULL", index=False)
    generation_id: uuid.UUID | None = foreign_key("generation.id", ondelete="SET NULL", index=False)
    kind: CostKind = enum_column(CostKind, "cost_kind")
    basis: BillingBasis = enum_column(BillingBasis, "billing_basis")
    stage: str | None = Field(default=None, max_length=64)
    model: str | None = Field(default=None, max_length=120)
    quantity: Decimal = Field(default=Decimal(1), sa_column=sa.Column(MONEY, nullable=False))
    unit_price: Decimal = money(nullable=False, default=Decimal(0))
    amount: Decimal = money(nullable=False, default=Decimal(0))
    currency: str = currency()
    simulated: bool = Field(default=False)  # priced as a real model, run by a stand-in
    description: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime(),
        nullable=False,
    )


class WebhookDelivery(SQLModel, table=True):
    """A provider webhook already processed, keyed by its ``webhook-id`` (replay guard)."""

    __tablename__ = "webhook_delivery"

    id: str = Field(primary_key=True, max_length=128)
    provider: str = Field(max_length=32)
    received_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime(),
        nullable=False,
        index=True,
    )
