"""The ``adstudio`` command, run as a real process: migrate, serve, export-schema."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import httpx

from app.schema import export_schema
from tests.processes import run_cli
from tests.workers import free_port


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("adstudio: ")
    assert expected in lines[0]
    assert "Traceback" not in result.stderr


class TestMigrate:
    def test_creates_the_default_sqlite_database_on_demand(self, tmp_path: Path) -> None:
        result = run_cli(tmp_path, "migrate")
        assert result.returncode == 0, result.stderr
        assert "database at head" in result.stdout
        assert (tmp_path / "var" / "adstudio.db").is_file()

    def test_malformed_url_is_one_line(self, tmp_path: Path) -> None:
        result = run_cli(tmp_path, "migrate", ADSTUDIO_DATABASE_URL="oracle://x/y")
        _assert_one_line_failure(result, "ADSTUDIO_DATABASE_URL: unsupported driver 'oracle'")

    def test_unreachable_database_is_one_line(self, tmp_path: Path) -> None:
        url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
        result = run_cli(tmp_path, "migrate", ADSTUDIO_DATABASE_URL=url)
        _assert_one_line_failure(result, "ADSTUDIO_DATABASE_URL: cannot reach database")


class TestServe:
    def test_port_in_use_is_one_line(self, tmp_path: Path) -> None:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            result = run_cli(tmp_path, "serve", "--port", str(port))
        _assert_one_line_failure(result, f"port {port} on 127.0.0.1 is already in use")

    def test_unreachable_database_refuses_to_start(self, tmp_path: Path) -> None:
        url = f"postgresql://nobody@127.0.0.1:{free_port()}/none"
        result = run_cli(tmp_path, "serve", "--port", str(free_port()), ADSTUDIO_DATABASE_URL=url)
        _assert_one_line_failure(result, "cannot reach database")

    def test_production_without_a_secret_refuses_to_start(self, tmp_path: Path) -> None:
        result = run_cli(tmp_path, "serve", "--port", str(free_port()), ADSTUDIO_ENV="production")
        _assert_one_line_failure(result, "ADSTUDIO_SECRET_KEY is required")

    def test_serves_graphql_and_readiness_over_real_http(self, server: str) -> None:
        ready = httpx.get(f"{server}/readyz", timeout=5)
        assert ready.status_code == 200
        response = httpx.post(f"{server}/graphql", json={"query": "{ __typename }"}, timeout=5)
        assert response.json() == {"data": {"__typename": "Query"}}


class TestExportSchema:
    def test_writes_the_sdl_to_standard_output(self, tmp_path: Path) -> None:
        result = run_cli(tmp_path, "export-schema", "--output", "-")
        assert result.returncode == 0
        assert result.stdout == export_schema()
