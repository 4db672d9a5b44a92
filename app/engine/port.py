"""What the rest of the application needs from the engine."""

from __future__ import annotations

import uuid
from typing import Protocol


def generation_workflow_id(generation_id: uuid.UUID) -> str:
    """The one workflow of a generation (a chained start image runs inside its parent's)."""
    return f"generation-{generation_id.hex}"


def job_workflow_id(job_id: uuid.UUID, phase: str, seq: int) -> str:
    """One phase of a job, started at the job's event ``seq`` (so each start is distinct)."""
    return f"job-{job_id.hex}-{phase}-{seq}"


def job_phase(workflow_id: str) -> str:
    """The phase a job workflow id names ('' if it is not one)."""
    parts = workflow_id.split("-")
    return parts[2] if len(parts) == 4 and parts[0] == "job" else ""


class WorkEngine(Protocol):
    @property
    def provider_name(self) -> str: ...

    async def enqueue_generation(
        self, generation_id: uuid.UUID, workspace_id: uuid.UUID
    ) -> None: ...

    async def cancel_generation(self, generation_id: uuid.UUID) -> None: ...

    async def start_job(
        self,
        job_id: uuid.UUID,
        workspace_id: uuid.UUID,
        phase: str,
        workflow_id: str,
        *args: object,
    ) -> None: ...

    async def cancel_job(self, job_id: uuid.UUID, workflow_id: str) -> None: ...
