"""Column helpers shared by every table: keys, timestamps, money, JSON and enums."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION

MONEY = sa.Numeric(18, 6)
CURRENCY_LENGTH = 3
DEFAULT_CURRENCY = "USD"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware timestamp that always reads back as UTC, on every dialect."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSON_TYPE = sa.JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def enum_type(enum: type[StrEnum], name: str) -> sa.Enum:
    """A portable enum: a VARCHAR holding the member's value, guarded by a named CHECK."""
    return sa.Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


def primary_key() -> Any:
    return Field(default_factory=uuid.uuid4, primary_key=True)


def foreign_key(target: str, *, ondelete: str, nullable: bool = True, index: bool = True) -> Any:
    """A UUID foreign key with a deliberate ON DELETE rule and, by default, its own index."""
    column = sa.Column(
        sa.Uuid(),
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=index,
    )
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(sa_column=column)


def timestamp(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=sa.Column(UTCDateTime(), nullable=nullable))


def money(*, nullable: bool = True, default: Decimal | None = None) -> Any:
    return Field(default=default, sa_column=sa.Column(MONEY, nullable=nullable))


def currency() -> Any:
    return Field(
        default=DEFAULT_CURRENCY, sa_column=sa.Column(sa.String(CURRENCY_LENGTH), nullable=False)
    )


def json_column(*, nullable: bool = True, default_factory: Any = None) -> Any:
    column: sa.Column[Any] = sa.Column(JSON_TYPE, nullable=nullable)
    if default_factory is not None:
        return Field(default_factory=default_factory, sa_column=column)
    return Field(default=None, sa_column=column)


def enum_column(enum: type[StrEnum], name: str, *, default: StrEnum | None = None) -> Any:
    column: sa.Column[Any] = sa.Column(enum_type(enum, name), nullable=False)
    if default is None:
        return Field(sa_column=column)
    return Field(default=default, sa_column=column)


class TimestampedModel(SQLModel):
    """``created_at`` and ``updated_at``, set by the application in UTC."""

    created_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime(),
        nullable=False,
    )
    updated_at: datetime = Field(
        default_factory=utcnow,
        sa_type=UTCDateTime(),
        nullable=False,
        sa_column_kwargs={"onupdate": utcnow},
    )
