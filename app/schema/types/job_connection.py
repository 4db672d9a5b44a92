"""The ``jobs`` connection, the same on workspaces, clients and campaigns."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry

from app.models import Job
from app.models.enums import JobStatus
from app.schema.connections import resolve_connection
from app.schema.context import Info
from app.schema.inputs import Order
from app.schema.types.common import Connection
from app.schema.types.job import JobType
from app.services.listing import JobFilter


@strawberry.input(description="Narrow a list of jobs.")
class JobFilterInput:
    status: list[JobStatus] | None = None


async def resolve_jobs(
    info: Info,
    *,
    parent: str,
    parent_id: uuid.UUID,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    filter: JobFilterInput | None,
    order_by: Order | None,
) -> Connection[JobType]:
    statuses = tuple(filter.status or ()) if filter else ()
    return await resolve_connection(
        info,
        model=Job,
        parent=parent,
        parent_id=parent_id,
        to_node=JobType.from_model,
        first=first,
        after=after,
        last=last,
        before=before,
        order_by=order_by,
        list_filter=JobFilter(statuses=statuses),
    )


def jobs_of(parent: str) -> Any:
    """The connection field for a type whose ``pk`` is the ``parent`` column's value."""

    async def field(
        root: Any,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: JobFilterInput | None = None,
        order_by: Order | None = None,
    ) -> Connection[JobType]:
        return await resolve_jobs(
            info,
            parent=parent,
            parent_id=root.pk,
            first=first,
            after=after,
            last=last,
            before=before,
            filter=filter,
            order_by=order_by,
        )

    return strawberry.field(
        resolver=field, description="Ad-video jobs here, newest first by default."
    )
