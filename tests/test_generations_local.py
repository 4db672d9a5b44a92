"""Generations on the offline local provider: real media, chaining, idempotency, rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.conftest import app_client, make_settings
from tests.generation_helpers import generate, wait_final
from tests.graphql import Account, add_member, create_campaign, create_client, register


@pytest.fixture
def engine_settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        engine_enabled=True,
        local_latency_seconds=0.2,
        generation_poll_seconds=0.1,
    )


@pytest.fixture
async def local(engine_settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Account]]:
    async with app_client(engine_settings) as http:
        yield http, await register(http)


class TestLocalProvider:
    async def test_an_image_becomes_a_real_png_in_the_requested_shape(
        self, local: tuple[httpx.AsyncClient, Account]
    ) -> None:
        http, account = local
        started = await generate(
            account.gql,
            "image",
            {
                "workspaceId": account.workspace_id,
                "prompt": "A red sneaker",
                "aspectRatio": "16:9",
            },
        )
        assert started["status"] == "QUEUED"
        assert started["model"] == "black-forest-labs/flux-schnell"  # simulated offline
        done = await wait_final(account.gql, started["id"])
        assert done["status"] == "SUCCEEDED", done
        asset = done["outputAsset"]
        assert (asset["kind"], asset["status"], asset["width"], asset["height"]) == (
            "IMAGE",
            "READY",
            1024,
            576,
        )
        png = await http.get(asset["url"].replace("http://127.0.0.1:8000", ""))
        assert png.content.startswith(b"\x89PNG")

    async def test_a_video_without_a_reference_chains_an_image_first(
        self, local: tuple[httpx.AsyncClient, Account]
    ) -> None:
        _, account = local
        started = await generate(
            account.gql,
            "video",
            {
                "workspaceId": account.workspace_id,
                "model": "adstudio/local-video",
                "prompt": "Waves",
                "duration": 2,
                "aspectRatio": "9:16",
            },
        )
        done = await wait_final(account.gql, started["id"], timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert done["startImageGeneration"]["status"] == "SUCCEEDED"
        assert done["startImageGeneration"]["model"] == "adstudio/local-image"
        assert (done["simulated"], done["cost"]["amount"]) == (False, "0.00")
        video = done["outputAsset"]
        assert video["kind"] == "VIDEO"
        assert video["duration"] == pytest.approx(2.0, abs=0.2)
        assert (video["width"], video["height"]) == (360, 640)

    async def test_music_honours_the_duration(
        self, local: tuple[httpx.AsyncClient, Account]
    ) -> None:
        _, account = local
        started = await generate(
            account.gql,
            "audio",
            {
                "workspaceId": account.workspace_id,
                "model": "adstudio/local-music",
                "prompt": "Upbeat pop",
                "duration": 3,
            },
        )
        done = await wait_final(account.gql, started["id"])
        assert done["outputAsset"]["duration"] == pytest.approx(3.0, abs=0.1)

    async def test_the_same_idempotency_key_gives_the_same_generation(
        self, local: tuple[httpx.AsyncClient, Account]
    ) -> None:
        _, account = local
        data = {"workspaceId": account.workspace_id, "prompt": "Logo", "idempotencyKey": "k-1"}
        first = await generate(account.gql, "image", data)
        again = await generate(account.gql, "image", data)
        assert again["id"] == first["id"]
        other = await account.gql(
            "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }",
            {"i": {**data, "prompt": "Something else"}},
        )
        assert other.code == "CONFLICT"


class TestRules:
    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"model": "meta/musicgen"}, "model"),
            ({"model": "nope/nothing"}, "model"),
            ({"prompt": None}, "prompt"),
            ({"aspectRatio": "2:1"}, "aspectRatio"),
        ],
    )
    async def test_bad_requests_name_the_field(
        self, local: tuple[httpx.AsyncClient, Account], data: dict[str, object], field: str
    ) -> None:
        _, account = local
        result = await account.gql(
            "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }",
            {"i": {"workspaceId": account.workspace_id, "prompt": "x", **data}},
        )
        assert result.code == "BAD_USER_INPUT"
        assert field in result.errors[0]["extensions"]["fields"]

    async def test_viewers_and_archived_campaigns_are_refused(
        self, local: tuple[httpx.AsyncClient, Account]
    ) -> None:
        http, owner = local
        viewer = await register(http, "Viewer")
        await add_member(owner, viewer, "VIEWER")
        mutation = (
            "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }"
        )
        denied = await viewer.gql(
            mutation, {"i": {"workspaceId": owner.workspace_id, "prompt": "x"}}
        )
        assert denied.code == "FORBIDDEN"
        campaign = await create_campaign(
            owner.gql, await create_client(owner.gql, owner.workspace_id)
        )
        await owner.gql(
            "mutation($id: ID!) { updateCampaign(input: {id: $id, status: ARCHIVED}) { campaign { id } } }",
            {"id": campaign},
        )
        archived = await owner.gql(mutation, {"i": {"campaignId": campaign, "prompt": "x"}})
        assert archived.code == "CONFLICT"

    async def test_the_sixth_video_in_a_minute_is_rate_limited(
        self, local: tuple[httpx.AsyncClient, Account]
    ) -> None:
        _, account = local
        mutation = (
            "mutation($i: GenerateVideoInput!) { generateVideo(input: $i) { generation { id } } }"
        )
        for index in range(5):
            (
                await account.gql(
                    mutation,
                    {
                        "i": {
                            "workspaceId": account.workspace_id,
                            "prompt": f"v{index}",
                            "duration": 1,
                        }
                    },
                )
            ).ok()
        limited = await account.gql(
            mutation, {"i": {"workspaceId": account.workspace_id, "prompt": "v6"}}
        )
        assert limited.code == "RATE_LIMITED"
        assert limited.errors[0]["extensions"]["retryAfter"] >= 1

    async def test_the_catalog_lists_models_with_prices(
        self, local: tuple[httpx.AsyncClient, Account]
    ) -> None:
        _, account = local
        result = await account.gql(
            "{ models(kind: VIDEO) { id provider price { basis amount { amount } unit } durations } }"
        )
        models = {m["id"]: m for m in result.ok()["models"]}
        assert {
            "bytedance/seedance-1-lite",
            "kwaivgi/kling-v2.1",
            "fofr/skyreels-2",
            "adstudio/local-video",
        } <= set(models)
        assert models["fofr/skyreels-2"]["price"] == {
            "basis": "PER_OUTPUT_SECOND",
            "amount": {"amount": "0.10"},
            "unit": "second of output",
        }
        audio = (await account.gql("{ models(kind: AUDIO) { id price { basis hardware } } }")).ok()[
            "models"
        ]
        assert {
            "id": "meta/musicgen",
            "price": {"basis": "PER_GPU_SECOND", "hardware": "gpu-a100-large"},
        } in audio
