"""Unfinished work without a live workflow is started again, or failed if its workflow ended.

The state a crash between a commit and its enqueue leaves is made for real: a first app
commits a job and a generation while its engine writes to a throwaway system database, so
the real engine has never heard of them. The second app, on the real engine, finds them.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import col

from app.engine import recovery
from app.engine.port import generation_workflow_id
from app.ids import decode_global_id
from app.models import Generation, Job
from app.models.enums import GenerationKind, GenerationStatus, JobStatus
from tests.conftest import app_client, make_settings
from tests.generation_helpers import generate, wait_final
from tests.graphql import GraphQL, create_campaign, create_client, register
from tests.test_jobs import brief, wait_status

CREATE_JOB = "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id status } } }"
JOB = "query($id: ID!) { node(id: $id) { ... on Job { status errorCode } } }"


def _settings(database_url: str, tmp_path: Path, **overrides: object) -> object:
    return make_settings(
        database_url,
        tmp_path,
        engine_enabled=True,
        local_latency_seconds=0.05,
        generation_poll_seconds=0.05,
        **overrides,
    )


async def test_work_committed_but_never_started_runs_after_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    lost_engine = f"sqlite:///{(tmp_path / 'lost-engine.sqlite').as_posix()}"
    first = _settings(database_url, tmp_path, engine_database_url=lost_engine, execute_work=False)
    async with app_client(first) as http:  # type: ignore[arg-type]
        account = await register(http)
        client = await create_client(account.gql, account.workspace_id)
        campaign = await create_campaign(account.gql, client)
        job_input = {**brief(client, campaign, 15), "idempotencyKey": "brief-1"}
        job = (await account.gql(CREATE_JOB, {"i": job_input})).ok()["createJob"]["job"]
        generation = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        token = account.gql.token
    assert job["status"] == "PENDING"

    async with app_client(_settings(database_url, tmp_path)) as http:  # type: ignore[arg-type]
        gql = GraphQL(http, token)
        again = (await gql(CREATE_JOB, {"i": job_input})).ok()["createJob"]["job"]
        assert again["id"] == job["id"]  # the idempotent retry returns the job, now running
        assert (await wait_status(gql, job["id"], {"STORYBOARD_READY"}))["status"]
        done = await wait_final(gql, generation["id"])
        assert done["status"] == "SUCCEEDED", done


async def test_a_row_whose_workflow_ended_unfinished_is_failed_with_a_code(
    database_url: str, tmp_path: Path
) -> None:
    async with app_client(_settings(database_url, tmp_path)) as http:  # type: ignore[arg-type]
        account = await register(http)
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        assert (await wait_final(account.gql, started["id"]))["status"] == "SUCCEEDED"
        runtime = http._transport.app.state.runtime  # type: ignore[attr-defined]
        generation_id = decode_global_id(started["id"]).id
        async with runtime.sessionmaker() as session, session.begin():
            await session.execute(
                sa.update(Generation)
                .where(col(Generation.id) == generation_id)
                .values(status=GenerationStatus.PROCESSING)
            )
        swept = await runtime.work.recover()
        assert swept.failed_generations == 1
        done = await wait_final(account.gql, started["id"])
        assert (done["status"], done["errorCode"]) == ("FAILED", "INTERNAL_ERROR")
        assert (await runtime.work.recover()).failed_generations == 0


async def test_a_job_whose_workflow_ended_unfinished_is_failed_with_a_code(
    database_url: str, tmp_path: Path
) -> None:
    async with app_client(_settings(database_url, tmp_path)) as http:  # type: ignore[arg-type]
        account = await register(http)
        client = await create_client(account.gql, account.workspace_id)
        campaign = await create_campaign(account.gql, client)
        job = (await account.gql(CREATE_JOB, {"i": brief(client, campaign, 15)})).ok()["createJob"][
            "job"
        ]
        await wait_status(account.gql, job["id"], {"STORYBOARD_READY"})
        runtime = http._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.sessionmaker() as session, session.begin():
            await session.execute(
                sa.update(Job)
                .where(col(Job.id) == decode_global_id(job["id"]).id)
                .values(status=JobStatus.STORYBOARD_PROCESSING)
            )
        assert (await runtime.work.recover()).failed_jobs == 1
        failed = (await account.gql(JOB, {"id": job["id"]})).ok()["node"]
        assert failed == {"status": "FAILED", "errorCode": "INTERNAL_ERROR"}
        assert (await runtime.work.recover()).failed_jobs == 0


async def test_a_row_its_workflow_finishes_during_the_sweep_is_neither_failed_nor_counted(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app_client(_settings(database_url, tmp_path)) as http:  # type: ignore[arg-type]
        account = await register(http)
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        assert (await wait_final(account.gql, started["id"]))["status"] == "SUCCEEDED"
        runtime = http._transport.app.state.runtime  # type: ignore[attr-defined]
        generation_id = decode_global_id(started["id"]).id
        await _set_status(runtime, generation_id, GenerationStatus.PROCESSING)
        looked_up = recovery.workflow_state

        async def finished_meanwhile(workflow: str) -> str | None:
            # The sweep read the row while it ran; its workflow commits the result, then ends.
            await _set_status(runtime, generation_id, GenerationStatus.SUCCEEDED)
            return await looked_up(workflow)

        monkeypatch.setattr(recovery, "workflow_state", finished_meanwhile)
        swept = await runtime.work.recover()
        assert swept.failed_generations == 0
        assert (await wait_final(account.gql, started["id"]))["status"] == "SUCCEEDED"


async def _set_status(runtime: Any, generation_id: uuid.UUID, status: GenerationStatus) -> None:
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(
            sa.update(Generation).where(col(Generation.id) == generation_id).values(status=status)
        )


SCENES = "query($id: ID!) { node(id: $id) { ... on Job { status scenes { id image { id } } } } }"
REGENERATE = "mutation($s: ID!) { regenerateScene(sceneId: $s) { job { status } } }"


async def test_a_scene_refresh_that_never_started_runs_after_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    """A refresh's arguments (which scene, whether to recompose) are recorded with the job,
    so the sweep starts that phase too, not only the storyboard and the render."""
    async with app_client(_settings(database_url, tmp_path)) as http:  # type: ignore[arg-type]
        account = await register(http)
        client = await create_client(account.gql, account.workspace_id)
        campaign = await create_campaign(account.gql, client)
        created = (await account.gql(CREATE_JOB, {"i": brief(client, campaign, 15)})).ok()
        job = created["createJob"]["job"]["id"]
        await wait_status(account.gql, job, {"STORYBOARD_READY"})
        before = (await account.gql(SCENES, {"id": job})).ok()["node"]["scenes"][0]
        token = account.gql.token
    lost_engine = f"sqlite:///{(tmp_path / 'lost-engine.sqlite').as_posix()}"
    lost = _settings(database_url, tmp_path, engine_database_url=lost_engine, execute_work=False)
    async with app_client(lost) as http:  # type: ignore[arg-type]
        refreshed = await GraphQL(http, token)(REGENERATE, {"s": before["id"]})
        assert refreshed.ok()["regenerateScene"]["job"]["status"] == "STORYBOARD_PROCESSING"

    async with app_client(_settings(database_url, tmp_path)) as http:  # type: ignore[arg-type]
        gql = GraphQL(http, token)
        await wait_status(gql, job, {"STORYBOARD_READY"})
        after = (await gql(SCENES, {"id": job})).ok()["node"]["scenes"][0]
    assert after["id"] == before["id"]
    assert after["image"]["id"] != before["image"]["id"]  # the refresh itself ran


async def test_a_job_generation_is_left_to_its_job_or_failed_once_the_job_has_ended(
    database_url: str, tmp_path: Path
) -> None:
    """A job's generation runs as a child of the job's workflow: the sweep never starts it on
    its own (the job's workflow does, when it resumes), and fails it once the job has ended."""
    async with app_client(_settings(database_url, tmp_path)) as http:  # type: ignore[arg-type]
        account = await register(http)
        client = await create_client(account.gql, account.workspace_id)
        campaign = await create_campaign(account.gql, client)
        created = (await account.gql(CREATE_JOB, {"i": brief(client, campaign, 15)})).ok()
        job_pk = decode_global_id(created["createJob"]["job"]["id"]).id
        await wait_status(account.gql, created["createJob"]["job"]["id"], {"STORYBOARD_READY"})
        runtime = http._transport.app.state.runtime  # type: ignore[attr-defined]
        async with runtime.sessionmaker() as session, session.begin():
            job = await session.get(Job, job_pk)
            assert job is not None
            orphan = Generation(
                workspace_id=job.workspace_id,
                client_id=job.client_id,
                job_id=job.id,
                created_by_id=job.created_by_id,
                kind=GenerationKind.IMAGE,
                model="adstudio/local-image",
                provider="local",
                input={"params": {"prompt": "x"}},
            )
            orphan.workflow_id = generation_workflow_id(orphan.id)
            session.add(orphan)
            job.status = JobStatus.STORYBOARD_PROCESSING  # its workflow has ended meanwhile
        swept = await runtime.work.recover()
        assert (swept.failed_jobs, swept.started_generations, swept.failed_generations) == (1, 0, 0)
        assert await recovery.workflow_state(orphan.workflow_id) is None  # not started alone
        swept = await runtime.work.recover()
        assert (swept.started_generations, swept.failed_generations) == (0, 1)
        async with runtime.read_sessionmaker() as session:
            row = await session.get(Generation, orphan.id)
        assert row is not None
        assert (row.status, row.error_code) == (GenerationStatus.FAILED, "INTERNAL_ERROR")
