"""``Job.scenes``: batched for every job of a page, in storyboard order, and read afresh by each
mutation field of an operation."""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from httpx_ws import AsyncWebSocketSession
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from app.ids import decode_global_id, encode_global_id
from app.models import Job, Scene
from app.models.enums import JobStatus, SceneStatus
from app.runtime import Runtime
from app.services.events import job_stream, record
from tests.graphql import Account, create_client
from tests.ws import ws_session

JOBS = """
query($w: ID!) { node(id: $w) { ... on Workspace {
  jobs(first: 10) { nodes { id scenes { id number } } }
} } }
"""

REORDER_TWICE = """
mutation($j: ID!, $first: [ID!]!, $second: [ID!]!) {
  a: reorderScenes(jobId: $j, sceneIds: $first) { job { scenes { id number } } }
  b: reorderScenes(jobId: $j, sceneIds: $second) { job { scenes { id number } } }
}
"""

UPDATED = "subscription($j: ID!) { jobUpdated(jobId: $j) { status scenes { status } } }"
CHANGE_SECONDS = 10.0  # a writer waiting on a subscriber's lock waits the 30 s busy timeout


async def _job_with_scenes(
    owner: Account, db: AsyncSession, count: int, status: JobStatus = JobStatus.STORYBOARD_READY
) -> tuple[str, list[str]]:
    client_id = decode_global_id(await create_client(owner.gql, owner.workspace_id)).id
    job = Job(
        workspace_id=decode_global_id(owner.workspace_id).id,
        client_id=client_id,
        product="Fizz",
        target_audience="Teens",
        key_message="Cold",
        call_to_action="Buy",
        style="Modern",
        status=status,
    )
    db.add(job)
    await db.flush()
    scenes = [
        Scene(job_id=job.id, number=n, description="d", image_prompt="p", duration_seconds=5)
        for n in range(count, 0, -1)  # stored out of order
    ]
    db.add_all(scenes)
    await db.commit()
    ordered = sorted(scenes, key=lambda s: s.number)
    return encode_global_id("Job", job.id), [encode_global_id("Scene", s.id) for s in ordered]


class TestJobScenes:
    async def test_each_job_gets_its_own_scenes_in_order(
        self, owner: Account, db: AsyncSession
    ) -> None:
        made = dict([await _job_with_scenes(owner, db, n) for n in (3, 4, 5)])
        result = await owner.gql(JOBS, {"w": owner.workspace_id})
        jobs = result.ok()["node"]["jobs"]["nodes"]
        assert {job["id"]: [s["id"] for s in job["scenes"]] for job in jobs} == made
        assert all(
            [s["number"] for s in job["scenes"]] == list(range(1, len(job["scenes"]) + 1))
            for job in jobs
        )

    async def test_another_workspace_cannot_reach_them_through_a_scene_id(
        self, owner: Account, stranger: Account, db: AsyncSession
    ) -> None:
        _, scenes = await _job_with_scenes(owner, db, 3)
        result = await stranger.gql(
            "query($s: ID!) { node(id: $s) { ... on Scene { number } } }", {"s": scenes[0]}
        )
        assert result.code == "NOT_FOUND"

    async def test_a_second_mutation_field_sees_what_the_first_changed(
        self, owner: Account, db: AsyncSession
    ) -> None:
        job_id, scenes = await _job_with_scenes(owner, db, 3)
        first, second = list(reversed(scenes)), [scenes[1], scenes[0], scenes[2]]
        result = await owner.gql(REORDER_TWICE, {"j": job_id, "first": first, "second": second})
        data = result.ok()
        assert [s["id"] for s in data["a"]["job"]["scenes"]] == first
        assert [s["id"] for s in data["b"]["job"]["scenes"]] == second


async def _change(
    runtime: Runtime, job_id: str, status: SceneStatus, *, job_status: JobStatus | None = None
) -> None:
    """Every scene of the job to ``status``, announced the way the engine announces it."""
    job_pk = decode_global_id(job_id).id
    async with runtime.sessionmaker() as session, session.begin():
        job = await session.get(Job, job_pk)
        assert job is not None
        for scene in await session.scalars(sa.select(Scene).where(col(Scene.job_id) == job_pk)):
            scene.status = status
        if job_status is not None:
            job.status = job_status
        await record(session, workspace_id=job.workspace_id, stream_id=job_stream(job_pk), type="t")


async def _next(ws: AsyncWebSocketSession) -> dict[str, Any]:
    message = await ws.receive_json(timeout=CHANGE_SECONDS)
    assert message["type"] == "next", message
    return dict(message["payload"]["data"]["jobUpdated"])


class TestJobUpdated:
    async def test_follows_the_scenes_and_holds_nothing_between_events(
        self, app: Starlette, owner: Account, db: AsyncSession
    ) -> None:
        runtime: Runtime = app.state.runtime
        job_id, _ = await _job_with_scenes(owner, db, 3, JobStatus.STORYBOARD_PROCESSING)
        async with ws_session(app, owner.gql.token) as ws:
            payload = {"query": UPDATED, "variables": {"j": job_id}}
            await ws.send_json({"id": "1", "type": "subscribe", "payload": payload})
            assert (await _next(ws))["scenes"] == [{"status": "PENDING"}] * 3
            change = asyncio.create_task(_change(runtime, job_id, SceneStatus.IMAGE_READY))
            assert (await _next(ws))["scenes"] == [{"status": "IMAGE_READY"}] * 3
            await asyncio.wait_for(change, CHANGE_SECONDS)
            final = asyncio.create_task(
                _change(runtime, job_id, SceneStatus.FAILED, job_status=JobStatus.CANCELLED)
            )
            last = await _next(ws)
            await asyncio.wait_for(final, CHANGE_SECONDS)
            assert last == {"status": "CANCELLED", "scenes": [{"status": "FAILED"}] * 3}
            assert (await ws.receive_json(timeout=CHANGE_SECONDS))["type"] == "complete"
