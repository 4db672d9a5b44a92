"""Shared GraphQL inputs: ordering and money."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from app.schema.enums import Direction, OrderField


@strawberry.input(description="How to sort a connection. Default: newest first.")
class Order:
    field: OrderField = OrderField.CREATED_AT
    direction: Direction = Direction.DESC


@strawberry.input(description="An amount of money; only USD is accepted for now.")
class MoneyInput:
    amount: Decimal
    currency: str = "USD"
