"""Asset lists, edits, deletion with shared bytes, URL imports, rate limits and the media route."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app.clock import ManualClock
from app.ids import decode_global_id
from app.models import Job, Scene
from app.models.enums import JobStatus
from tests import media_files as mf
from tests.conftest import app_client, make_settings
from tests.file_server import Files, serving
from tests.graphql import Account, add_member, create_campaign, create_client, register, upload
from tests.test_assets_upload import stored_files

ASSETS = """
query($id: ID!, $filter: AssetFilterInput) { node(id: $id) {
  ... on Workspace { assets(filter: $filter) { totalCount nodes { name } } }
  ... on Client { assets(filter: $filter) { totalCount nodes { name } } }
  ... on Campaign { assets(filter: $filter) { totalCount nodes { name } } }
} }
"""
DELETE = "mutation($id: ID!) { deleteAsset(input: {id: $id}) { deletedAssetId } }"
UPDATE = "mutation($i: UpdateAssetInput!) { updateAsset(input: $i) { asset { name tags client { id } campaign { id } } } }"
IMPORT = "mutation($i: ImportAssetFromUrlInput!) { importAssetFromUrl(input: $i) { asset { name kind source status size } } }"


async def _upload(
    account: Account, name: str, content: bytes, mime: str, **placement: Any
) -> dict[str, Any]:
    where = placement or {"workspaceId": account.workspace_id}
    return dict(
        (await upload(account.gql, name, content, mime, where)).ok()["uploadAsset"]["asset"]
    )


async def _names(account: Account, node_id: str, **filters: Any) -> list[str]:
    result = await account.gql(ASSETS, {"id": node_id, "filter": filters or None})
    return sorted(n["name"] for n in result.ok()["node"]["assets"]["nodes"])


class TestLists:
    async def test_filters_and_parents(self, owner: Account) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        campaign = await create_campaign(owner.gql, client)
        await _upload(owner, "loose.png", mf.png(), "image/png")
        await _upload(owner, "client.jpg", mf.jpeg(), "image/jpeg", clientId=client)
        await upload(
            owner.gql,
            "tagged.wav",
            mf.wav(),
            "audio/wav",
            {"campaignId": campaign, "tags": ["jingle"]},
        )
        assert await _names(owner, owner.workspace_id) == ["client.jpg", "loose.png", "tagged.wav"]
        assert await _names(owner, client) == ["client.jpg", "tagged.wav"]
        assert await _names(owner, campaign) == ["tagged.wav"]
        assert await _names(owner, owner.workspace_id, kind="IMAGE") == ["client.jpg", "loose.png"]
        assert await _names(owner, owner.workspace_id, tag="jingle") == ["tagged.wav"]
        assert await _names(owner, owner.workspace_id, tag="nope") == []
        assert await _names(owner, owner.workspace_id, clientId=client, kind="AUDIO") == [
            "tagged.wav"
        ]
        assert await _names(owner, owner.workspace_id, status="READY", source="UPLOADED") == [
            "client.jpg",
            "loose.png",
            "tagged.wav",
        ]

    async def test_only_ready_assets_unless_a_status_is_asked_for(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        await _upload(owner, "ready.png", mf.png(), "image/png")
        await _create_upload(owner, "pending.png", mf.png())
        rejected = await _create_upload(owner, "rejected.png", b"not a png at all")
        put = await http.put(rejected, content=b"not a png at all")
        assert put.json()["status"] == "REJECTED"
        workspace = owner.workspace_id
        assert await _names(owner, workspace) == ["ready.png"]
        assert await _names(owner, workspace, kind="IMAGE") == ["ready.png"]
        assert await _names(owner, workspace, status="PENDING") == ["pending.png"]
        assert await _names(owner, workspace, status="REJECTED") == ["rejected.png"]
        counted = await owner.gql(ASSETS, {"id": workspace, "filter": None})
        assert counted.ok()["node"]["assets"]["totalCount"] == 1


async def _create_upload(account: Account, name: str, content: bytes) -> str:
    """A PENDING asset from ``createAssetUpload``; the path its bytes are to be PUT to."""
    result = await account.gql(
        "mutation($i: CreateAssetUploadInput!) { createAssetUpload(input: $i) { uploadUrl } }",
        {
            "i": {
                "name": name,
                "contentType": "image/png",
                "size": len(content),
                "workspaceId": account.workspace_id,
            }
        },
    )
    url = str(result.ok()["createAssetUpload"]["uploadUrl"])
    return url.replace("http://127.0.0.1:8000", "")


class TestUpdate:
    async def test_rename_retag_and_move_within_the_workspace(self, owner: Account) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        campaign = await create_campaign(owner.gql, client)
        asset = await _upload(owner, "a.png", mf.png(), "image/png")
        result = await owner.gql(
            UPDATE,
            {
                "i": {
                    "id": asset["id"],
                    "name": "../../etc/hero.png",
                    "tags": ["a", "a", "b"],
                    "campaignId": campaign,
                }
            },
        )
        assert result.ok()["updateAsset"]["asset"] == {
            "name": "hero.png",
            "tags": ["a", "b"],
            "client": {"id": client},
            "campaign": {"id": campaign},
        }
        detached = await owner.gql(UPDATE, {"i": {"id": asset["id"], "clientId": None}})
        assert detached.ok()["updateAsset"]["asset"]["campaign"] is None

    async def test_cannot_move_into_another_workspace(
        self, owner: Account, stranger: Account
    ) -> None:
        theirs = await create_client(stranger.gql, stranger.workspace_id)
        asset = await _upload(owner, "a.png", mf.png(), "image/png")
        result = await owner.gql(UPDATE, {"i": {"id": asset["id"], "clientId": theirs}})
        assert result.code == "NOT_FOUND"


class TestDelete:
    async def test_identical_uploads_share_bytes_until_the_last_is_deleted(
        self, app: Starlette, owner: Account
    ) -> None:
        first = await _upload(owner, "one.mp4", mf.mp4(1), "video/mp4")
        second = await _upload(owner, "two.mp4", mf.mp4(1), "video/mp4")
        files = stored_files(app)
        assert len(files) == 2  # the video and its poster frame, once
        assert (await owner.gql(DELETE, {"id": first["id"]})).ok()
        assert stored_files(app) == files
        assert (await owner.gql(DELETE, {"id": second["id"]})).ok()
        assert stored_files(app) == []

    async def test_the_same_bytes_in_two_workspaces_are_kept_apart(
        self, app: Starlette, owner: Account, stranger: Account
    ) -> None:
        mine = await _upload(owner, "a.png", mf.png(), "image/png")
        await _upload(stranger, "a.png", mf.png(), "image/png")
        assert len(stored_files(app)) == 2
        await owner.gql(DELETE, {"id": mine["id"]})
        assert len(stored_files(app)) == 1

    async def test_refused_while_a_running_job_uses_it(
        self, owner: Account, db: AsyncSession
    ) -> None:
        client = await create_client(owner.gql, owner.workspace_id)
        asset = await _upload(owner, "a.png", mf.png(), "image/png")
        job = Job(
            workspace_id=decode_global_id(owner.workspace_id).id,
            client_id=decode_global_id(client).id,
            product="p",
            target_audience="t",
            key_message="k",
            call_to_action="c",
            style="s",
            status=JobStatus.VIDEO_PROCESSING,
        )
        db.add(job)
        await db.flush()
        db.add(
            Scene(
                job_id=job.id,
                number=1,
                description="d",
                image_prompt="p",
                duration_seconds=5,
                image_asset_id=decode_global_id(asset["id"]).id,
            )
        )
        await db.commit()
        assert (await owner.gql(DELETE, {"id": asset["id"]})).code == "CONFLICT"

    async def test_a_viewer_cannot_delete_or_upload(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        viewer = await register(http, "Viewer")
        await add_member(owner, viewer, "VIEWER")
        asset = await _upload(owner, "a.png", mf.png(), "image/png")
        assert (await viewer.gql(DELETE, {"id": asset["id"]})).code == "FORBIDDEN"
        result = await upload(
            viewer.gql, "b.png", mf.png(), "image/png", {"workspaceId": owner.workspace_id}
        )
        assert result.code == "FORBIDDEN"

    async def test_an_archived_campaign_takes_no_uploads(self, owner: Account) -> None:
        campaign = await create_campaign(
            owner.gql, await create_client(owner.gql, owner.workspace_id)
        )
        await owner.gql(
            "mutation($id: ID!) { updateCampaign(input: {id: $id, status: ARCHIVED}) { campaign { id } } }",
            {"id": campaign},
        )
        result = await upload(owner.gql, "b.png", mf.png(), "image/png", {"campaignId": campaign})
        assert result.code == "CONFLICT"


class TestImport:
    async def test_loopback_is_refused_by_default(self, owner: Account) -> None:
        files = Files()
        files.add("/logo.png", mf.png(), "image/png")
        with serving(files) as base:
            result = await owner.gql(
                IMPORT, {"i": {"url": f"{base}/logo.png", "workspaceId": owner.workspace_id}}
            )
        assert result.code == "BAD_USER_INPUT"
        assert "not a public address" in result.errors[0]["extensions"]["fields"]["file"]

    @pytest.mark.parametrize(
        "url", ["ftp://example.com/x.png", "http://user:pw@example.com/x", "file:///etc/passwd"]
    )
    async def test_only_plain_http_urls(self, owner: Account, url: str) -> None:
        result = await owner.gql(IMPORT, {"i": {"url": url, "workspaceId": owner.workspace_id}})
        assert result.code == "BAD_USER_INPUT"

    async def test_admitted_networks_import_with_the_same_checks(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, import_allowed_networks=["127.0.0.0/8"])
        files = Files()
        files.add("/spot.mp4", mf.mp4(1), "video/mp4")
        files.add("/fake.png", b"not an image at all" * 5, "image/png")
        files.redirect("/moved", "/spot.mp4")
        async with app_client(settings) as http:
            account = await register(http)
            with serving(files) as base:
                where = {"workspaceId": account.workspace_id}
                ok = await account.gql(IMPORT, {"i": {"url": f"{base}/moved", **where}})
                bad = await account.gql(IMPORT, {"i": {"url": f"{base}/fake.png", **where}})
                missing = await account.gql(IMPORT, {"i": {"url": f"{base}/nothing", **where}})
        asset = ok.ok()["importAssetFromUrl"]["asset"]
        assert asset == {
            "name": "spot.mp4",
            "kind": "VIDEO",
            "source": "IMPORTED",
            "status": "READY",
            "size": len(mf.mp4(1)),
        }
        assert bad.code == "BAD_USER_INPUT"
        assert missing.code == "BAD_USER_INPUT"


class TestRateLimit:
    async def test_the_eleventh_upload_in_a_minute_is_limited(self, owner: Account) -> None:
        where = {"workspaceId": owner.workspace_id}
        for index in range(10):
            (
                await upload(
                    owner.gql, f"{index}.png", mf.png(color=(index, 0, 0)), "image/png", where
                )
            ).ok()
        limited = await upload(owner.gql, "x.png", mf.png(), "image/png", where)
        assert limited.code == "RATE_LIMITED"
        assert 0 < limited.errors[0]["extensions"]["retryAfter"] <= 60

    async def test_redis_shares_the_window_between_servers(
        self, database_url: str, tmp_path: Path, redis_url: str
    ) -> None:
        settings = make_settings(
            database_url, tmp_path, redis_url=redis_url, upload_rate_limit="3/minute"
        )
        async with app_client(settings) as first, app_client(settings) as second:
            account = await register(first)
            where = {"workspaceId": account.workspace_id}
            for index, http in enumerate([first, second, first]):
                gql = account.gql.__class__(http, account.gql.token)
                (
                    await upload(
                        gql, f"{index}.png", mf.png(color=(index, 1, 1)), "image/png", where
                    )
                ).ok()
            gql = account.gql.__class__(second, account.gql.token)
            assert (await upload(gql, "x.png", mf.png(), "image/png", where)).code == "RATE_LIMITED"


class TestMediaRoute:
    async def _asset(self, owner: Account) -> dict[str, Any]:
        return await _upload(owner, "spot.mp4", mf.mp4(1), "video/mp4")

    async def test_etag_head_and_ranges(self, http: httpx.AsyncClient, owner: Account) -> None:
        asset = await self._asset(owner)
        url = asset["url"].replace("http://127.0.0.1:8000", "")
        first = await http.get(url)
        etag = first.headers["etag"]
        assert (await http.get(url, headers={"If-None-Match": etag})).status_code == 304
        head = await http.head(url)
        assert head.headers["content-length"] == str(asset["size"])
        assert head.content == b""
        suffix = await http.get(url, headers={"Range": "bytes=-10"})
        assert suffix.status_code == 206
        assert suffix.content == first.content[-10:]
        beyond = await http.get(url, headers={"Range": f"bytes={asset['size']}-"})
        assert beyond.status_code == 416
        thumb = await http.get(asset["thumbnailUrl"].replace("http://127.0.0.1:8000", ""))
        assert thumb.headers["content-type"] == "image/png"
        assert thumb.content.startswith(b"\x89PNG")

    async def test_tampered_and_expired_links_are_not_found(
        self, http: httpx.AsyncClient, owner: Account, clock: ManualClock
    ) -> None:
        url = (await self._asset(owner))["url"].replace("http://127.0.0.1:8000", "")
        assert (await http.get(url.replace("/original", "/thumbnail"))).status_code == 404
        assert (await http.get(url[:-4] + "AAAA")).status_code == 404
        clock.advance(timedelta(hours=3))
        assert (await http.get(url)).status_code == 404

    async def test_a_bearer_with_access_needs_no_signature(
        self, http: httpx.AsyncClient, owner: Account, stranger: Account
    ) -> None:
        bare = (await self._asset(owner))["url"].split("?")[0].replace("http://127.0.0.1:8000", "")
        assert (await http.get(bare)).status_code == 404
        mine = await http.get(bare, headers={"Authorization": f"Bearer {owner.gql.token}"})
        assert mine.status_code == 200
        theirs = await http.get(bare, headers={"Authorization": f"Bearer {stranger.gql.token}"})
        assert theirs.status_code == 404
