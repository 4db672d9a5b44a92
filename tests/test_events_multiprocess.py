"""Across processes: two servers and a worker; a subscriber on one server sees every event of
a job the worker drives, in order, none missing — through PostgreSQL and through Redis."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.graphql import REGISTER, signup
from tests.processes import TIMEOUT, command_env, run_cli, server_process
from tests.test_jobs import brief
from tests.workers import HEAVY, free_port

pytestmark = HEAVY

EVENTS = "subscription($j: ID!) { jobEvents(jobId: $j, afterSeq: 0) { seq type } }"


async def _gql(base: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(timeout=10) as http:
        body = (
            await http.post(
                f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
            )
        ).json()
    assert "errors" not in body, body
    return body["data"]


async def _collect(base: str, token: str, job_id: str) -> list[dict[str, Any]]:
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": EVENTS, "variables": {"j": job_id}},
                }
            )
        )
        events = []
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["type"] == "next":
                events.append(message["payload"]["data"]["jobEvents"])
            elif message["type"] == "complete":
                return events
            elif message["type"] != "ping":
                raise AssertionError(message)


async def _approve_when_ready(base: str, token: str, job_id: str) -> None:
    for _ in range(600):
        node = (
            await _gql(
                base,
                "query($id: ID!) { node(id: $id) { ... on Job { status } } }",
                {"id": job_id},
                token,
            )
        )["node"]
        if node["status"] == "STORYBOARD_READY":
            await _gql(
                base,
                "mutation($j: ID!) { approveStoryboard(jobId: $j) { job { id } } }",
                {"j": job_id},
                token,
            )
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the storyboard never became ready")


@pytest.mark.parametrize("hub", ["postgres", "redis"])
async def test_a_subscriber_on_another_server_sees_the_workers_events(
    tmp_path: Path, postgres_only_url: str, hub: str, redis_url: str
) -> None:
    env = {
        "ADSTUDIO_DATABASE_URL": postgres_only_url,
        "ADSTUDIO_EVENT_HUB": hub,
        "ADSTUDIO_LOCAL_LATENCY_SECONDS": "0.05",
        "ADSTUDIO_GENERATION_POLL_SECONDS": "0.05",
        "ADSTUDIO_SECRET_KEY": "multi-process-" + "m" * 32,
        "ADSTUDIO_EXECUTE_WORK": "false",
    }
    if hub == "redis":
        env["ADSTUDIO_REDIS_URL"] = redis_url
    assert run_cli(tmp_path, "migrate", **env).returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "app", "worker"],
        cwd=tmp_path,
        env=command_env(tmp_path, **env, ADSTUDIO_EXECUTOR_ID="worker-1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with (
            server_process(tmp_path, free_port(), **env, ADSTUDIO_EXECUTOR_ID="server-a") as (a, _),
            server_process(tmp_path, free_port(), **env, ADSTUDIO_EXECUTOR_ID="server-b") as (b, _),
        ):
            data = await _gql(
                a,
                REGISTER,
                signup({"email": f"{hub}@example.com", "password": "long password", "name": "M"}),
            )
            token = data["signIn"]["accessToken"]
            workspace = data["signIn"]["user"]["memberships"][0]["workspace"]["id"]
            client = (
                await _gql(
                    a,
                    'mutation($w: ID!) { createClient(input: {workspaceId: $w, name: "C"}) { client { id } } }',
                    {"w": workspace},
                    token,
                )
            )["createClient"]["client"]["id"]
            campaign = (
                await _gql(
                    a,
                    'mutation($c: ID!) { createCampaign(input: {clientId: $c, name: "N", goal: "G"}) { campaign { id } } }',
                    {"c": client},
                    token,
                )
            )["createCampaign"]["campaign"]["id"]
            job_id = (
                await _gql(
                    a,
                    "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id } } }",
                    {"i": brief(client, campaign, 15)},
                    token,
                )
            )["createJob"]["job"]["id"]
            subscriber = asyncio.create_task(_collect(b, token, job_id))
            await _approve_when_ready(a, token, job_id)
            events = await asyncio.wait_for(subscriber, 180)
    finally:
        worker.terminate()
        worker.wait(timeout=TIMEOUT)
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    assert events[0]["type"] == "job.created"
    assert events[-1]["type"] == "job.completed"
