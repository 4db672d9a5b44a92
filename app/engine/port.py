"""What the rest of the application needs from the engine."""

from __future__ import annotations

import uuid
from typing import Protocol


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

    async def cancel_workflow(self, workflow_id: str) -> None: ...
