"""``Job.scenes``: batched for every job of a page, in storyboard order, and read afresh by each
mutation field of an operation."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import decode_global_id, encode_global_id
from app.models import Job, Scene
from app.models.enums import JobStatus
from tests.graphql import Account, create_client

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
