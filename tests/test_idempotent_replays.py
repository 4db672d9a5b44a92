"""Idempotent launches: a replay returns the first answer and is not counted by the rate
limit; the same key with a different request is CONFLICT. Pricing a job needs its client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from starlette.applications import Starlette

from app.settings import Settings
from tests import media_files as mf
from tests.conftest import app_client, make_settings
from tests.fake_engine import FakeWorkEngine
from tests.file_server import Files, serving
from tests.graphql import Account, Result, create_campaign, create_client, register, upload
from tests.test_jobs import brief

IMAGE = "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }"
CREATE_JOB = "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id } } }"
ESTIMATE = "query($i: CreateJobInput!) { estimateJobCost(input: $i) { total { amount } } }"
CREATE_UPLOAD = (
    "mutation($i: CreateAssetUploadInput!) { createAssetUpload(input: $i) { asset { id } } }"
)
IMPORT = "mutation($i: ImportAssetFromUrlInput!) { importAssetFromUrl(input: $i) { asset { id } } }"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(
        database_url, tmp_path, image_rate_limit="1/minute", job_rate_limit="1/minute"
    )


@pytest.fixture
async def fake(app: Starlette) -> AsyncIterator[FakeWorkEngine]:
    runtime = app.state.runtime
    runtime.work = FakeWorkEngine(runtime.sessionmaker)
    yield runtime.work
    runtime.work = None


async def _image(owner: Account, key: str, prompt: str = "a can") -> Result:
    data = {"workspaceId": owner.workspace_id, "prompt": prompt, "idempotencyKey": key}
    return await owner.gql(IMAGE, {"i": data})


class TestReplays:
    async def test_a_generation_replay_is_the_first_answer_and_not_counted(
        self, fake: FakeWorkEngine, owner: Account
    ) -> None:
        first = (await _image(owner, "k1")).ok()["generateImage"]
        again = (await _image(owner, "k1")).ok()["generateImage"]
        assert again == first
        changed = await _image(owner, "k1", prompt="a bottle")
        assert changed.code == "CONFLICT"
        limited = await _image(owner, "k2")
        assert limited.code == "RATE_LIMITED"
        assert len(fake.named("enqueue_generation")) == 1

    async def test_a_job_replay_is_the_first_answer_and_a_new_brief_is_a_conflict(
        self, fake: FakeWorkEngine, owner: Account
    ) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        campaign = await create_campaign(owner.gql, client)
        data = {**brief(client, campaign, 15), "idempotencyKey": "brief-1"}
        first = (await owner.gql(CREATE_JOB, {"i": data})).ok()["createJob"]
        assert (await owner.gql(CREATE_JOB, {"i": data})).ok()["createJob"] == first
        other = {**data, "adBasics": {**data["adBasics"], "keyMessage": "Now in cherry"}}
        assert (await owner.gql(CREATE_JOB, {"i": other})).code == "CONFLICT"
        fresh = {**data, "idempotencyKey": "brief-2"}
        assert (await owner.gql(CREATE_JOB, {"i": fresh})).code == "RATE_LIMITED"


class TestPricing:
    async def test_a_job_is_priced_only_for_a_client_the_caller_can_see(
        self, owner: Account, stranger: Account
    ) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        campaign = await create_campaign(owner.gql, client)
        assert (await owner.gql(ESTIMATE, {"i": brief(client, campaign, 15)})).ok()
        hidden = await stranger.gql(ESTIMATE, {"i": brief(client, campaign, 15)})
        assert hidden.code == "NOT_FOUND"
        own_client = await create_client(stranger.gql, stranger.workspace_id)
        mixed = await stranger.gql(ESTIMATE, {"i": brief(own_client, campaign, 15)})
        assert mixed.code == "NOT_FOUND"  # someone else's campaign


class TestAssetReplays:
    async def test_an_upload_replay_returns_the_asset_without_counting(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, upload_rate_limit="1/minute")
        async with app_client(settings) as http:
            owner = await register(http)
            where = {"workspaceId": owner.workspace_id, "idempotencyKey": "logo-1"}
            first = await upload(owner.gql, "logo.png", mf.png(), "image/png", where)
            again = await upload(owner.gql, "logo.png", mf.png(), "image/png", where)
            assert again.ok()["uploadAsset"] == first.ok()["uploadAsset"]
            renamed = await upload(owner.gql, "other.png", mf.png(), "image/png", where)
            assert renamed.code == "CONFLICT"
            fresh = {**where, "idempotencyKey": "logo-2"}
            limited = await upload(owner.gql, "logo.png", mf.png(), "image/png", fresh)
            assert limited.code == "RATE_LIMITED"

    async def test_an_upload_url_replay_gives_the_same_asset(self, owner: Account) -> None:
        data = {
            "workspaceId": owner.workspace_id,
            "name": "spot.mp4",
            "kind": "VIDEO",
            "size": 1000,
            "idempotencyKey": "spot-1",
        }
        first = (await owner.gql(CREATE_UPLOAD, {"i": data})).ok()["createAssetUpload"]
        again = (await owner.gql(CREATE_UPLOAD, {"i": data})).ok()["createAssetUpload"]
        assert again["asset"]["id"] == first["asset"]["id"]
        resized = await owner.gql(CREATE_UPLOAD, {"i": {**data, "size": 2000}})
        assert resized.code == "CONFLICT"

    async def test_an_import_replay_fetches_nothing_again(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, import_allowed_networks=["127.0.0.0/8"])
        files = Files()
        files.add("/spot.mp4", mf.mp4(1), "video/mp4")
        files.add("/other.mp4", mf.mp4(1), "video/mp4")
        async with app_client(settings) as http:
            owner = await register(http)
            with serving(files) as base:
                data = {
                    "workspaceId": owner.workspace_id,
                    "url": f"{base}/spot.mp4",
                    "idempotencyKey": "import-1",
                }
                first = (await owner.gql(IMPORT, {"i": data})).ok()
                again = (await owner.gql(IMPORT, {"i": data})).ok()
                other = await owner.gql(IMPORT, {"i": {**data, "url": f"{base}/other.mp4"}})
        assert again == first
        assert files.requests.count("/spot.mp4") == 1
        assert other.code == "CONFLICT"
        assert "/other.mp4" not in files.requests
