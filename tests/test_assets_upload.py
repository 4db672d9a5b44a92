"""Uploading assets through both paths, with validation, probing and storage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from app.clock import ManualClock
from app.ids import decode_global_id
from app.models import Asset
from app.models.enums import AssetStatus
from tests import media_files as mf
from tests.graphql import Account, upload

FILES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "logo.png": (mf.png, "image/png", "image"),
    "photo.jpg": (mf.jpeg, "image/jpeg", "image"),
    "spot.mp4": (lambda: mf.mp4(2), "video/mp4", "video"),
    "jingle.wav": (mf.wav, "audio/wav", "audio"),
    "voice.mp3": (mf.mp3, "audio/mpeg", "audio"),
    "brief.pdf": (mf.pdf, "application/pdf", "document"),
}
CREATE_UPLOAD = """
mutation($i: CreateAssetUploadInput!) {
  createAssetUpload(input: $i) { uploadUrl expiresAt asset { id status } }
}
"""
READ = """
query($id: ID!) { node(id: $id) { ... on Asset {
  id name kind format size status statusReason url tags
  ... on ImageAsset { width height }
  ... on VideoAsset { width height duration thumbnailUrl }
  ... on AudioAsset { duration waveformUrl }
  ... on DocumentAsset { pageCount }
} } }
"""


def stored_files(app: Starlette) -> list[Path]:
    root = app.state.runtime.storage.root
    return [p for p in root.rglob("*") if p.is_file()]


def _check_metadata(name: str, asset: dict[str, Any], size: int) -> None:
    assert asset["status"] == "READY"
    assert asset["size"] == size
    kind = FILES[name][2]
    assert asset["kind"] == kind.upper()
    if kind == "image":
        assert (asset["width"], asset["height"]) == (64, 48)
    if kind == "video":
        assert (asset["width"], asset["height"]) == (64, 48)
        assert asset["duration"] == pytest.approx(2.0, abs=0.2)
        assert asset["thumbnailUrl"]
    if kind == "audio":
        assert asset["duration"] == pytest.approx(1.0, abs=0.15)
        assert asset["waveformUrl"]
    if kind == "document":
        assert asset["pageCount"] == 3


async def _fetch(http: httpx.AsyncClient, url: str, **headers: str) -> httpx.Response:
    return await http.get(url.replace("http://127.0.0.1:8000", ""), headers=headers)


class TestMultipart:
    @pytest.mark.parametrize("name", sorted(FILES))
    async def test_uploads_probes_and_serves(
        self, http: httpx.AsyncClient, owner: Account, name: str
    ) -> None:
        make, mime, _ = FILES[name]
        content = make()
        result = await upload(
            owner.gql, name, content, mime, {"workspaceId": owner.workspace_id, "tags": ["hero"]}
        )
        asset = result.ok()["uploadAsset"]["asset"]
        _check_metadata(name, asset, len(content))
        assert asset["tags"] == ["hero"]
        full = await _fetch(http, asset["url"])
        assert full.status_code == 200
        assert full.content == content
        assert full.headers["content-type"].startswith(mime)
        assert full.headers["x-content-type-options"] == "nosniff"
        assert full.headers["content-disposition"].startswith("inline;")
        part = await _fetch(http, asset["url"], Range="bytes=10-19")
        assert part.status_code == 206
        assert part.content == content[10:20]
        assert part.headers["content-range"] == f"bytes 10-19/{len(content)}"

    async def test_without_a_preflight_header_is_refused(self, owner: Account) -> None:
        result = await upload(
            owner.gql,
            "a.png",
            mf.png(),
            "image/png",
            {"workspaceId": owner.workspace_id},
            preflight=False,
        )
        assert result.response.status_code == 400


class TestPutUpload:
    @pytest.mark.parametrize("name", sorted(FILES))
    async def test_put_streams_probes_and_serves(
        self, http: httpx.AsyncClient, owner: Account, name: str
    ) -> None:
        make, mime, kind = FILES[name]
        content = make()
        created = await owner.gql(
            CREATE_UPLOAD,
            {
                "i": {
                    "name": name,
                    "kind": kind.upper(),
                    "size": len(content),
                    "contentType": mime,
                    "workspaceId": owner.workspace_id,
                }
            },
        )
        payload = created.ok()["createAssetUpload"]
        assert payload["asset"]["status"] == "PENDING"
        put = await http.put(
            payload["uploadUrl"].replace("http://127.0.0.1:8000", ""), content=content
        )
        assert put.status_code == 200, put.text
        asset = (await owner.gql(READ, {"id": payload["asset"]["id"]})).ok()["node"]
        _check_metadata(name, asset, len(content))
        assert (await _fetch(http, asset["url"])).content == content

    async def test_a_second_put_is_a_conflict(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        content = mf.png()
        created = await owner.gql(
            CREATE_UPLOAD,
            {
                "i": {
                    "name": "a.png",
                    "size": len(content),
                    "workspaceId": owner.workspace_id,
                }
            },
        )
        url = created.ok()["createAssetUpload"]["uploadUrl"].replace("http://127.0.0.1:8000", "")
        assert (await http.put(url, content=content)).status_code == 200
        assert (await http.put(url, content=content)).status_code == 409

    async def test_a_tampered_link_is_forbidden(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        created = await owner.gql(
            CREATE_UPLOAD,
            {
                "i": {
                    "name": "a.png",
                    "size": 10,
                    "workspaceId": owner.workspace_id,
                }
            },
        )
        url = created.ok()["createAssetUpload"]["uploadUrl"].replace("http://127.0.0.1:8000", "")
        assert (await http.put(url[:-3] + "abc", content=b"x" * 10)).status_code == 403

    async def test_declared_size_above_the_cap_is_refused_up_front(self, owner: Account) -> None:
        result = await owner.gql(
            CREATE_UPLOAD,
            {
                "i": {
                    "name": "a.png",
                    "kind": "IMAGE",
                    "size": 21 * 1024 * 1024,
                    "workspaceId": owner.workspace_id,
                }
            },
        )
        assert result.code == "BAD_USER_INPUT"


BAD_FILES: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "png renamed .mp4": (mf.png, "renamed.mp4", "video/mp4"),
    "text claiming image/png": (lambda: b"just some text, honestly" * 10, "notes.png", "image/png"),
    "html": (
        lambda: b"<!DOCTYPE html><html><script>alert(1)</script></html>" * 3,
        "page.html",
        "text/html",
    ),
    "truncated mp4": (lambda: mf.mp4(2)[:700], "cut.mp4", "video/mp4"),
    "png of 100000x100000": (mf.png_bomb, "bomb.png", "image/png"),
    "svg": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' * 2,
        "x.svg",
        "image/svg+xml",
    ),
}


class TestRejections:
    @pytest.mark.parametrize("case", sorted(BAD_FILES))
    async def test_multipart_rejects_and_leaves_no_bytes(
        self, app: Starlette, owner: Account, case: str
    ) -> None:
        make, filename, mime = BAD_FILES[case]
        result = await upload(
            owner.gql, filename, make(), mime, {"workspaceId": owner.workspace_id}
        )
        assert result.code == "BAD_USER_INPUT"
        assert "file" in result.errors[0]["extensions"]["fields"]
        assert stored_files(app) == []
        listed = await owner.gql(
            "query($w: ID!) { node(id: $w) { ... on Workspace { assets { totalCount } } } }",
            {"w": owner.workspace_id},
        )
        assert listed.ok()["node"]["assets"]["totalCount"] == 0

    @pytest.mark.parametrize("case", sorted(BAD_FILES))
    async def test_put_rejects_with_a_reason_and_leaves_no_bytes(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account, case: str
    ) -> None:
        make, filename, mime = BAD_FILES[case]
        content = make()
        created = await owner.gql(
            CREATE_UPLOAD,
            {
                "i": {
                    "name": filename,
                    "contentType": mime,
                    "size": len(content),
                    "workspaceId": owner.workspace_id,
                }
            },
        )
        payload = created.ok()["createAssetUpload"]
        put = await http.put(
            payload["uploadUrl"].replace("http://127.0.0.1:8000", ""), content=content
        )
        assert put.status_code == 422
        assert put.json()["status"] == "REJECTED"
        asset = (await owner.gql(READ, {"id": payload["asset"]["id"]})).ok()["node"]
        assert asset["status"] == "REJECTED"
        assert asset["statusReason"]
        assert asset["url"] is None
        assert stored_files(app) == []

    async def test_more_bytes_than_declared_are_cut_off(
        self, app: Starlette, http: httpx.AsyncClient, owner: Account
    ) -> None:
        content = mf.png()
        created = await owner.gql(
            CREATE_UPLOAD,
            {
                "i": {
                    "name": "a.png",
                    "size": len(content) - 5,
                    "workspaceId": owner.workspace_id,
                }
            },
        )
        url = created.ok()["createAssetUpload"]["uploadUrl"].replace("http://127.0.0.1:8000", "")
        put = await http.put(url, content=content)
        assert put.status_code == 422
        assert "declared" in put.json()["reason"]
        assert stored_files(app) == []

    async def test_an_oversized_multipart_body_is_cut_off(
        self, database_url: str, tmp_path: Path
    ) -> None:
        from tests.conftest import app_client, make_settings
        from tests.graphql import GraphQL, register

        settings = make_settings(database_url, tmp_path, max_multipart_mb=1)
        async with app_client(settings) as http:
            account = await register(http)
            big = mf.png() + b"\x00" * (2 * 1024 * 1024)
            result = await upload(
                account.gql, "big.png", big, "image/png", {"workspaceId": account.workspace_id}
            )
            assert result.response.status_code == 413
            _ = GraphQL


class TestAbandonedUploads:
    async def test_an_upload_left_processing_by_a_dead_process_can_be_sent_again(
        self, http: httpx.AsyncClient, owner: Account, db: AsyncSession, clock: ManualClock
    ) -> None:
        content = mf.png()
        created = await owner.gql(
            CREATE_UPLOAD,
            {"i": {"name": "a.png", "size": len(content), "workspaceId": owner.workspace_id}},
        )
        payload = created.ok()["createAssetUpload"]
        asset_id = decode_global_id(payload["asset"]["id"]).id
        url = payload["uploadUrl"].replace("http://127.0.0.1:8000", "")
        await db.execute(
            sa.update(Asset)
            .where(col(Asset.id) == asset_id)
            .values(status=AssetStatus.PROCESSING, updated_at=clock.now())
        )
        await db.commit()
        assert (await http.put(url, content=content)).status_code == 409  # still in progress
        clock.advance(timedelta(minutes=16))
        assert (await http.put(url, content=content)).status_code == 200
