"""Resolving a connection field: page arguments -> batched page and count loaders."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import strawberry

from app.pagination import Direction
from app.schema.context import Info
from app.schema.inputs import Order
from app.schema.types.common import Connection, build_connection
from app.services.listing import Filter, ListSpec, NoFilter, OrderField, page_args

NodeT = TypeVar("NodeT")


async def resolve_connection(
    info: Info,
    *,
    model: type[Any],
    parent: str,
    parent_id: uuid.UUID,
    to_node: Callable[[Any], NodeT],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    order_by: Order | None = None,
    list_filter: Filter | None = None,
    default_direction: Direction = Direction.DESC,
) -> Connection[NodeT]:
    order = order_by.field if order_by else OrderField.CREATED_AT
    direction = order_by.direction if order_by else default_direction
    args = page_args(
        first=first, after=after, last=last, before=before, order=order, direction=direction
    )
    spec = ListSpec(model, parent, order, args, list_filter or NoFilter())
    loaders = info.context.loaders
    page = await loaders.page.load((parent_id, spec))
    return build_connection(
        page, spec, to_node, lambda: loaders.count.load((parent_id, spec.count_key()))
    )


def connection_field(
    *,
    model: type[Any],
    node: type[Any],
    to_node: Callable[[Any], Any],
    parent: str,
    filter_input: type[Any],
    empty_filter: Filter,
    description: str,
) -> Any:
    """A connection field (Relay arguments, a filter, an order) on a type whose ``pk`` is the
    ``parent`` column's value. One definition serves every parent type."""

    async def field(
        root: Any,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: Any = None,
        order_by: Order | None = None,
    ) -> Any:
        return await resolve_connection(
            info,
            model=model,
            parent=parent,
            parent_id=root.pk,
            to_node=to_node,
            first=first,
            after=after,
            last=last,
            before=before,
            order_by=order_by,
            list_filter=filter.to_filter() if filter is not None else empty_filter,
        )

    field.__annotations__ = {
        "root": Any,
        "info": Info,
        "first": int | None,
        "after": str | None,
        "last": int | None,
        "before": str | None,
        "filter": filter_input | None,
        "order_by": Order | None,
        "return": Connection[node],  # type: ignore[valid-type]
    }
    return strawberry.field(resolver=field, description=description)
