"""The ``adstudio`` command, run as a real process: migrate, serve, export-schema."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from app.schema import export_schema

TIMEOUT = 30


def _env(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADSTUDIO_")}
    env["ADSTUDIO_VAR_DIR"] = str(tmp_path / "var")
    env.update(values)
    return env


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env=_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        check=False,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adstudio: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


class TestMigrate:
    def test_creates_the_default_sqlite_database_on_demand(self, tmp_path: Path) -> None:
        result = _run(tmp_path, "migrate")
        assert result.returncode == 0, result.stderr
        assert "database at head" in result.stdout
        assert (tmp_path / "var" / "adstudio.db").is_file()

    def test_malformed_url_is_one_line(self, tmp_path: Path) -> None:
        result = _run(tmp_path, "migrate", ADSTUDIO_DATABASE_URL="oracle://x/y")
        _assert_one_line_failure(result, "ADSTUDIO_DATABASE_URL: unsupported driver 'oracle'")

    def test_unreachable_database_is_one_line(self, tmp_path: Path) -> None:
        url = f"postgresql://nobody@127.0.0.1:{_free_port()}/none"
        result = _run(tmp_path, "migrate", ADSTUDIO_DATABASE_URL=url)
        _assert_one_line_failure(result, "ADSTUDIO_DATABASE_URL: cannot reach database")


class TestServe:
    def test_port_in_use_is_one_line(self, tmp_path: Path) -> None:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = _run(tmp_path, "serve", "--port", str(port))
        _assert_one_line_failure(result, f"port {port} on 127.0.0.1 is already in use")

    def test_unreachable_database_refuses_to_start(self, tmp_path: Path) -> None:
        url = f"postgresql://nobody@127.0.0.1:{_free_port()}/none"
        result = _run(tmp_path, "serve", "--port", str(_free_port()), ADSTUDIO_DATABASE_URL=url)
        _assert_one_line_failure(result, "cannot reach database")

    def test_serves_graphql_and_readiness_over_real_http(self, server: str) -> None:
        ready = httpx.get(f"{server}/readyz", timeout=5)
        assert ready.status_code == 200
        response = httpx.post(f"{server}/graphql", json={"query": "{ __typename }"}, timeout=5)
        assert response.json() == {"data": {"__typename": "Query"}}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    assert _run(tmp_path, "migrate").returncode == 0
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=TIMEOUT)
        if process.stderr is not None:
            process.stderr.close()


def _wait_until_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read() if process.stderr else ""
            pytest.fail(f"server exited early: {stderr}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("server did not become ready in time")


class TestExportSchema:
    def test_writes_the_sdl_to_standard_output(self, tmp_path: Path) -> None:
        result = _run(tmp_path, "export-schema", "--output", "-")
        assert result.returncode == 0
        assert result.stdout == export_schema()
