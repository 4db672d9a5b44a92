"""The lifecycle rules of the services, on the real database, with a fake behind the engine
port: what starts and stops work, that it happens only after commit and never after a
rollback, and that final states, cancels and bookings happen once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.applications import Starlette

from app.after_commit import settle
from app.auth.actor import Actor, AuthMethod
from app.engine.port import job_phase
from app.generation.catalog import GenericParams, load_catalog
from app.generation.pricing import estimate
from app.ids import decode_global_id, encode_global_id
from app.models import CostEntry, Generation, Job, JobEvent
from app.models.enums import CostKind, GenerationKind, GenerationStatus, JobStatus, Role
from app.services import generation_lifecycle, generations, ledger
from app.services.events import generation_stream
from app.services.generations import LaunchRequest
from app.services.placement import Placement
from tests.fake_engine import FakeWorkEngine
from tests.graphql import Account, create_campaign, create_client
from tests.test_jobs import brief

CREATE_JOB = "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id status } } }"
IMAGE = (
    "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id status } } }"
)
CANCEL = (
    "mutation($i: CancelGenerationInput!) {"
    " cancelGeneration(input: $i) { generation { id status errorCode } } }"
)
CANCEL_JOB = "mutation($id: ID!) { cancelJob(jobId: $id) { job { id status } } }"
APPROVE = "mutation($id: ID!) { approveStoryboard(jobId: $id) { job { id status } } }"


@pytest.fixture
async def fake(app: Starlette) -> AsyncIterator[FakeWorkEngine]:
    runtime = app.state.runtime
    engine = FakeWorkEngine(runtime.sessionmaker)
    runtime.work = engine
    yield engine
    runtime.work = None


def _maker(app: Starlette) -> async_sessionmaker[AsyncSession]:
    maker: async_sessionmaker[AsyncSession] = app.state.runtime.sessionmaker
    return maker


def _pk(global_id: str) -> uuid.UUID:
    return decode_global_id(global_id).id


async def _image(owner: Account, **extra: str) -> str:
    data = {"workspaceId": owner.workspace_id, "prompt": "a can of cola", **extra}
    result = await owner.gql(IMAGE, {"i": data})
    return str(result.ok()["generateImage"]["generation"]["id"])


async def _events(app: Starlette, generation_id: uuid.UUID, type: str) -> int:
    async with _maker(app)() as session:
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(JobEvent)
            .where(
                col(JobEvent.stream_id) == generation_stream(generation_id),
                col(JobEvent.type) == type,
            )
        )
    return int(count or 0)


class TestGenerations:
    async def test_a_launch_starts_its_workflow_once_after_commit(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        generation_id = _pk(await _image(owner, idempotencyKey="k1"))
        [call] = fake.named("enqueue_generation")
        assert call.subject == generation_id
        assert call.args == (_pk(owner.workspace_id),)
        assert call.committed is not None  # the row was visible to others when work started
        assert call.committed["status"] is GenerationStatus.PENDING
        assert call.committed["workflow_id"] == f"generation-{generation_id.hex}"
        assert _pk(await _image(owner, idempotencyKey="k1")) == generation_id
        assert len(fake.named("enqueue_generation")) == 1  # an idempotent repeat starts nothing

    async def test_a_rolled_back_launch_starts_nothing(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        actor = Actor(
            _pk(owner.user_id), AuthMethod.ACCESS_TOKEN, {_pk(owner.workspace_id): Role.OWNER}
        )
        request = LaunchRequest(
            GenerationKind.IMAGE,
            Placement(_pk(owner.workspace_id), None, None),
            GenericParams(prompt="x"),
        )
        async with _maker(app)() as session:
            lost, new = await generations.launch(session, actor, load_catalog(), fake, request)
            assert new
            await session.rollback()
            await settle(session)
        assert fake.calls == []
        async with _maker(app)() as session:
            kept, _ = await generations.launch(session, actor, load_catalog(), fake, request)
            await session.commit()
            await settle(session)
        assert [call.subject for call in fake.calls] == [kept.id]
        async with _maker(app)() as session:
            assert await session.get(Generation, lost.id) is None

    async def test_a_cancel_is_committed_before_the_engine_is_told_and_happens_once(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        generation = await _image(owner)
        first = (await owner.gql(CANCEL, {"i": {"id": generation}})).ok()["cancelGeneration"]
        again = (await owner.gql(CANCEL, {"i": {"id": generation}})).ok()["cancelGeneration"]
        assert first["generation"]["status"] == again["generation"]["status"] == "CANCELED"
        [call] = fake.named("cancel_generation")
        assert call.committed is not None
        assert call.committed["status"] is GenerationStatus.CANCELED  # the durable intent
        assert await _events(app, _pk(generation), "generation.canceled") == 1
        async with _maker(app)() as session:
            row = await session.get(Generation, _pk(generation))
            assert row is not None
            assert (row.error_code, row.completed_at is not None) == ("CANCELED", True)

    async def test_a_final_generation_never_changes_and_is_booked_once(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        generation_id = _pk(await _image(owner))
        spec = load_catalog().default_for("local", GenerationKind.IMAGE)
        charge = estimate(spec, GenericParams(prompt="x"))
        clock = app.state.runtime.clock
        async with _maker(app)() as session, session.begin():
            row = await session.get(Generation, generation_id, with_for_update=True)
            assert row is not None
            assert await generation_lifecycle.failed(session, row, "TIMEOUT", "late", clock.now())
            assert await ledger.book_actual(session, row, charge)
            assert not await ledger.book_actual(session, row, charge)
            for change in (
                generation_lifecycle.failed(session, row, "PROVIDER_ERROR", "x", clock.now()),
                generation_lifecycle.cancelled(session, row, "late cancel", clock.now(), fake),
                generation_lifecycle.running(session, row, True, 0.5, clock.now()),
                generation_lifecycle.submitted(session, row, "p-1", clock.now()),
            ):
                assert not await change
        async with _maker(app)() as session:
            row = await session.get(Generation, generation_id)
            assert row is not None
            assert (row.status, row.error_code) == (GenerationStatus.FAILED, "TIMEOUT")
            actual = await session.scalar(
                sa.select(sa.func.count())
                .select_from(CostEntry)
                .where(
                    col(CostEntry.generation_id) == generation_id,
                    col(CostEntry.kind) == CostKind.ACTUAL,
                )
            )
        assert actual == 1
        assert await _events(app, generation_id, "generation.failed") == 1
        assert fake.named("cancel_generation") == []


async def _job(owner: Account, key: str | None = None) -> str:
    return (await _job_and_brief(owner, key))[0]


async def _job_and_brief(owner: Account, key: str | None) -> tuple[str, dict[str, Any]]:
    client = await create_client(owner.gql, owner.workspace_id)
    campaign = await create_campaign(owner.gql, client)
    data = {**brief(client, campaign, 15), **({"idempotencyKey": key} if key else {})}
    job = (await owner.gql(CREATE_JOB, {"i": data})).ok()["createJob"]["job"]["id"]
    return str(job), data


async def _load_job(app: Starlette, job_id: uuid.UUID) -> Job:
    async with _maker(app)() as session:
        job = await session.get(Job, job_id)
    assert job is not None
    return job


class TestJobs:
    async def test_a_new_job_records_its_workflow_and_starts_it_after_commit(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        job_id = _pk(await _job(owner))
        [call] = fake.named("start_job")
        workspace, phase, workflow, *args = call.args
        job = await _load_job(app, job_id)
        assert (workspace, phase, args) == (job.workspace_id, "storyboard", [""])
        assert workflow == job.workflow_id
        assert job_phase(workflow) == "storyboard"
        assert call.committed == {
            "status": JobStatus.PENDING,
            "workflow_id": workflow,
            "workflow_args": [""],
        }

    async def test_a_retried_key_starts_a_job_that_never_started_and_only_that(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        fake.fail_with = RuntimeError("the engine is down")  # the start is lost after commit
        job, data = await _job_and_brief(owner, "brief-1")
        fake.fail_with = None
        job_pk = _pk(job)
        assert (await _load_job(app, job_pk)).status is JobStatus.PENDING
        again = (await owner.gql(CREATE_JOB, {"i": data})).ok()["createJob"]["job"]
        assert again["id"] == job
        first, second = fake.named("start_job")
        assert first.args == second.args  # the same workflow, with the same arguments
        async with _maker(app)() as session, session.begin():
            await session.execute(
                sa.update(Job)
                .where(col(Job.id) == job_pk)
                .values(status=JobStatus.STORYBOARD_PROCESSING)
            )
        await owner.gql(CREATE_JOB, {"i": data})
        assert len(fake.named("start_job")) == 2  # a job under way is not started again

    async def test_approval_starts_the_render_phase_under_a_new_workflow(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        job_id = _pk(await _job(owner))
        async with _maker(app)() as session, session.begin():
            await session.execute(
                sa.update(Job)
                .where(col(Job.id) == job_id)
                .values(status=JobStatus.STORYBOARD_READY)
            )
        await owner.gql(APPROVE, {"id": _global_id("Job", job_id)})
        storyboard, render = fake.named("start_job")
        assert render.args[1] == "render"
        assert render.args[2] != storyboard.args[2]
        assert render.committed is not None
        assert render.committed["status"] is JobStatus.VIDEO_PROCESSING
        assert render.committed["workflow_args"] == []

    async def test_a_cancelled_job_cancels_each_unfinished_generation_then_its_workflow(
        self, app: Starlette, fake: FakeWorkEngine, owner: Account
    ) -> None:
        job_id = _pk(await _job(owner))
        job = await _load_job(app, job_id)
        running, done = await _job_generations(app, job, GenerationStatus.PROCESSING, 2)
        result = await owner.gql(CANCEL_JOB, {"id": _global_id("Job", job_id)})
        assert result.ok()["cancelJob"]["job"]["status"] == "CANCELLED"
        [call] = fake.named("cancel_job")
        assert call.args == (job.workflow_id,)
        assert call.committed is not None
        assert call.committed["status"] is JobStatus.CANCELLED
        async with _maker(app)() as session:
            statuses = {
                row.id: row.status
                for row in (
                    await session.execute(
                        sa.select(Generation).where(col(Generation.job_id) == job_id)
                    )
                ).scalars()
            }
        assert [statuses[g] for g in running] == [GenerationStatus.CANCELED] * 2
        assert [statuses[g] for g in done] == [GenerationStatus.SUCCEEDED]
        for generation_id in running:
            assert await _events(app, generation_id, "generation.canceled") == 1
        await owner.gql(CANCEL_JOB, {"id": _global_id("Job", job_id)})
        assert len(fake.named("cancel_job")) == 1  # a cancelled job is left as it is


def _global_id(kind: str, pk: uuid.UUID) -> str:
    return encode_global_id(kind, pk)


async def _job_generations(
    app: Starlette, job: Job, status: GenerationStatus, count: int
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """``count`` generations of the job in ``status``, and one that has SUCCEEDED."""
    spec = load_catalog().default_for("local", GenerationKind.IMAGE)
    rows = [
        Generation(
            workspace_id=job.workspace_id,
            client_id=job.client_id,
            campaign_id=job.campaign_id,
            job_id=job.id,
            created_by_id=job.created_by_id,
            kind=GenerationKind.IMAGE,
            model=spec.id,
            provider=spec.provider,
            input={"params": {"prompt": "x"}},
            status=state,
        )
        for state in [status] * count + [GenerationStatus.SUCCEEDED]
    ]
    async with _maker(app)() as session, session.begin():
        session.add_all(rows)
    return [row.id for row in rows[:count]], [rows[-1].id]
