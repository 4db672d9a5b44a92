"""A video asset or a video generation as an image reference: its poster frame (the first
frame that is neither black nor blank), extracted once and kept beside the video."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from starlette.applications import Starlette

from app.ids import decode_global_id
from app.models import Asset
from tests import media_files as mf
from tests.conftest import engine_app
from tests.generation_helpers import generate, wait_final
from tests.graphql import Account, register, upload

LEADER = [mf.BLACK] * 12 + [mf.WHITE] * 2  # black, then a white flash, then the picture
DELETE = "mutation($id: ID!) { deleteAsset(input: {id: $id}) { deletedAssetId } }"


@dataclass
class Studio:
    http: httpx.AsyncClient
    app: Starlette
    account: Account

    async def upload_video(self, video: bytes) -> str:
        uploaded = await upload(
            self.account.gql,
            "ad.mp4",
            video,
            "video/mp4",
            {"workspaceId": self.account.workspace_id},
        )
        return str(uploaded.ok()["uploadAsset"]["asset"]["id"])

    async def asset(self, global_id: str) -> Asset:
        async with self.app.state.runtime.sessionmaker() as session:
            row = await session.get(Asset, decode_global_id(global_id).id)
        assert isinstance(row, Asset)
        return row

    async def stored(self, key: str) -> bytes | None:
        storage = self.app.state.runtime.storage
        if not await storage.exists(key):
            return None
        return b"".join([chunk async for chunk in storage.read(key)])


def _the_picture(png: bytes) -> tuple[tuple[int, int], bool]:
    """The image's size, and whether it shows the test picture (not black, not flat)."""
    with Image.open(io.BytesIO(png)) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.float32)
        return image.size, bool(pixels.mean() > 90 and pixels.std() > 30)


@pytest.fixture
async def studio(database_url: str, tmp_path: Path) -> AsyncIterator[Studio]:
    async with engine_app(database_url, tmp_path) as (application, http):
        yield Studio(http, application, await register(http))


class TestVideoReferences:
    async def test_a_video_asset_is_used_by_its_first_real_frame_kept_once(
        self, studio: Studio
    ) -> None:
        video = await studio.upload_video(mf.leader_mp4(LEADER, size=(640, 360)))
        data = {
            "workspaceId": studio.account.workspace_id,
            "model": "google/nano-banana",
            "prompt": "The same scene as a poster",
            "referenceAssetId": video,
        }
        done = await wait_final(
            studio.account.gql, (await generate(studio.account.gql, "image", data))["id"]
        )
        assert done["status"] == "SUCCEEDED", done
        assert done["input"]["referenceAssetId"] == video
        key = (await studio.asset(video)).poster_key
        assert key is not None
        poster = await studio.stored(key)
        assert poster is not None
        assert _the_picture(poster) == ((640, 360), True)

        again = await generate(studio.account.gql, "image", {**data, "prompt": "Another"})
        assert (await wait_final(studio.account.gql, again["id"]))["status"] == "SUCCEEDED"
        assert (await studio.asset(video)).poster_key == key  # extracted once

    async def test_a_video_generation_is_a_reference_too(self, studio: Studio) -> None:
        gql = studio.account.gql
        clip = await generate(
            gql,
            "video",
            {
                "workspaceId": studio.account.workspace_id,
                "model": "adstudio/local-video",
                "prompt": "Waves",
                "duration": 1,
            },
        )
        made = await wait_final(gql, clip["id"], timeout=60)
        assert made["status"] == "SUCCEEDED", made
        image = await generate(
            gql,
            "image",
            {
                "workspaceId": studio.account.workspace_id,
                "model": "adstudio/local-image",
                "prompt": "A still of it",
                "referenceGenerationId": clip["id"],
            },
        )
        done = await wait_final(gql, image["id"])
        assert done["status"] == "SUCCEEDED", done
        assert done["input"]["referenceAssetId"] == made["outputAsset"]["id"]
        assert (await studio.asset(made["outputAsset"]["id"])).poster_key is not None

    async def test_a_video_from_a_video_needs_no_start_image(self, studio: Studio) -> None:
        gql = studio.account.gql
        video = await studio.upload_video(mf.leader_mp4(LEADER))
        started = await generate(
            gql,
            "video",
            {
                "workspaceId": studio.account.workspace_id,
                "model": "adstudio/local-video",
                "prompt": "Continue it",
                "duration": 1,
                "referenceAssetId": video,
            },
        )
        done = await wait_final(gql, started["id"], timeout=60)
        assert done["status"] == "SUCCEEDED", done
        assert done["startImageGeneration"] is None

    async def test_audio_is_no_reference(self, studio: Studio) -> None:
        uploaded = await upload(
            studio.account.gql,
            "jingle.wav",
            mf.wav(),
            "audio/wav",
            {"workspaceId": studio.account.workspace_id},
        )
        result = await studio.account.gql(
            "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }",
            {
                "i": {
                    "workspaceId": studio.account.workspace_id,
                    "prompt": "x",
                    "referenceAssetId": uploaded.ok()["uploadAsset"]["asset"]["id"],
                }
            },
        )
        assert result.code == "BAD_USER_INPUT"
        assert result.errors[0]["extensions"]["fields"] == {
            "referenceAssetId": "is not a ready image or video"
        }

    async def test_deleting_the_video_releases_its_poster(self, studio: Studio) -> None:
        gql = studio.account.gql
        video = await studio.upload_video(mf.leader_mp4(LEADER))
        started = await generate(
            gql,
            "image",
            {
                "workspaceId": studio.account.workspace_id,
                "model": "adstudio/local-image",
                "prompt": "x",
                "referenceAssetId": video,
            },
        )
        assert (await wait_final(gql, started["id"]))["status"] == "SUCCEEDED"
        key = (await studio.asset(video)).poster_key
        assert key is not None
        assert await studio.stored(key) is not None
        (await gql(DELETE, {"id": video})).ok()
        assert await studio.stored(key) is None
