"""The ``jobs`` connection, the same on workspaces, clients and campaigns."""

from __future__ import annotations

from typing import Any

import strawberry

from app.models import Job
from app.models.enums import JobStatus
from app.schema.connections import connection_field
from app.schema.types.job import JobType
from app.services.listing import JobFilter


@strawberry.input(description="Narrow a list of jobs.")
class JobFilterInput:
    status: list[JobStatus] | None = None

    def to_filter(self) -> JobFilter:
        return JobFilter(statuses=tuple(self.status or ()))


def jobs_of(parent: str) -> Any:
    return connection_field(
        model=Job,
        node=JobType,
        to_node=JobType.from_model,
        parent=parent,
        filter_input=JobFilterInput,
        empty_filter=JobFilter(),
        description="Ad-video jobs here, newest first by default.",
    )
