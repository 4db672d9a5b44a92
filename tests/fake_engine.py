"""A fake behind the ``WorkEngine`` port: it runs nothing and records what it was asked.

With it, the services' lifecycle rules (what starts, what stops, and when) are tested on the
real database without the durable engine. Each call also notes whether the row it names was
already committed, read through a session of its own: work must never start ahead of the
change it is for.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import Generation, Job


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    subject: uuid.UUID
    args: tuple[Any, ...]
    committed: Any  # the named row as another session saw it at the call (None if unseen)


@dataclass
class FakeWorkEngine:
    sessionmaker: async_sessionmaker[AsyncSession]
    provider_name: str = "local"
    calls: list[Call] = field(default_factory=list)
    fail_with: Exception | None = None

    def named(self, name: str) -> list[Call]:
        return [call for call in self.calls if call.name == name]

    async def enqueue_generation(self, generation_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
        await self._note("enqueue_generation", Generation, generation_id, workspace_id)

    async def cancel_generation(self, generation_id: uuid.UUID) -> None:
        await self._note("cancel_generation", Generation, generation_id)

    async def start_job(
        self,
        job_id: uuid.UUID,
        workspace_id: uuid.UUID,
        phase: str,
        workflow_id: str,
        *args: object,
    ) -> None:
        await self._note("start_job", Job, job_id, workspace_id, phase, workflow_id, *args)

    async def cancel_job(self, job_id: uuid.UUID, workflow_id: str) -> None:
        await self._note("cancel_job", Job, job_id, workflow_id)

    async def _note(self, name: str, model: type[Any], subject: uuid.UUID, *args: Any) -> None:
        async with self.sessionmaker() as session:
            row = await session.get(model, subject)
            committed = None if row is None else {"status": row.status, **_workflow(row)}
        self.calls.append(Call(name, subject, tuple(args), committed))
        if self.fail_with is not None:
            raise self.fail_with


def _workflow(row: Any) -> dict[str, Any]:
    return {"workflow_id": row.workflow_id, "workflow_args": getattr(row, "workflow_args", None)}
