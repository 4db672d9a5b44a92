"""What a connection lists: its parent column, orderings and filters, per listed table.

A :class:`ListSpec` is hashable so that DataLoaders can batch every parent asking for the
same page shape into one statement.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import col

from app.errors import BadUserInputError
from app.models import Asset, Campaign, Client, Generation, Invitation, Job, Membership
from app.models.enums import (
    AssetKind,
    AssetSource,
    AssetStatus,
    CampaignStatus,
    GenerationKind,
    GenerationStatus,
    InvitationStatus,
    JobStatus,
)
from app.pagination import Direction, PageArgs
from app.services.json_match import json_array_contains


class OrderField(StrEnum):
    CREATED_AT = "created_at"
    UPDATED_AT = "updated_at"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class ClientFilter:
    search: str | None = None

    def conditions(self) -> list[Any]:
        if not self.search:
            return []
        return [col(Client.name).ilike(f"%{escape_like(self.search)}%", escape="\\")]


@dataclass(frozen=True, slots=True)
class CampaignFilter:
    search: str | None = None
    statuses: tuple[CampaignStatus, ...] = field(default_factory=tuple)

    def conditions(self) -> list[Any]:
        conditions: list[Any] = []
        if self.search:
            pattern = f"%{escape_like(self.search)}%"
            conditions.append(col(Campaign.name).ilike(pattern, escape="\\"))
        if self.statuses:
            conditions.append(col(Campaign.status).in_(self.statuses))
        return conditions


LISTED_ASSET_STATUS = AssetStatus.READY
"""What an asset list shows unless it asks for another status: files one can use."""


@dataclass(frozen=True, slots=True)
class AssetFilter:
    client_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    kind: AssetKind | None = None
    tag: str | None = None
    source: AssetSource | None = None
    status: AssetStatus = LISTED_ASSET_STATUS

    def conditions(self) -> list[Any]:
        conditions: list[Any] = []
        for name in ("client_id", "campaign_id", "kind", "source", "status"):
            value = getattr(self, name)
            if value is not None:
                conditions.append(col(getattr(Asset, name)) == value)
        if self.tag:
            conditions.append(json_array_contains(col(Asset.tags), self.tag))
        return conditions


@dataclass(frozen=True, slots=True)
class GenerationFilter:
    client_id: uuid.UUID | None = None
    campaign_id: uuid.UUID | None = None
    kind: GenerationKind | None = None
    statuses: tuple[GenerationStatus, ...] = ()
    model: str | None = None

    def conditions(self) -> list[Any]:
        conditions: list[Any] = []
        for name in ("client_id", "campaign_id", "kind", "model"):
            value = getattr(self, name)
            if value is not None:
                conditions.append(col(getattr(Generation, name)) == value)
        if self.statuses:
            conditions.append(col(Generation.status).in_(self.statuses))
        return conditions


@dataclass(frozen=True, slots=True)
class JobFilter:
    statuses: tuple[JobStatus, ...] = ()

    def conditions(self) -> list[Any]:
        return [col(Job.status).in_(self.statuses)] if self.statuses else []


@dataclass(frozen=True, slots=True)
class PendingInvitationFilter:
    """Invitations still waiting for an answer at ``now``."""

    now: datetime

    def conditions(self) -> list[Any]:
        return [
            col(Invitation.status) == InvitationStatus.PENDING,
            col(Invitation.expires_at) > self.now,
        ]


@dataclass(frozen=True, slots=True)
class NoFilter:
    def conditions(self) -> list[Any]:
        return []


Filter = (
    ClientFilter
    | CampaignFilter
    | AssetFilter
    | GenerationFilter
    | JobFilter
    | PendingInvitationFilter
    | NoFilter
)


@dataclass(frozen=True, slots=True)
class ListSpec:
    """A page of ``model`` rows under one parent, ordered and filtered."""

    model: type[Any]
    parent: str
    order: OrderField
    args: PageArgs
    filter: Filter = field(default_factory=NoFilter)

    def __post_init__(self) -> None:
        check_order(self.model, self.order)

    @property
    def parent_column(self) -> Any:
        return getattr(self.model, self.parent)

    @property
    def order_column(self) -> Any:
        return getattr(self.model, self.order.value)

    def conditions(self) -> list[Any]:
        return self.filter.conditions()

    def count_key(self) -> tuple[type[Any], str, Filter]:
        return (self.model, self.parent, self.filter)


def check_order(model: type[Any], order: OrderField) -> None:
    """BAD_USER_INPUT when ``model``'s rows have no such column to be ordered by."""
    if order.value not in model.__table__.columns:
        raise BadUserInputError(
            f"This list cannot be ordered by {order.name}.",
            fields={"orderBy": f"{order.name} is not a field of these items"},
        )


def page_args(
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order: OrderField,
    direction: Direction,
) -> PageArgs:
    return PageArgs.build(
        first=first,
        after=after,
        last=last,
        before=before,
        order_field=order.value,
        direction=direction,
    )


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


LISTED_MODELS = (Client, Campaign, Membership, Asset)
