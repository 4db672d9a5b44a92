"""Starting DBOS in this process, enqueuing generations on it, cancelling them."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import sqlalchemy as sa
import structlog
from dbos import DBOS, DBOSConfig, SetEnqueueOptions, SetWorkflowID
from sqlmodel import col

from app import __version__
from app.engine import recovery
from app.engine.deps import EngineDeps, install
from app.engine.generation_flow import generation_workflow
from app.engine.give_up import stop_and_book
from app.engine.job_flow import PHASES  # importing registers the job workflows
from app.engine.port import generation_workflow_id
from app.generation.catalog import load_catalog
from app.generation.local_provider import LocalProvider
from app.generation.provider import Provider
from app.generation.replicate_provider import ReplicateProvider
from app.models import Generation
from app.models.enums import GenerationStatus
from app.runtime import Runtime

log = structlog.get_logger("app.engine")
GENERATIONS_QUEUE = "generations"


def make_provider(runtime: Runtime) -> Provider:
    settings = runtime.settings
    if settings.replicate_api_token is not None:
        return ReplicateProvider(
            settings.replicate_api_token.get_secret_value(), settings.replicate_base_url
        )
    return LocalProvider(
        runtime.storage,
        latency=settings.local_latency_seconds,
        failure_rate=settings.local_failure_rate,
    )


class Engine:
    """The process's handle on DBOS. ``execute`` decides whether this process runs work."""

    def __init__(self, runtime: Runtime, provider: Provider | None = None) -> None:
        self.runtime = runtime
        self.provider = provider or make_provider(runtime)
        self._queue: Any = None
        self._sweeper: asyncio.Task[None] | None = None

    @property
    def provider_name(self) -> str:
        return self.provider.name

    async def start(self) -> None:
        settings = self.runtime.settings
        config: DBOSConfig = {
            "name": "adstudio",
            "system_database_url": settings.resolved_engine_database_url,
            "application_version": __version__,
            "executor_id": settings.executor_id,
            "log_level": "WARNING",
            "notification_listener_polling_interval_sec": 0.2,
            "sys_db_pool_size": settings.engine_pool_size,
        }
        self._deps = EngineDeps(
            self.runtime,
            self.provider,
            load_catalog(),
            poll_interval=settings.generation_poll_seconds,
            deadline_seconds=settings.generation_deadline_seconds,
        )
        install(self._deps)
        DBOS(config=config)
        if not settings.execute_work:
            DBOS.listen_queues([])
        DBOS.launch()
        self._queue = await DBOS.register_queue_async(
            GENERATIONS_QUEUE,
            partition_concurrency=settings.workspace_concurrency,
            polling_interval_sec=0.2,
        )
        try:
            await self.recover()
        except Exception:
            log.exception("recovering unfinished work at start-up failed")
        every = settings.recovery_interval_seconds
        self._sweeper = asyncio.create_task(
            recovery.sweep_forever(self.runtime, self.enqueue_generation, self.start_job, every)
        )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        DBOS.destroy(workflow_completion_timeout_sec=0)
        await self._deps.interrupt()
        install(None)
        close = getattr(self.provider, "aclose", None)
        if close is not None:
            await close()

    async def enqueue_generation(self, generation_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
        """Start (or find, if already started) the generation's workflow."""
        with (
            SetWorkflowID(generation_workflow_id(generation_id)),
            SetEnqueueOptions(queue_partition_key=workspace_id.hex),
        ):
            await self._queue.enqueue_async(generation_workflow, generation_id.hex)

    async def cancel_generation(self, generation_id: uuid.UUID) -> None:
        """Stop the workflow that runs it (a start image runs in its video's) and, at once,
        the prediction upstream, booking what it used (the sweep retries a failed stop)."""
        async with self.runtime.read_sessionmaker() as session:
            row = (
                await session.execute(
                    sa.select(
                        col(Generation.workflow_id), col(Generation.provider_prediction_id)
                    ).where(col(Generation.id) == generation_id)
                )
            ).one_or_none()
        workflow, prediction_id = row if row is not None else (None, None)
        await DBOS.cancel_workflow_async(workflow or generation_workflow_id(generation_id))
        if prediction_id:
            await stop_and_book(generation_id, prediction_id)

    async def start_job(
        self,
        job_id: uuid.UUID,
        workspace_id: uuid.UUID,
        phase: str,
        workflow_id: str,
        *args: object,
    ) -> None:
        """Run one phase of a job (storyboard, render, scene) under a stable workflow id."""
        with SetWorkflowID(workflow_id), SetEnqueueOptions(queue_partition_key=workspace_id.hex):
            await self._queue.enqueue_async(PHASES[phase], job_id.hex, *args)

    async def cancel_job(self, job_id: uuid.UUID, workflow_id: str) -> None:
        """Stop the job's workflow with its generations' (its children) and, at once, the
        predictions of its cancelled generations (a workflow stopped between steps never
        reaches the wait step that would)."""
        await DBOS.cancel_workflow_async(workflow_id, cancel_children=True)
        async with self.runtime.read_sessionmaker() as session:
            rows = (
                await session.execute(
                    sa.select(col(Generation.id), col(Generation.provider_prediction_id)).where(
                        col(Generation.job_id) == job_id,
                        col(Generation.status) == GenerationStatus.CANCELED,
                        col(Generation.provider_prediction_id).is_not(None),
                        col(Generation.upstream_closed_at).is_(None),
                    )
                )
            ).all()
        for generation_id, prediction_id in rows:
            await stop_and_book(generation_id, str(prediction_id))

    async def recover(self) -> recovery.Swept:
        """Unfinished work without a live workflow: started again, or failed if it ended."""
        return await recovery.sweep(self.runtime, self.enqueue_generation, self.start_job)
