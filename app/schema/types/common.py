"""Shared GraphQL building blocks: Node, Relay connections, Money."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any, Generic, TypeVar

import strawberry
from strawberry.dataloader import DataLoader

from app.errors import NotFoundError
from app.pagination import Cursor, Page
from app.services.listing import ListSpec
from app.services.stats import to_money

NodeT = TypeVar("NodeT")


@strawberry.interface(description="An object with a globally unique, opaque ID.")
class Node:
    id: strawberry.ID


@strawberry.type(description="Where a page sits in its connection.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="A node and the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description="A page of a list, Relay style.")
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    nodes: list[NodeT]
    page_info: PageInfo
    count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description="How many items the whole list holds (every page).")
    async def total_count(self) -> int:
        return await self.count()


def build_connection(
    page: Page[Any],
    spec: ListSpec,
    to_node: Callable[[Any], NodeT],
    count: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    order = spec.order.value
    edges = [
        Edge(cursor=Cursor(order, getattr(row, order), row.id).encode(), node=to_node(row))
        for row in page.rows
    ]
    info = PageInfo(
        has_next_page=page.has_next_page,
        has_previous_page=page.has_previous_page,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, nodes=[e.node for e in edges], page_info=info, count=count)


@strawberry.type(description="An exact amount of money (a decimal string) and its currency.")
class Money:
    amount: Decimal
    currency: str


def money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount=to_money(amount), currency=currency)


async def required(
    loader: DataLoader[uuid.UUID, Any], key: uuid.UUID, to_node: Callable[[Any], NodeT], what: str
) -> NodeT:
    """A linked object through its loader; NOT_FOUND if it is gone or invisible."""
    row = await loader.load(key)
    if row is None:
        raise NotFoundError(f"{what} not found.")
    return to_node(row)


async def optional(
    loader: DataLoader[uuid.UUID, Any], key: uuid.UUID | None, to_node: Callable[[Any], NodeT]
) -> NodeT | None:
    """A linked object that may be absent: null when unset, gone or invisible."""
    if key is None:
        return None
    row = await loader.load(key)
    return None if row is None else to_node(row)
