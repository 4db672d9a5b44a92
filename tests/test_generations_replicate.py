"""The real ``replicate`` client against a fake Replicate on loopback: the whole path."""

from __future__ import annotations

import asyncio
import io
import json
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from pydantic import SecretStr

from tests import media_files as mf
from tests.conftest import app_client, make_settings
from tests.fake_replicate import FakeReplicate, running_fake
from tests.generation_helpers import GENERATION, generate, wait_final
from tests.graphql import Account, GraphQL, create_campaign, create_client, register, upload

Env = tuple[httpx.AsyncClient, Account, FakeReplicate]


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
        replicate_webhook_secret=SecretStr(fake.webhook_secret),
    )
    async with app_client(settings) as http:
        yield http, await register(http), fake


async def _prediction_id(gql: GraphQL, generation_id: str, timeout: float = 10) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        generation = (await gql(GENERATION, {"id": generation_id})).ok()["generation"]
        if generation["predictionId"]:
            return str(generation["predictionId"])
        await asyncio.sleep(0.05)
    raise AssertionError("no prediction was created")


class TestCompletes:
    async def test_image_cost_reaches_the_campaign_stats(self, env: Env) -> None:
        _, account, fake = env
        campaign = await create_campaign(
            account.gql, await create_client(account.gql, account.workspace_id)
        )
        started = await generate(
            account.gql,
            "image",
            {"campaignId": campaign, "prompt": "Sneaker", "aspectRatio": "1:1"},
        )
        done = await wait_final(account.gql, started["id"])
        assert done["status"] == "SUCCEEDED", done
        assert done["model"] == "black-forest-labs/flux-schnell"
        assert (done["provider"], done["simulated"]) == ("replicate", False)
        assert done["cost"] == {"amount": "0.003", "currency": "USD"}
        assert done["outputAsset"]["kind"] == "IMAGE"
        assert fake.creations == {"black-forest-labs/flux-schnell": 1}
        stats = await account.gql(
            "query($id: ID!) { node(id: $id) { ... on Campaign { stats { totalSpend { amount } } } } }",
            {"id": campaign},
        )
        assert stats.ok()["node"]["stats"]["totalSpend"]["amount"] == "0.003"

    async def test_video_from_a_reference_and_audio(self, env: Env) -> None:
        _, account, fake = env
        image = (
            await upload(
                account.gql,
                "start.png",
                mf.png(),
                "image/png",
                {"workspaceId": account.workspace_id},
            )
        ).ok()
        video = await generate(
            account.gql,
            "video",
            {
                "workspaceId": account.workspace_id,
                "prompt": "Spin",
                "duration": 5,
                "referenceAssetId": image["uploadAsset"]["asset"]["id"],
            },
        )
        audio = await generate(
            account.gql,
            "audio",
            {"workspaceId": account.workspace_id, "prompt": "Jazz", "duration": 8},
        )
        done_video = await wait_final(account.gql, video["id"])
        done_audio = await wait_final(account.gql, audio["id"])
        assert done_video["status"] == "SUCCEEDED", done_video
        assert done_video["cost"]["amount"] == "0.18"  # 5 s x 0.036
        assert done_audio["status"] == "SUCCEEDED", done_audio
        assert done_audio["cost"]["amount"] == "0.0035"  # 2.5 GPU s x 0.0014
        assert fake.creations == {"bytedance/seedance-1-lite": 1, "meta/musicgen": 1}
        sent = next(p for p in fake.predictions.values() if p.model == "bytedance/seedance-1-lite")
        assert sent.input["image"].startswith("http://127.0.0.1:8000/media/")
        assert sent.input["duration"] == 5

    async def test_a_video_reference_is_sent_as_its_poster_frame(self, env: Env) -> None:
        http, account, fake = env
        video = (
            await upload(
                account.gql,
                "ad.mp4",
                mf.leader_mp4([mf.BLACK] * 12, size=(320, 180)),
                "video/mp4",
                {"workspaceId": account.workspace_id},
            )
        ).ok()["uploadAsset"]["asset"]
        started = await generate(
            account.gql,
            "image",
            {
                "workspaceId": account.workspace_id,
                "model": "google/nano-banana",
                "prompt": "A poster of it",
                "referenceAssetId": video["id"],
            },
        )
        done = await wait_final(account.gql, started["id"])
        assert done["status"] == "SUCCEEDED", done
        sent = next(p for p in fake.predictions.values() if p.model == "google/nano-banana")
        [link] = sent.input["image_input"]
        assert "/poster?" in link
        poster = await http.get(link.replace("http://127.0.0.1:8000", ""))
        assert (poster.status_code, poster.headers["content-type"]) == (200, "image/png")
        with Image.open(io.BytesIO(poster.content)) as image:
            assert image.size == (320, 180)
            brightest = int(np.asarray(image.convert("L")).max())
        assert brightest > 200  # the picture, not the black leader

    async def test_a_video_without_a_reference_chains_flux_first(self, env: Env) -> None:
        _, account, fake = env
        video = await generate(
            account.gql, "video", {"workspaceId": account.workspace_id, "prompt": "City at night"}
        )
        done = await wait_final(account.gql, video["id"])
        assert done["status"] == "SUCCEEDED", done
        assert fake.creations == {
            "black-forest-labs/flux-schnell": 1,
            "bytedance/seedance-1-lite": 1,
        }


class TestCatalog:
    async def test_with_a_token_the_replicate_models_are_real_and_local_ones_unavailable(
        self, env: Env
    ) -> None:
        _, account, _ = env
        result = await account.gql("{ models { id provider available simulated } }")
        for model in result.ok()["models"]:
            real = model["provider"] == "replicate"
            assert (model["available"], model["simulated"]) == (real, False), model
        refused = await account.gql(
            "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }",
            {
                "i": {
                    "workspaceId": account.workspace_id,
                    "model": "adstudio/local-image",
                    "prompt": "x",
                }
            },
        )
        assert refused.code == "BAD_USER_INPUT"
        assert "model" in refused.errors[0]["extensions"]["fields"]


class TestFaults:
    async def test_throttling_and_errors_on_create_are_retried_without_duplicates(
        self, env: Env
    ) -> None:
        _, account, fake = env
        fake.create_faults.extend([429, 503])
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        done = await wait_final(account.gql, started["id"], timeout=40)
        assert done["status"] == "SUCCEEDED", done
        assert sum(fake.creations.values()) == 1

    async def test_polling_survives_errors_drops_and_slow_answers(self, env: Env) -> None:
        _, account, fake = env
        fake.get_faults.extend([500, 503, "drop", 429, "slow"])
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        done = await wait_final(account.gql, started["id"], timeout=40)
        assert done["status"] == "SUCCEEDED", done

    async def test_a_failed_prediction_is_a_provider_error(self, env: Env) -> None:
        _, account, fake = env
        fake.mode = "fail"
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        done = await wait_final(account.gql, started["id"])
        assert (done["status"], done["errorCode"]) == ("FAILED", "PROVIDER_ERROR")
        assert "out of memory" in done["errorMessage"]
        assert done["cost"] is None

    async def test_a_refused_request_fails_without_retrying(self, env: Env) -> None:
        _, account, fake = env
        fake.create_faults.append(422)
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        done = await wait_final(account.gql, started["id"])
        assert (done["status"], done["errorCode"]) == ("FAILED", "PROVIDER_ERROR")
        assert sum(fake.creations.values()) == 0

    async def test_cancel_stops_it_upstream(self, env: Env) -> None:
        _, account, fake = env
        fake.mode = "hold"
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        prediction_id = await _prediction_id(account.gql, started["id"])
        cancel = await account.gql(
            "mutation($id: ID!) { cancelGeneration(input: {id: $id}) { generation { status } } }",
            {"id": started["id"]},
        )
        assert cancel.ok()["cancelGeneration"]["generation"]["status"] == "CANCELED"
        deadline = time.monotonic() + 10
        while not fake.cancels[prediction_id] and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert fake.cancels[prediction_id] >= 1
        assert fake.predictions[prediction_id].status == "canceled"


class TestWebhooks:
    async def _held(self, env: Env) -> tuple[str, str]:
        _, account, fake = env
        fake.mode = "hold"
        started = await generate(
            account.gql, "image", {"workspaceId": account.workspace_id, "prompt": "x"}
        )
        return started["id"], await _prediction_id(account.gql, started["id"])

    def _payload(self, fake: FakeReplicate, prediction_id: str) -> bytes:
        prediction = fake.predictions[prediction_id]
        fake.files[f"{prediction_id}.png"] = ("image/png", mf.png())
        prediction.status, prediction.output = "succeeded", f"{fake.base}/files/{prediction_id}.png"
        return json.dumps(fake.as_json(prediction)).encode()

    async def test_a_signed_webhook_finishes_the_work_when_polling_cannot(self, env: Env) -> None:
        http, account, fake = env
        generation_id, prediction_id = await self._held(env)
        fake.get_faults.extend([503] * 10_000)
        body = self._payload(fake, prediction_id)
        response = await http.post("/webhooks/replicate", content=body, headers=fake.sign(body))
        assert response.status_code == 200
        done = await wait_final(account.gql, generation_id)
        assert done["status"] == "SUCCEEDED", done

    async def test_forged_stale_and_replayed_webhooks_are_refused(self, env: Env) -> None:
        http, _, fake = env
        _, prediction_id = await self._held(env)
        body = self._payload(fake, prediction_id)
        forged = {**fake.sign(body), "webhook-signature": "v1,AAAA"}
        assert (
            await http.post("/webhooks/replicate", content=body, headers=forged)
        ).status_code == 401
        tampered = body.replace(b"succeeded", b"failed")
        assert (
            await http.post("/webhooks/replicate", content=tampered, headers=fake.sign(body))
        ).status_code == 401
        stale = fake.sign(body, timestamp=int(time.time()) - 600)
        assert (
            await http.post("/webhooks/replicate", content=body, headers=stale)
        ).status_code == 401
        headers = fake.sign(body, webhook_id="msg_once")
        first = await http.post("/webhooks/replicate", content=body, headers=headers)
        replay = await http.post("/webhooks/replicate", content=body, headers=headers)
        assert first.json() == {"message": "ok"}
        assert replay.status_code == 200
        assert replay.json() == {"message": "already processed"}


class TestConcurrency:
    async def test_one_workspace_waits_its_turn_while_another_runs(
        self, database_url: str, tmp_path: Path, fake: FakeReplicate
    ) -> None:
        settings = make_settings(
            database_url,
            tmp_path,
            engine_enabled=True,
            generation_poll_seconds=0.05,
            replicate_api_token=SecretStr(fake.token),
            replicate_base_url=fake.base,
            workspace_concurrency=1,
        )
        fake.mode = "hold"
        async with app_client(settings) as http:
            busy, other = await register(http, "Busy"), await register(http, "Other")
            first = await generate(
                busy.gql, "image", {"workspaceId": busy.workspace_id, "prompt": "1"}
            )
            second = await generate(
                busy.gql, "image", {"workspaceId": busy.workspace_id, "prompt": "2"}
            )
            elsewhere = await generate(
                other.gql, "image", {"workspaceId": other.workspace_id, "prompt": "3"}
            )
            await _prediction_id(other.gql, elsewhere["id"])
            await asyncio.sleep(1.5)
            started = [
                (await busy.gql(GENERATION, {"id": g["id"]})).ok()["generation"]["predictionId"]
                for g in (first, second)
            ]
            assert sum(1 for p in started if p) == 1  # one at a time in the busy workspace
            assert sum(fake.creations.values()) == 2
            fake.release_all()
            for generation in (first, second):
                assert (await wait_final(busy.gql, generation["id"]))["status"] == "SUCCEEDED"
            assert sum(fake.creations.values()) == 3
