"""Hostile media is refused from its headers: a real server's memory barely moves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import media_files as mf
from tests.graphql import REGISTER, signup
from tests.processes import run_cli, server_process
from tests.workers import free_port

CREATE_UPLOAD = """
mutation($i: CreateAssetUploadInput!) { createAssetUpload(input: $i) { uploadUrl } }
"""
BUDGET_MB = 100


def peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")  # pragma: no cover


@pytest.fixture(scope="module")
def hostile() -> dict[str, bytes]:
    return {"frame.mov": mf.giant_frame_mov(), "wide.webp": mf.webp(7000, 7000)}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    assert run_cli(tmp_path, "migrate").returncode == 0
    with server_process(tmp_path, free_port()) as (base, process):
        yield base, process.pid


async def _put(
    http: httpx.AsyncClient, token: str, workspace: str, name: str, body: bytes
) -> httpx.Response:
    created = await http.post(
        "/graphql",
        json={
            "query": CREATE_UPLOAD,
            "variables": {"i": {"name": name, "size": len(body), "workspaceId": workspace}},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    url = created.json()["data"]["createAssetUpload"]["uploadUrl"]
    path = url.split("/uploads/", 1)[1]  # links name the configured public URL, not this port
    return await http.put(f"/uploads/{path}", content=body)


class TestMediaBudget:
    async def test_giant_frames_and_pixels_are_refused_within_the_memory_budget(
        self, server: tuple[str, int], hostile: dict[str, bytes]
    ) -> None:
        base, pid = server
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            registered = await http.post(
                "/graphql",
                json={
                    "query": REGISTER,
                    "variables": signup(
                        {"email": "m@example.com", "password": "correct horse battery", "name": "M"}
                    ),
                },
            )
            payload = registered.json()["data"]["signIn"]
            token, workspace = (
                payload["accessToken"],
                payload["user"]["memberships"][0]["workspace"]["id"],
            )
            # Warm up: decoders and image plugins loaded by files that are fine.
            for name, body in (("ok.mp4", mf.mp4()), ("ok.webp", mf.webp(64, 48))):
                assert (await _put(http, token, workspace, name, body)).status_code == 200
            growth: dict[str, float] = {}
            for name, body in hostile.items():
                before = peak_rss_mb(pid)
                refused = await _put(http, token, workspace, name, body)
                growth[name] = peak_rss_mb(pid) - before
                assert refused.status_code == 422, refused.text
                assert refused.json()["status"] == "REJECTED"
                assert "pixels" in refused.json()["reason"]
        print(f"peak memory growth while refusing: {growth}")
        assert all(mb < BUDGET_MB for mb in growth.values()), growth
