"""Ad-video jobs end to end on the local provider: brief -> storyboard -> review -> MP4."""

from __future__ import annotations

import asyncio
import io
import itertools
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
import sqlalchemy as sa
from sqlmodel import col

from app.ids import decode_global_id
from app.media.compose import frame_counts
from app.models import Generation, JobEvent
from app.services.events import job_stream
from tests.conftest import app_client, make_settings
from tests.graphql import Account, GraphQL, create_campaign, create_client, register

JOB = """
query($id: ID!) { node(id: $id) { ... on Job {
  id status approved refinementCount errorMessage
  progress { stage percent message currentStep totalSteps }
  estimatedCost { amount } actualCost { amount }
  videoSpecs { duration aspectRatio }
  scenes { id number duration status transition shotType image { id } video { id } }
  finalVideo { id url ... on VideoAsset { duration width height } }
} } }
"""
CREATE = """
mutation($i: CreateJobInput!) { createJob(input: $i) {
  job { id status } estimate { total { amount } breakdown { stage model quantity cost { amount } } assumptions validUntil }
} }
"""


def brief(client: str, campaign: str, duration: int = 30, **advanced: Any) -> dict[str, Any]:
    return {
        "context": {"clientId": client, "campaignId": campaign},
        "adBasics": {
            "product": "Fizz Cola",
            "targetAudience": "students",
            "keyMessage": "Zero sugar, all fizz",
            "callToAction": "Grab one today",
        },
        "creative": {
            "direction": {
                "style": "bold pop art",
                "tone": "playful",
                "visualElements": ["bubbles"],
                "musicStyle": "upbeat synth",
            },
            "videoSpecs": {"duration": duration, "aspectRatio": "9:16", "resolution": "480p"},
        },
        "advanced": advanced or None,
    }


async def wait_status(
    gql: GraphQL, job_id: str, wanted: set[str], timeout: float = 120
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        job = (await gql(JOB, {"id": job_id})).ok()["node"]
        if job["status"] in wanted:
            return job
        if job["status"] == "FAILED":
            raise AssertionError(f"job failed: {job}")
        await asyncio.sleep(0.2)
    raise AssertionError(f"job did not reach {wanted}: {job}")


@pytest.fixture
async def studio(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Account, str, str]]:
    settings = make_settings(
        database_url,
        tmp_path,
        engine_enabled=True,
        local_latency_seconds=0.05,
        generation_poll_seconds=0.05,
    )
    async with app_client(settings) as http:
        account = await register(http)
        client = await create_client(account.gql, account.workspace_id)
        campaign = await create_campaign(account.gql, client)
        yield http, account, client, campaign


class TestJobJourney:
    async def test_brief_to_a_30_second_portrait_mp4_with_audio(
        self, studio: tuple[httpx.AsyncClient, Account, str, str]
    ) -> None:
        http, account, client, campaign = studio
        await _brand_and_campaign_brief(account, client, campaign)
        estimate = await account.gql(
            "query($i: CreateJobInput!) { estimateJobCost(input: $i) { total { amount } breakdown { stage } validUntil } }",
            {"i": brief(client, campaign)},
        )
        assert [b["stage"] for b in estimate.ok()["estimateJobCost"]["breakdown"]] == [
            "storyboard images",
            "scene videos",
            "music",
        ]
        created = (await account.gql(CREATE, {"i": brief(client, campaign)})).ok()["createJob"]
        job_id = created["job"]["id"]
        ready = await wait_status(account.gql, job_id, {"STORYBOARD_READY"})
        assert len(ready["scenes"]) == 4
        assert sum(s["duration"] for s in ready["scenes"]) == pytest.approx(30)
        assert all(s["image"] for s in ready["scenes"])
        first = ready["scenes"][0]
        regen = await account.gql(
            'mutation($s: ID!) { regenerateScene(sceneId: $s, prompt: "brighter, more bubbles") { scene { status } job { refinementCount } } }',
            {"s": first["id"]},
        )
        assert regen.ok()["regenerateScene"]["job"]["refinementCount"] == 1
        again = await wait_status(account.gql, job_id, {"STORYBOARD_READY"})
        assert again["scenes"][0]["image"]["id"] != first["image"]["id"]
        approved = await account.gql(
            "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { status approved } } }",
            {"j": job_id},
        )
        assert approved.ok()["approveStoryboard"]["job"] == {
            "status": "VIDEO_PROCESSING",
            "approved": True,
        }
        done = await wait_status(account.gql, job_id, {"COMPLETED"}, timeout=240)
        video = done["finalVideo"]
        assert video["duration"] == pytest.approx(30, abs=1 / 24)
        assert video["height"] > video["width"]
        data = (await http.get(video["url"].replace("http://127.0.0.1:8000", ""))).content
        with av.open(io.BytesIO(data), "r") as container:
            assert container.streams.video
            assert container.streams.audio
            assert (container.duration or 0) / av.time_base == pytest.approx(30, abs=1 / 24)
        frames = _frames(data)
        assert abs(len(frames) - 30 * 24) <= 1
        for end in _scene_ends(done["scenes"])[:-1]:  # no clip ends on a frozen frame
            assert _longest_still(frames[end - 6 : end]) <= 2, f"frozen before frame {end}"
        assert done["progress"]["percent"] == 100
        progress = done["progress"]
        assert progress["currentStep"] == progress["totalSteps"] == 4 * 2 + 3
        runtime = http._transport.app.state.runtime  # type: ignore[attr-defined]
        await _check_parts_and_prompts(runtime, decode_global_id(job_id).id)
        estimated = float(done["estimatedCost"]["amount"])
        actual = float(done["actualCost"]["amount"])
        assert estimated > 0  # offline, the catalog's models are simulated at their prices
        assert abs(actual - estimated) <= 0.1 * estimated + 1e-9
        spend = await account.gql(
            "query($c: ID!) { node(id: $c) { ... on Campaign { stats { totalSpend { amount } } } } }",
            {"c": campaign},
        )
        assert float(spend.ok()["node"]["stats"]["totalSpend"]["amount"]) == pytest.approx(actual)


class TestJobRules:
    async def test_approval_only_from_storyboard_ready_and_budgets(
        self, studio: tuple[httpx.AsyncClient, Account, str, str]
    ) -> None:
        _, account, client, campaign = studio
        job_id = (await account.gql(CREATE, {"i": brief(client, campaign, 15)})).ok()["createJob"][
            "job"
        ]["id"]
        early = await account.gql(
            "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }", {"j": job_id}
        )
        assert early.code == "CONFLICT"
        bad = await account.gql(
            CREATE,
            {
                "i": {
                    **brief(client, campaign),
                    "adBasics": {
                        "product": "",
                        "targetAudience": "a",
                        "keyMessage": "b",
                        "callToAction": "c",
                    },
                }
            },
        )
        assert bad.code == "BAD_USER_INPUT"
        assert "product" in bad.errors[0]["extensions"]["fields"]

    async def test_the_sixth_job_in_a_minute_is_rate_limited(
        self, studio: tuple[httpx.AsyncClient, Account, str, str]
    ) -> None:
        _, account, client, campaign = studio
        for _ in range(5):
            job = (await account.gql(CREATE, {"i": brief(client, campaign, 15)})).ok()["createJob"][
                "job"
            ]
            await account.gql(
                "mutation($j: ID!) { cancelJob(jobId: $j) { job { id } } }", {"j": job["id"]}
            )
        limited = await account.gql(CREATE, {"i": brief(client, campaign, 15)})
        assert limited.code == "RATE_LIMITED"

    async def test_cancel_stops_the_job(
        self, studio: tuple[httpx.AsyncClient, Account, str, str]
    ) -> None:
        _, account, client, campaign = studio
        job_id = (await account.gql(CREATE, {"i": brief(client, campaign, 15)})).ok()["createJob"][
            "job"
        ]["id"]
        cancelled = await account.gql(
            "mutation($j: ID!) { cancelJob(jobId: $j) { job { status } } }", {"j": job_id}
        )
        assert cancelled.ok()["cancelJob"]["job"]["status"] == "CANCELLED"
        await asyncio.sleep(1.0)
        assert (await account.gql(JOB, {"id": job_id})).ok()["node"]["status"] == "CANCELLED"


async def _brand_and_campaign_brief(account: Account, client: str, campaign: str) -> None:
    brand = {"colors": ["#E10600"], "fonts": ["Futura Bold"], "examples": ["the summer spot"]}
    await account.gql(
        "mutation($i: UpdateClientInput!) { updateClient(input: $i) { client { id } } }",
        {"i": {"id": client, "brandGuidelines": brand}},
    )
    campaign_brief = {"objective": "win back lapsed students", "keyMessages": ["half the sugar"]}
    result = await account.gql(  # with a budget, so every step is checked against it
        "mutation($i: UpdateCampaignInput!) { updateCampaign(input: $i) { campaign { id } } }",
        {"i": {"id": campaign, "brief": campaign_brief, "budget": {"amount": "25.00"}}},
    )
    result.ok()


def _frames(data: bytes) -> list[np.ndarray]:
    with av.open(io.BytesIO(data), "r") as container:
        return [
            frame.to_ndarray(format="gray").astype(np.int16) for frame in container.decode(video=0)
        ]


def _scene_ends(scenes: list[dict[str, Any]]) -> list[int]:
    """The frame at which each scene ends, as the composition cuts them."""
    counts = frame_counts([float(s["duration"]) for s in scenes])
    return [sum(counts[: i + 1]) for i in range(len(counts))]


def _longest_still(frames: list[np.ndarray]) -> int:
    """The longest run of frames that do not change (a frozen frame shows as a run)."""
    longest = run = 1
    for before, after in itertools.pairwise(frames):
        run = run + 1 if float(np.abs(after - before).mean()) < 0.5 else 1
        longest = max(longest, run)
    return longest


async def _check_parts_and_prompts(runtime: Any, job_id: uuid.UUID) -> None:
    async with runtime.read_sessionmaker() as session:
        events = (
            (
                await session.execute(
                    sa.select(JobEvent)
                    .where(col(JobEvent.stream_id) == job_stream(job_id))
                    .order_by(col(JobEvent.seq))
                )
            )
            .scalars()
            .all()
        )
        prompts = [
            g.input["params"].get("prompt") or ""
            for g in (
                await session.execute(sa.select(Generation).where(col(Generation.job_id) == job_id))
            ).scalars()
        ]
    parts = [e for e in events if e.type == "job.part_finished"]
    kinds = [e.payload["part"] for e in parts]
    assert kinds.count("video") == 4
    assert kinds.count("music") == 1
    assert kinds.count("image") == 4 + 1  # the storyboard, then the regenerated scene
    approved = next(i for i, e in enumerate(events) if e.type == "job.approved")
    render = [e.payload["progress"] for e in events[approved:] if e.type == "job.part_finished"]
    steps = [p["currentStep"] for p in render]
    assert steps == sorted(steps)
    assert len(set(steps)) == len(steps) == 5
    assert any("Zero sugar, all fizz" in prompt for prompt in prompts)
    assert any("Futura Bold" in prompt for prompt in prompts)
    image_prompts = [p for p in prompts if "photography" in p]
    assert image_prompts
    assert all("win back lapsed students" in p for p in image_prompts)
