"""Jobs on the fake Replicate: budgets, review edits, retry without re-paying, cancel."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.generation.catalog import load_catalog
from app.ids import decode_global_id
from app.models import Job, JobEvent
from app.models.enums import JobStatus
from tests.conftest import app_client, make_settings
from tests.fake_replicate import FakeReplicate, running_fake
from tests.graphql import Account, create_client, register
from tests.test_jobs import CREATE, JOB, brief, wait_status

Env = tuple[httpx.AsyncClient, Account, FakeReplicate, str]


@pytest.fixture
def fake() -> Iterator[FakeReplicate]:
    with running_fake() as server:
        yield server


@pytest.fixture
async def env(database_url: str, tmp_path: Path, fake: FakeReplicate) -> AsyncIterator[Env]:
    settings = make_settings(
        database_url,
        tmp_path,
        engine_enabled=True,
        generation_poll_seconds=0.05,
        replicate_api_token=SecretStr(fake.token),
        replicate_base_url=fake.base,
        workspace_concurrency=10,
    )
    async with app_client(settings) as http:
        account = await register(http)
        yield http, account, fake, await create_client(account.gql, account.workspace_id)


async def _campaign(account: Account, client: str, budget: str | None = None) -> str:
    data = {
        "clientId": client,
        "name": "Launch",
        "goal": "Sell",
        **({"budget": {"amount": budget}} if budget else {}),
    }
    result = await account.gql(
        "mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { campaign { id } } }",
        {"i": data},
    )
    return str(result.ok()["createCampaign"]["campaign"]["id"])


async def _ready_job(account: Account, client: str, campaign: str) -> dict[str, object]:
    job_id = (await account.gql(CREATE, {"i": brief(client, campaign, 15)})).ok()["createJob"][
        "job"
    ]["id"]
    return await wait_status(account.gql, job_id, {"STORYBOARD_READY"})


class TestBudget:
    async def test_a_job_over_the_remaining_budget_is_refused(self, env: Env) -> None:
        _, account, fake, client = env
        campaign = await _campaign(account, client, budget="0.50")
        estimate = (
            await account.gql(
                "query($i: CreateJobInput!) { estimateJobCost(input: $i) { total { amount } } }",
                {"i": brief(client, campaign, 15)},
            )
        ).ok()["estimateJobCost"]["total"]["amount"]
        assert float(estimate) > 0.5
        refused = await account.gql(CREATE, {"i": brief(client, campaign, 15)})
        assert refused.code == "BUDGET_EXCEEDED"
        assert refused.errors[0]["extensions"]["estimate"] == estimate
        assert sum(fake.creations.values()) == 0


class TestReview:
    async def test_edit_reorder_reject_and_the_refinement_cap(self, env: Env) -> None:
        _, account, fake, client = env
        job = await _ready_job(account, client, await _campaign(account, client))
        scenes = job["scenes"]
        assert isinstance(scenes, list)
        updated = await account.gql(
            "mutation($i: UpdateSceneInput!) { updateScene(input: $i) { scene { duration description } job { scenes { duration } } } }",
            {"i": {"sceneId": scenes[0]["id"], "duration": 6, "description": "A closer hook"}},
        )
        payload = updated.ok()["updateScene"]
        assert payload["scene"] == {"duration": 6.0, "description": "A closer hook"}
        assert sum(s["duration"] for s in payload["job"]["scenes"]) == pytest.approx(15)
        order = [s["id"] for s in reversed(scenes)]
        reordered = await account.gql(
            "mutation($j: ID!, $s: [ID!]!) { reorderScenes(jobId: $j, sceneIds: $s) { job { scenes { id transition } } } }",
            {"j": job["id"], "s": order},
        )
        after = reordered.ok()["reorderScenes"]["job"]["scenes"]
        assert [s["id"] for s in after] == order
        assert after[0]["transition"] == "FADE"
        images_before = fake.creations["black-forest-labs/flux-schnell"]
        rejected = await account.gql(
            'mutation($j: ID!) { rejectStoryboard(jobId: $j, feedback: "More summer, less studio") { job { status refinementCount } } }',
            {"j": job["id"]},
        )
        assert rejected.ok()["rejectStoryboard"]["job"] == {
            "status": "STORYBOARD_PROCESSING",
            "refinementCount": 1,
        }
        replanned = await wait_status(account.gql, str(job["id"]), {"STORYBOARD_READY"})
        assert fake.creations["black-forest-labs/flux-schnell"] == images_before + 3
        assert {s["id"] for s in replanned["scenes"]}.isdisjoint(order)
        for _ in range(4):
            scene = (await account.gql(JOB, {"id": job["id"]})).ok()["node"]["scenes"][0]["id"]
            (
                await account.gql(
                    "mutation($s: ID!) { regenerateScene(sceneId: $s) { job { id } } }",
                    {"s": scene},
                )
            ).ok()
            await wait_status(account.gql, str(job["id"]), {"STORYBOARD_READY"})
        scene = (await account.gql(JOB, {"id": job["id"]})).ok()["node"]["scenes"][0]["id"]
        capped = await account.gql(
            "mutation($s: ID!) { regenerateScene(sceneId: $s) { job { id } } }", {"s": scene}
        )
        assert capped.code == "CONFLICT"


class TestPlanner:
    async def test_a_hosted_text_model_plans_the_storyboard(self, env: Env) -> None:
        _, account, fake, client = env
        job = await _ready_job(account, client, await _campaign(account, client))
        scenes = job["scenes"]
        assert isinstance(scenes, list)
        assert fake.creations["meta/meta-llama-3-8b-instruct"] == 1
        assert [s["shotType"] for s in scenes] == ["WIDE", "CLOSE_UP", "WIDE"]
        assert [s["transition"] for s in scenes] == ["FADE", "DISSOLVE", "DISSOLVE"]
        sent = next(
            p for p in fake.predictions.values() if p.model == "meta/meta-llama-3-8b-instruct"
        )
        assert "Fizz Cola" in sent.input["prompt"]
        assert "bubbles" in sent.input["prompt"]

    async def test_an_invalid_plan_falls_back_to_the_deterministic_planner(self, env: Env) -> None:
        _, account, fake, client = env
        fake.text_output = '{"scenes": [{"description": "only one"}]}'
        job = await _ready_job(account, client, await _campaign(account, client))
        scenes = job["scenes"]
        assert isinstance(scenes, list)
        assert len(scenes) == 3
        assert [s["shotType"] for s in scenes] == ["WIDE", "CLOSE_UP", "PRODUCT"]


class TestCost:
    async def test_an_actual_cost_far_above_the_estimate_is_recorded(
        self, env: Env, db: AsyncSession
    ) -> None:
        _, account, fake, client = env
        campaign = await _campaign(account, client)
        job = await _ready_job(account, client, campaign)
        fake.predict_time = 900.0  # the music takes far longer than the catalog assumes
        (
            await account.gql(
                "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }",
                {"j": job["id"]},
            )
        ).ok()
        done = await wait_status(account.gql, str(job["id"]), {"COMPLETED"}, timeout=120)
        assert float(done["actualCost"]["amount"]) > 1.2 * float(done["estimatedCost"]["amount"])
        events = (
            (
                await db.execute(
                    sa.select(col(JobEvent.type)).where(
                        col(JobEvent.stream_id) == f"job:{decode_global_id(str(job['id'])).id.hex}"
                    )
                )
            )
            .scalars()
            .all()
        )
        assert "job.cost_overrun" in events
        assert events[-1] in {"job.cost_overrun", "job.completed"}
        listed = await account.gql(
            "query($c: ID!) { node(id: $c) { ... on Campaign { jobs(filter: {status: [COMPLETED]}) { totalCount } stats { videoCount } } } }",
            {"c": campaign},
        )
        assert listed.ok()["node"] == {"jobs": {"totalCount": 1}, "stats": {"videoCount": 1}}


class TestRetryAndCancel:
    async def test_retry_resumes_without_paying_again_for_finished_work(self, env: Env) -> None:
        _, account, fake, client = env
        job = await _ready_job(account, client, await _campaign(account, client))
        images = fake.creations["black-forest-labs/flux-schnell"]
        fake.mode = "fail"
        (
            await account.gql(
                "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }",
                {"j": job["id"]},
            )
        ).ok()
        failed = await _wait_failed(account, str(job["id"]))
        assert failed["errorMessage"]
        spent_on_storyboard = 3 * 0.003 + 0.001  # a failed job still shows what it spent
        assert float(failed["actualCost"]["amount"]) >= spent_on_storyboard  # type: ignore[index]
        first_round = fake.creations["bytedance/seedance-1-lite"]
        fake.mode = "succeed"
        retried = await account.gql(
            "mutation($j: ID!) { retryJob(jobId: $j) { job { status } } }", {"j": job["id"]}
        )
        assert retried.ok()["retryJob"]["job"]["status"] == "VIDEO_PROCESSING"
        done = await wait_status(account.gql, str(job["id"]), {"COMPLETED"}, timeout=180)
        assert done["finalVideo"]
        assert fake.creations["black-forest-labs/flux-schnell"] == images  # storyboard not re-paid
        assert fake.creations["bytedance/seedance-1-lite"] == first_round + 3

    async def test_cancel_during_video_processing_leaves_nothing_running(self, env: Env) -> None:
        _, account, fake, client = env
        job = await _ready_job(account, client, await _campaign(account, client))
        fake.mode = "hold"
        (
            await account.gql(
                "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }",
                {"j": job["id"]},
            )
        ).ok()
        await _until(  # every clip and the music are running upstream
            lambda: (
                fake.creations["bytedance/seedance-1-lite"] >= 3
                and fake.creations["meta/musicgen"] >= 1
            )
        )
        (
            await account.gql(
                "mutation($j: ID!) { cancelJob(jobId: $j) { job { status } } }", {"j": job["id"]}
            )
        ).ok()
        await _until(
            lambda: all(
                p.status in ("succeeded", "failed", "canceled") for p in fake.predictions.values()
            )
        )
        generations = await account.gql(
            "query($w: ID!) { node(id: $w) { ... on Workspace { generations(filter: {status: [QUEUED, RUNNING]}) { totalCount } } } }",
            {"w": account.workspace_id},
        )
        assert generations.ok()["node"]["generations"]["totalCount"] == 0
        cancelled = (await account.gql(JOB, {"id": job["id"]})).ok()["node"]
        assert cancelled["status"] == "CANCELLED"
        # What it spent stays visible: the storyboard (plan and images) and the GPU time the
        # cancelled music used upstream. The scenes that were rendering stop.
        music = load_catalog().get("meta/musicgen").hardware_rate or 0
        spent = 3 * 0.003 + 0.001 + fake.predict_time * float(music)
        for _ in range(300):  # the music's cost is booked once its cancel is confirmed
            cancelled = (await account.gql(JOB, {"id": job["id"]})).ok()["node"]
            if float(cancelled["actualCost"]["amount"]) >= spent - 1e-9:
                break
            await asyncio.sleep(0.1)
        assert float(cancelled["actualCost"]["amount"]) == pytest.approx(spent)
        assert {s["status"] for s in cancelled["scenes"]} == {"CANCELLED"}


async def _until(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    """Wait for ``condition`` (checked every 0.1 s); fail if it is not met in time."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition was not met in time"
        await asyncio.sleep(0.1)


async def _wait_failed(account: Account, job_id: str) -> dict[str, object]:
    for _ in range(300):
        job = (await account.gql(JOB, {"id": job_id})).ok()["node"]
        if job["status"] == "FAILED":
            return dict(job)
        await asyncio.sleep(0.1)
    raise AssertionError("the job did not fail")


GENERATE_VIDEO = """
mutation($i: GenerateVideoInput!) { generateVideo(input: $i) {
  generation { id status startImageGeneration { id } } } }
"""
GENERATION = """
query($id: ID!) { generation(id: $id) { status errorCode
  startImageGeneration { id status predictionId } } }
"""


class TestBudgetsGuardAllSpending:
    async def test_a_standalone_generation_over_the_budget_is_refused(self, env: Env) -> None:
        _, account, fake, client = env
        campaign = await _campaign(account, client, budget="0.01")
        video = {"campaignId": campaign, "prompt": "a can of cola", "duration": 5}
        refused = await account.gql(GENERATE_VIDEO, {"i": video})
        assert refused.code == "BUDGET_EXCEEDED"
        assert refused.errors[0]["extensions"]["estimate"] == "0.183000"  # 5 s + start image
        assert sum(fake.creations.values()) == 0
        image = await account.gql(
            "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }",
            {"i": {"campaignId": campaign, "prompt": "a can of cola"}},
        )
        assert image.ok()  # 0.003 fits

    async def test_refinements_and_retries_are_refused_past_the_budget(
        self, env: Env, db: AsyncSession
    ) -> None:
        _, account, fake, client = env
        campaign = await _campaign(account, client)
        job = await _ready_job(account, client, campaign)
        estimate = (await account.gql(JOB, {"id": job["id"]})).ok()["node"]["estimatedCost"]
        await _set_budget(account, campaign, estimate["amount"])  # all of it is reserved
        creations = sum(fake.creations.values())
        scene = job["scenes"][0]["id"]  # type: ignore[index]
        for mutation, variables in (
            (
                'mutation($j: ID!) { rejectStoryboard(jobId: $j, feedback: "warmer") { job { id } } }',
                {"j": job["id"]},
            ),
            ("mutation($s: ID!) { regenerateScene(sceneId: $s) { job { id } } }", {"s": scene}),
        ):
            refused = await account.gql(mutation, variables)
            assert refused.code == "BUDGET_EXCEEDED", mutation
        await db.execute(
            sa.update(Job).where(col(Job.id) == _pk(job["id"])).values(status=JobStatus.FAILED)
        )
        await db.commit()
        await _set_budget(account, campaign, "0.011")  # a failed job reserves nothing: lower it
        refused = await account.gql(
            "mutation($j: ID!) { retryJob(jobId: $j) { job { id } } }", {"j": job["id"]}
        )
        assert refused.code == "BUDGET_EXCEEDED"
        assert sum(fake.creations.values()) == creations


class TestCancelReachesTheStartImage:
    async def test_cancelling_a_video_cancels_its_start_image_upstream(self, env: Env) -> None:
        _, account, fake, client = env
        fake.mode = "hold"
        data = {"clientId": client, "prompt": "a can of cola", "duration": 5}
        video = (await account.gql(GENERATE_VIDEO, {"i": data})).ok()["generateVideo"]
        image = await _until_running(account, video["generation"]["id"])
        result = await account.gql(
            "mutation($i: CancelGenerationInput!) { cancelGeneration(input: $i) { generation { status } } }",
            {"i": {"id": video["generation"]["id"]}},
        )
        assert result.ok()["cancelGeneration"]["generation"]["status"] == "CANCELED"
        await _until(lambda: fake.cancels[image["predictionId"]] >= 1)
        assert fake.predictions[image["predictionId"]].status == "canceled"
        after = (await account.gql(GENERATION, {"id": video["generation"]["id"]})).ok()
        assert after["generation"]["startImageGeneration"]["status"] == "CANCELED"
        assert fake.creations["bytedance/seedance-1-lite"] == 0  # the video never started


async def _until_running(account: Account, video: str) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = (await account.gql(GENERATION, {"id": video})).ok()["generation"]
        image = found["startImageGeneration"]
        if image and image["predictionId"]:
            return dict(image)
        await asyncio.sleep(0.05)
    raise AssertionError("the start image never reached the provider")


async def _set_budget(account: Account, campaign: str, amount: str) -> None:
    result = await account.gql(
        "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { id } } }",
        {"i": {"id": campaign, "budget": {"amount": amount}}},
    )
    result.ok()


def _pk(global_id: object) -> uuid.UUID:
    return decode_global_id(str(global_id)).id
