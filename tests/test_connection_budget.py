"""Two servers and two workers on PostgreSQL stay inside the documented connection budget.

Each process may hold DB_POOL_SIZE + DB_MAX_OVERFLOW + ENGINE_POOL_SIZE + 3 connections
(README, "Connection budget"); with the defaults that is 11, so 44 for four processes. The
test drives generations and reads through both servers while it samples pg_stat_activity.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url

from tests.graphql import REGISTER, signup
from tests.processes import TIMEOUT, command_env, run_cli, server_process
from tests.workers import HEAVY, free_port

pytestmark = HEAVY

GENERATE = "mutation($i: GenerateImageInput!) { generateImage(input: $i) { generation { id } } }"
READ = "query($id: ID!) { generation(id: $id) { status } }"
DASHBOARD = "{ viewer { memberships { workspace { clients(first: 20) { totalCount } } } } }"
GENERATIONS = 60
PER_PROCESS = 4 + 1 + 3 + 3  # defaults: ours, overflow, the engine's; listeners, publisher


class Sampler(threading.Thread):
    """The peak number of connections to the test's database, sampled every 50 ms."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        parsed = make_url(url)
        self.database = parsed.database
        self.dsn = parsed.set(drivername="postgresql", database="postgres").render_as_string(
            hide_password=False
        )
        self.peak = 0
        self.breakdown: list[Any] = []
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            while not self._halt.is_set():
                row = connection.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (self.database,)
                ).fetchone()
                count = int(row[0]) if row else 0
                if count > self.peak:
                    self.breakdown = connection.execute(
                        "SELECT application_name, backend_type, left(query, 50), count(*)"
                        " FROM pg_stat_activity WHERE datname = %s GROUP BY 1, 2, 3",
                        (self.database,),
                    ).fetchall()
                self.peak = max(self.peak, count)
                self.samples += 1
                time.sleep(0.05)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


async def _gql(
    http: httpx.AsyncClient, base: str, query: str, variables: dict[str, Any], token: str = ""
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await http.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _drive(a: str, b: str) -> list[str]:
    async with httpx.AsyncClient(timeout=60) as http:
        data = await _gql(
            http,
            a,
            REGISTER,
            signup({"email": "b@example.com", "password": "long password", "name": "B"}),
        )
        token = data["signIn"]["accessToken"]
        workspace = data["signIn"]["user"]["memberships"][0]["workspace"]["id"]
        ids = await asyncio.gather(
            *(
                _gql(
                    http,
                    (a, b)[n % 2],
                    GENERATE,
                    {"i": {"workspaceId": workspace, "prompt": f"p{n}"}},
                    token,
                )
                for n in range(GENERATIONS)
            )
        )
        generation_ids = [d["generateImage"]["generation"]["id"] for d in ids]
        statuses: list[str] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            reads = await asyncio.gather(
                *(
                    _gql(http, (a, b)[n % 2], READ, {"id": g}, token)
                    for n, g in enumerate(generation_ids)
                ),
                *(_gql(http, (b, a)[n % 2], DASHBOARD, {}, token) for n in range(20)),
            )
            statuses = [r["generation"]["status"] for r in reads[:GENERATIONS]]
            if all(s == "SUCCEEDED" for s in statuses):
                break
            await asyncio.sleep(0.3)
        return statuses


async def test_two_servers_and_two_workers_stay_inside_the_budget(
    tmp_path: Path, postgres_only_url: str
) -> None:
    env = {
        "ADSTUDIO_DATABASE_URL": postgres_only_url,
        "ADSTUDIO_LOCAL_LATENCY_SECONDS": "0.2",
        "ADSTUDIO_GENERATION_POLL_SECONDS": "0.05",
        "ADSTUDIO_SECRET_KEY": "budget-test-secret-" + "b" * 32,
        "ADSTUDIO_IMAGE_RATE_LIMIT": "1000/minute",
        "ADSTUDIO_WORKSPACE_CONCURRENCY": "30",
    }
    assert run_cli(tmp_path, "migrate", **env).returncode == 0
    sampler = Sampler(postgres_only_url)
    sampler.start()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            cwd=tmp_path,
            env=command_env(tmp_path, **env, ADSTUDIO_EXECUTOR_ID=f"worker-{n}"),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in (1, 2)
    ]
    serving = {**env, "ADSTUDIO_EXECUTE_WORK": "false"}
    try:
        with (
            server_process(tmp_path, free_port(), **serving, ADSTUDIO_EXECUTOR_ID="server-a") as (
                a,
                _,
            ),
            server_process(tmp_path, free_port(), **serving, ADSTUDIO_EXECUTOR_ID="server-b") as (
                b,
                _,
            ),
        ):
            statuses = await _drive(a, b)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=TIMEOUT)
        sampler.stop()
    assert statuses == ["SUCCEEDED"] * GENERATIONS
    assert sampler.samples > 20
    print(f"\npeak PostgreSQL connections, 2 servers + 2 workers: {sampler.peak}")
    print(*sampler.breakdown, sep="\n")
    assert sampler.peak <= 4 * PER_PROCESS < 50, sampler.peak
