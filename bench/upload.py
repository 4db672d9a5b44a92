"""The upload benchmark: one large video PUT to the real server, with its memory watched.

    python -m bench.upload [--megabytes 300] [--database-url URL]

Migrates a database (by default a SQLite file in a temporary ``ADSTUDIO_VAR_DIR``), serves the
API with ``python -m app serve``, registers a user, writes a valid MP4 of the requested size to
disk (a short video followed by a ``free`` box), asks ``createAssetUpload`` for an upload URL and
streams the file to it from disk. The server's VmRSS is sampled every 50 ms during the upload.
Then the asset is read back through ``node(id:)`` and the stored file is checked. Everything it
starts is stopped, and its temporary files are removed, on every exit.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.ids import expect_global_id
from app.storage.base import content_key
from bench.mp4 import write_padded_mp4
from bench.procs import Server, cpu_seconds, free_port, python_module, serve
from bench.rss import KIB, RssSampler, memory_kib
from bench.seed import ARGON2_MEMORY_KIB, ARGON2_TIME_COST

MB = 1024 * 1024
CHUNK = MB
MIGRATE_TIMEOUT_SECONDS = 120.0
UPLOAD_TIMEOUT_SECONDS = 1800.0
SETTLE_SECONDS = 0.5
RSS_GROWTH_TARGET_MB = 50
MAX_MEGABYTES = (2**31 - 1) // MB  # the API's sizes are GraphQL Ints (32-bit)

REGISTER = """
mutation Register($input: RegisterInput!, $login: LoginInput!) {
  register(input: $input) { accepted }
  signIn: login(input: $login) { accessToken user { memberships { workspace { id } } } }
}
"""
CREATE_UPLOAD = """
mutation CreateUpload($input: CreateAssetUploadInput!) {
  createAssetUpload(input: $input) { uploadUrl asset { id status } }
}
"""
ASSET = """
query Asset($id: ID!) {
  node(id: $id) {
    ... on Asset { id status statusReason size sha256 format mimeType }
    ... on VideoAsset { width height duration }
  }
}
"""


@dataclass(frozen=True, slots=True)
class Upload:
    seconds: float
    server_cpu_seconds: float
    rss_before_kib: int
    rss_peak_kib: int
    rss_after_kib: int
    hwm_kib: int  # the kernel's high-water mark over the server's whole life
    samples: int
    sha256: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.upload",
        description="One large video upload (createAssetUpload + PUT) with server memory watched.",
    )
    parser.add_argument("--megabytes", type=int, default=300, help="file size in MiB")
    parser.add_argument(
        "--database-url", help="database to use (migrated and kept); default: SQLite, temporary"
    )
    return parser.parse_args(argv)


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwind: server stopped, temporary files removed


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if not 1 <= args.megabytes <= MAX_MEGABYTES:
        raise SystemExit(f"--megabytes must be between 1 and {MAX_MEGABYTES}")
    signal.signal(signal.SIGTERM, _on_sigterm)
    size = args.megabytes * MB
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adstudio-upload-")))
        port = free_port()
        env = _server_env(scratch / "var", port, args)
        _migrate(env)
        video = scratch / "big.mp4"
        started = time.perf_counter()
        write_padded_mp4(video, size)
        print(f"... wrote {size / MB:,.0f} MB in {time.perf_counter() - started:.1f} s", flush=True)
        command = python_module("app", "serve", "--port", str(port))
        server = stack.enter_context(
            serve("adstudio", command, port=port, env=env, log_dir=scratch)
        )
        with httpx.Client(base_url=server.base_url, timeout=60) as client:
            token, workspace_id = _register(client)
            client.headers["Authorization"] = f"Bearer {token}"
            asset_id, upload_url = _create_upload(client, workspace_id, size)
            print(f"... uploading to {urlsplit(upload_url).path}", flush=True)
            upload = _put(server, upload_url, video, size)
            asset = _graphql(client, ASSET, {"id": asset_id})["node"]
        stored = _stored_file(env, workspace_id, upload.sha256)
        _report(size, upload, asset, stored)
        _check(size, upload, asset, stored)


def _server_env(var_dir: Path, port: int, args: argparse.Namespace) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ADSTUDIO_")}
    env = {
        **inherited,
        "ADSTUDIO_ENV": "test",
        "ADSTUDIO_SECRET_KEY": secrets.token_urlsafe(48),
        "ADSTUDIO_VAR_DIR": str(var_dir),
        "ADSTUDIO_LOG_LEVEL": "WARNING",
        "ADSTUDIO_ARGON2_TIME_COST": str(ARGON2_TIME_COST),
        "ADSTUDIO_ARGON2_MEMORY_KIB": str(ARGON2_MEMORY_KIB),
        "ADSTUDIO_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        # The default cap is 500 MB; a larger run raises it rather than being rejected.
        "ADSTUDIO_MAX_VIDEO_MB": str(max(500, args.megabytes + 1)),
    }
    if args.database_url:
        env["ADSTUDIO_DATABASE_URL"] = args.database_url
    return env


def _migrate(env: dict[str, str]) -> None:
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        python_module("app", "migrate"),
        env=env,
        capture_output=True,
        timeout=MIGRATE_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{done.stderr.decode(errors='replace')}")


def _graphql(client: httpx.Client, query: str, variables: dict[str, Any]) -> Any:
    response = client.post("/graphql", json={"query": query, "variables": variables})
    payload = response.json()
    if response.status_code != 200 or payload.get("errors"):
        raise RuntimeError(f"GraphQL failed ({response.status_code}): {payload}")
    return payload["data"]


def _register(client: httpx.Client) -> tuple[str, str]:
    email = f"upload-{secrets.token_hex(4)}@example.com"
    credentials = {"email": email, "password": secrets.token_urlsafe(18), "name": "Uploader"}
    found = _graphql(client, REGISTER, _signup(credentials))["signIn"]
    workspace_id = found["user"]["memberships"][0]["workspace"]["id"]
    return str(found["accessToken"]), str(workspace_id)


def _create_upload(client: httpx.Client, workspace_id: str, size: int) -> tuple[str, str]:
    request = {
        "name": "big.mp4",
        "kind": "VIDEO",
        "size": size,
        "contentType": "video/mp4",
        "workspaceId": workspace_id,
    }
    created = _graphql(client, CREATE_UPLOAD, {"input": request})["createAssetUpload"]
    return str(created["asset"]["id"]), str(created["uploadUrl"])


def _chunks(path: Path, digest: Any) -> Iterator[bytes]:
    """The file, ``CHUNK`` bytes at a time, hashed on the way."""
    with path.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            yield chunk


def _put(server: Server, upload_url: str, video: Path, size: int) -> Upload:
    parts = urlsplit(upload_url)  # the server's own origin, whatever the public base URL says
    url = f"{server.base_url}{parts.path}?{parts.query}"
    headers = {"content-type": "video/mp4", "content-length": str(size)}
    digest = hashlib.sha256()
    time.sleep(SETTLE_SECONDS)
    rss_before = memory_kib(server.pid)
    cpu_start = cpu_seconds(server.pid)
    with RssSampler(server.pid) as sampler:
        started = time.perf_counter()
        response = httpx.put(
            url, content=_chunks(video, digest), headers=headers, timeout=UPLOAD_TIMEOUT_SECONDS
        )
        seconds = time.perf_counter() - started
    cpu = cpu_seconds(server.pid) - cpu_start
    if response.status_code != 200:
        raise RuntimeError(f"PUT failed ({response.status_code}): {response.text[:2000]}")
    return Upload(
        seconds, cpu, rss_before, sampler.peak_kib, memory_kib(server.pid),
        memory_kib(server.pid, "VmHWM"), sampler.samples, digest.hexdigest(),
    )  # fmt: skip


def _stored_file(env: dict[str, str], workspace_id: str, sha256: str) -> Path:
    """Where local storage keeps the bytes: content-addressed under the workspace."""
    workspace = expect_global_id(workspace_id, "Workspace")
    media_root = Path(env["ADSTUDIO_VAR_DIR"]) / "media"
    return media_root / content_key(workspace.hex, sha256, ".mp4")


def _report(size: int, upload: Upload, asset: dict[str, Any], stored: Path) -> None:
    growth = (upload.rss_peak_kib - upload.rss_before_kib) / KIB
    verdict = "within" if growth < RSS_GROWTH_TARGET_MB else "ABOVE"
    stored_size = stored.stat().st_size if stored.is_file() else None
    digest = "matches" if asset.get("sha256") == upload.sha256 else "DIFFERS"
    lines = [
        "",
        f"adstudio upload benchmark: Python {sys.version.split()[0]}, {os.cpu_count()} CPUs",
        f"file: {size:,} bytes ({size / MB:,.0f} MB), a {asset.get('duration')} s "
        f"{asset.get('width')}x{asset.get('height')} MP4 plus a free box",
        f"upload: {upload.seconds:.2f} s wall, {size / MB / upload.seconds:,.0f} MB/s, "
        f"server CPU {upload.server_cpu_seconds:.2f} s",
        f"server RSS: before {upload.rss_before_kib / KIB:.1f} MB, peak during "
        f"{upload.rss_peak_kib / KIB:.1f} MB, after {upload.rss_after_kib / KIB:.1f} MB "
        f"({upload.samples} samples; VmHWM {upload.hwm_kib / KIB:.1f} MB)",
        f"peak growth: {growth:.1f} MB ({verdict} the target of {RSS_GROWTH_TARGET_MB} MB)",
        f"asset: {asset.get('status')}, size {asset.get('size')}, {asset.get('format')} "
        f"{asset.get('mimeType')}, sha256 {digest}",
        f"stored file: {'present' if stored_size is not None else 'MISSING'}, "
        f"{stored_size or 0:,} bytes",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def _check(size: int, upload: Upload, asset: dict[str, Any], stored: Path) -> None:
    problems = []
    if asset.get("status") != "READY":
        problems.append(f"asset is {asset.get('status')}: {asset.get('statusReason')}")
    if asset.get("size") != size or asset.get("sha256") != upload.sha256:
        problems.append("asset size or sha256 differs from the file sent")
    if not stored.is_file() or stored.stat().st_size != size:
        problems.append("stored file missing or of another size")
    if problems:
        raise SystemExit("upload check failed: " + "; ".join(problems))


if __name__ == "__main__":
    main()


def _signup(credentials: dict[str, str]) -> dict[str, object]:
    """Register, then sign in within the same request (register itself returns no tokens)."""
    login = {"email": credentials["email"], "password": credentials["password"]}
    return {"input": credentials, "login": login}
