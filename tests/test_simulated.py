"""Offline, the local provider stands in for the catalog's real models: same parameters, same
rules, same prices, real media of the requested length, and every line marked simulated."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
import sqlalchemy as sa
from sqlmodel import col
from starlette.applications import Starlette

from app.ids import decode_global_id
from app.models import CostEntry
from app.models.enums import CostKind
from tests.conftest import engine_app
from tests.generation_helpers import generate, wait_final
from tests.graphql import Account, create_campaign, create_client, register
from tests.test_jobs import brief

MODELS = "{ models { id kind provider available simulated price { amount { amount } } } }"
ESTIMATE = """
query($i: CreateJobInput!) { estimateJobCost(input: $i) {
  total { amount } simulated assumptions
  breakdown { stage model quantity simulated unitPrice { amount } cost { amount } }
} }
"""


@dataclass
class Offline:
    http: httpx.AsyncClient
    app: Starlette
    account: Account

    async def entries(self, generation_id: str) -> list[CostEntry]:
        pk = decode_global_id(generation_id).id
        async with self.app.state.runtime.sessionmaker() as session:
            rows = await session.execute(
                sa.select(CostEntry)
                .where(col(CostEntry.generation_id) == pk)
                .order_by(col(CostEntry.kind))
            )
            return list(rows.scalars())

    async def media(self, asset: dict[str, Any]) -> bytes:
        response = await self.http.get(asset["url"].replace("http://127.0.0.1:8000", ""))
        assert response.status_code == 200
        return response.content


@pytest.fixture
async def offline(database_url: str, tmp_path: Path) -> AsyncIterator[Offline]:
    async with engine_app(database_url, tmp_path) as (application, http):
        yield Offline(http, application, await register(http))


class TestTheCatalogOffline:
    async def test_says_which_models_are_available_and_which_are_simulated(
        self, offline: Offline
    ) -> None:
        models = {m["id"]: m for m in (await offline.account.gql(MODELS)).ok()["models"]}
        for model in models.values():
            media = model["kind"] in {"IMAGE", "VIDEO", "AUDIO"}
            if model["provider"] == "local":
                assert (model["available"], model["simulated"]) == (True, False), model
            else:  # a Replicate model: simulated if the local provider can render its kind
                assert (model["available"], model["simulated"]) == (media, media), model
        assert models["meta/meta-llama-3-8b-instruct"]["available"] is False
        assert models["bytedance/seedance-1-lite"]["price"]["amount"]["amount"] == "0.036"


class TestSimulatedGenerations:
    async def test_the_default_image_is_the_real_model_at_its_price_marked_simulated(
        self, offline: Offline
    ) -> None:
        gql = offline.account.gql
        started = await generate(
            gql, "image", {"workspaceId": offline.account.workspace_id, "prompt": "Sneaker"}
        )
        done = await wait_final(gql, started["id"])
        assert done["status"] == "SUCCEEDED", done
        assert (done["model"], done["provider"], done["simulated"]) == (
            "black-forest-labs/flux-schnell",
            "local",
            True,
        )
        assert (done["estimatedCost"]["amount"], done["cost"]["amount"]) == ("0.003", "0.003")
        assert done["outputAsset"]["kind"] == "IMAGE"
        entries = await offline.entries(started["id"])
        assert [(e.kind, e.amount, e.simulated) for e in entries] == [
            (CostKind.ACTUAL, Decimal("0.003"), True),
            (CostKind.ESTIMATE, Decimal("0.003"), True),
        ]

    async def test_a_video_is_as_long_as_the_model_would_make_it_and_billed_so(
        self, offline: Offline
    ) -> None:
        gql = offline.account.gql
        started = await generate(
            gql,
            "video",
            {
                "workspaceId": offline.account.workspace_id,
                "model": "bytedance/seedance-1-lite",
                "prompt": "Waves at dawn",
                "duration": 4,  # seedance makes 5 or 10 seconds: 5 is the shortest that covers it
                "aspectRatio": "9:16",
            },
        )
        done = await wait_final(gql, started["id"], timeout=90)
        assert done["status"] == "SUCCEEDED", done
        assert done["simulated"] is True
        assert done["cost"]["amount"] == "0.18"  # 5 s x 0.036
        start = done["startImageGeneration"]
        assert (start["model"], start["simulated"], start["cost"]["amount"]) == (
            "black-forest-labs/flux-schnell",
            True,
            "0.003",
        )
        video = done["outputAsset"]
        assert (video["width"], video["height"]) == (360, 640)
        with av.open(io.BytesIO(await offline.media(video)), "r") as container:
            stream = container.streams.video[0]
            assert stream.average_rate == 24  # seedance's frame rate
            assert stream.frames == 120
        assert video["duration"] == pytest.approx(5.0, abs=0.05)
        [actual] = [e for e in await offline.entries(started["id"]) if e.kind is CostKind.ACTUAL]
        assert (actual.quantity, actual.simulated) == (Decimal(5), True)

    async def test_gpu_billed_music_has_its_duration_and_the_models_gpu_time(
        self, offline: Offline
    ) -> None:
        gql = offline.account.gql
        started = await generate(
            gql,
            "audio",
            {"workspaceId": offline.account.workspace_id, "prompt": "Synth pop", "duration": 12},
        )
        done = await wait_final(gql, started["id"])
        assert (done["model"], done["simulated"]) == ("meta/musicgen", True)
        assert done["outputAsset"]["duration"] == pytest.approx(12.0, abs=0.05)
        assert done["cost"]["amount"] == "0.028"  # the expected 20 GPU s x 0.0014
        assert done["cost"] == {"amount": done["estimatedCost"]["amount"], "currency": "USD"}

    async def test_a_model_that_makes_short_clips_makes_them_offline_too(
        self, offline: Offline
    ) -> None:
        gql = offline.account.gql
        started = await generate(
            gql,
            "audio",
            {
                "workspaceId": offline.account.workspace_id,
                "model": "riffusion/riffusion",
                "prompt": "Lo-fi",
                "duration": 30,
            },
        )
        done = await wait_final(gql, started["id"])
        assert done["outputAsset"]["duration"] == pytest.approx(5.0, abs=0.05)  # its longest

    async def test_the_real_models_rules_apply(self, offline: Offline) -> None:
        result = await offline.account.gql(
            "mutation($i: GenerateVideoInput!) { generateVideo(input: $i) { generation { id } } }",
            {
                "i": {
                    "workspaceId": offline.account.workspace_id,
                    "model": "kwaivgi/kling-v2.1",
                    "prompt": "x",
                    "aspectRatio": "4:3",
                }
            },
        )
        assert result.code == "BAD_USER_INPUT"
        assert "aspectRatio" in result.errors[0]["extensions"]["fields"]

    @pytest.mark.parametrize("fps", [0, 61, 100_000])
    async def test_a_frame_rate_that_would_render_absurdly_is_refused(
        self, offline: Offline, fps: int
    ) -> None:
        result = await offline.account.gql(
            "mutation($i: GenerateVideoInput!) { generateVideo(input: $i) { generation { id } } }",
            {
                "i": {
                    "workspaceId": offline.account.workspace_id,
                    "model": "adstudio/local-video",
                    "prompt": "x",
                    "fps": fps,
                }
            },
        )
        assert result.code == "BAD_USER_INPUT"
        assert result.errors[0]["extensions"]["fields"] == {"fps": "must be between 1 and 60"}

    async def test_local_models_stay_free_and_real(self, offline: Offline) -> None:
        gql = offline.account.gql
        started = await generate(
            gql,
            "image",
            {
                "workspaceId": offline.account.workspace_id,
                "model": "adstudio/local-image",
                "prompt": "Logo",
            },
        )
        done = await wait_final(gql, started["id"])
        assert (done["simulated"], done["cost"]["amount"]) == (False, "0.00")
        assert [e.simulated for e in await offline.entries(started["id"])] == [False, False]


class TestEstimatesBudgetsAndStatsOffline:
    async def test_a_job_estimate_has_the_real_prices_and_says_it_is_simulated(
        self, offline: Offline
    ) -> None:
        gql = offline.account.gql
        client = await create_client(gql, offline.account.workspace_id)
        campaign = await create_campaign(gql, client)
        estimate = (await gql(ESTIMATE, {"i": brief(client, campaign, 30)})).ok()["estimateJobCost"]
        lines = {line["stage"]: line for line in estimate["breakdown"]}
        assert lines["storyboard images"]["model"] == "black-forest-labs/flux-schnell"
        assert lines["scene videos"]["model"] == "bytedance/seedance-1-lite"
        assert lines["music"]["model"] == "meta/musicgen"
        assert all(line["simulated"] for line in lines.values())
        assert estimate["simulated"] is True
        assert Decimal(estimate["total"]["amount"]) == sum(
            Decimal(line["cost"]["amount"]) for line in lines.values()
        )
        assert Decimal(estimate["total"]["amount"]) > Decimal("0.5")
        assert any("Simulated offline" in note for note in estimate["assumptions"])

    async def test_a_budget_refuses_a_job_it_cannot_afford(self, offline: Offline) -> None:
        gql = offline.account.gql
        client = await create_client(gql, offline.account.workspace_id)
        campaign = await create_campaign(gql, client)
        await gql(
            'mutation($p: ID!) { updateCampaign(input: {id: $p, budget: {amount: "0.10"}})'
            " { campaign { id } } }",
            {"p": campaign},
        )
        refused = await gql(
            "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id } } }",
            {"i": brief(client, campaign, 15)},
        )
        assert refused.code == "BUDGET_EXCEEDED"

    async def test_simulated_spend_reaches_the_stats(self, offline: Offline) -> None:
        gql = offline.account.gql
        client = await create_client(gql, offline.account.workspace_id)
        campaign = await create_campaign(gql, client)
        started = await generate(gql, "image", {"campaignId": campaign, "prompt": "Can"})
        assert (await wait_final(gql, started["id"]))["status"] == "SUCCEEDED"
        stats = await gql(
            "query($id: ID!) { node(id: $id) { ... on Campaign {"
            " stats { totalSpend { amount } simulatedSpend { amount } } } } }",
            {"id": campaign},
        )
        assert stats.ok()["node"]["stats"] == {
            "totalSpend": {"amount": "0.003"},
            "simulatedSpend": {"amount": "0.003"},
        }
