"""Scale-out shape: a server that only enqueues, a worker process that executes."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.graphql import REGISTER, signup
from tests.processes import TIMEOUT, command_env, run_cli, server_process
from tests.workers import free_port

GENERATE = "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }"
READ = "query($id: ID!) { generation(id: $id) { status outputAsset { kind status } } }"


def _gql(base: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = httpx.post(
        f"{base}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    ).json()
    assert "errors" not in body, body
    return body["data"]


def test_a_worker_process_runs_what_the_server_enqueues(tmp_path: Path, database_url: str) -> None:
    common = {
        "ADSTUDIO_DATABASE_URL": database_url,
        "ADSTUDIO_LOCAL_LATENCY_SECONDS": "0.1",
        "ADSTUDIO_GENERATION_POLL_SECONDS": "0.05",
        "ADSTUDIO_SECRET_KEY": "worker-test-secret-" + "w" * 32,
    }
    assert run_cli(tmp_path, "migrate", **common).returncode == 0
    server_env = {**common, "ADSTUDIO_EXECUTE_WORK": "false", "ADSTUDIO_EXECUTOR_ID": "server-1"}
    with server_process(tmp_path, free_port(), **server_env) as (base, _):
        data = _gql(
            base,
            REGISTER,
            signup({"email": "w@example.com", "password": "long password", "name": "W"}),
        )
        token = data["signIn"]["accessToken"]
        workspace = data["signIn"]["user"]["memberships"][0]["workspace"]["id"]
        generation_id = _gql(
            base, GENERATE, {"i": {"workspaceId": workspace, "prompt": "x"}}, token
        )["generateImage"]["generation"]["id"]
        time.sleep(1.0)
        assert _gql(base, READ, {"id": generation_id}, token)["generation"]["status"] == "QUEUED"
        worker = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            env=command_env(tmp_path, **common, ADSTUDIO_EXECUTOR_ID="worker-1"),
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + TIMEOUT
            status = ""
            while time.monotonic() < deadline and status != "SUCCEEDED":
                generation = _gql(base, READ, {"id": generation_id}, token)["generation"]
                status = generation["status"]
                time.sleep(0.2)
            assert status == "SUCCEEDED"
            assert generation["outputAsset"] == {"kind": "IMAGE", "status": "READY"}
        finally:
            worker.terminate()
            assert worker.wait(timeout=TIMEOUT) == 0
