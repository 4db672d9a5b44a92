"""workspaceActivity across processes: two servers and two workers write one workspace's
events at once; a subscriber on one of the servers receives every stored event, once, in
workspace order.

Through both servers, requests each launch an image generation and edit every scene of a
storyboard in review (each mutation commits on its own, so each writes its event under the
workspace's lock while the others wait). The workers drive the generations meanwhile,
writing generation.submitted and generation.succeeded (and generation.progress when a poll
finds one still running). Launching keeps pace with the workers and stops once 3,000 events
are certain.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.ids import decode_global_id
from tests.graphql import REGISTER, signup
from tests.processes import cluster_processes
from tests.test_jobs import brief
from tests.workers import HEAVY

pytestmark = HEAVY

TARGET = 3000
SCENES = 7  # the storyboard's scenes, each edited by every launch
BACKLOG = 16  # unfinished generations at most: launching keeps pace with the workers
LAUNCHERS = 2  # concurrent launch requests per server
WORKERS = ("worker-1", "worker-2")
ACTIVITY = """
subscription($w: ID!) {
  workspaceActivity(workspaceId: $w, afterSeq: 0) { stream seq workspaceSeq type }
}
"""
CLIENT = """
mutation($w: ID!) { createClient(input: {workspaceId: $w, name: "Fizz"}) { client { id } } }
"""
CAMPAIGN = """
mutation($c: ID!) {
  createCampaign(input: {clientId: $c, name: "Launch", goal: "Awareness"}) { campaign { id } }
}
"""
CREATE_JOB = "mutation($i: CreateJobInput!) { createJob(input: $i) { job { id } } }"
JOB = "query($id: ID!) { node(id: $id) { ... on Job { status scenes { id } } } }"
LAUNCH = """
mutation($g: GenerateImageInput!, {params}) {{
  g: generateImage(input: $g) {{ generation {{ id }} }}
{edits}
}}
"""


class Api:
    """GraphQL over one HTTP connection pool; any error fails the test."""

    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=30)

    async def __call__(self, query: str, variables: dict[str, Any]) -> Any:
        response = await self.http.post("/graphql", json={"query": query, "variables": variables})
        body = response.json()
        assert "errors" not in body, body
        return body["data"]


class Activity:
    """A graphql-transport-ws subscriber collecting every ``workspaceActivity`` event."""

    def __init__(self, base: str, token: str, workspace: str) -> None:
        self.events: list[dict[str, Any]] = []
        self._grew = asyncio.Event()
        self._task = asyncio.create_task(self._follow(base, token, workspace))

    async def _follow(self, base: str, token: str, workspace: str) -> None:
        url = base.replace("http://", "ws://") + "/graphql"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await ws.send(json.dumps(init))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            subscribe = {"query": ACTIVITY, "variables": {"w": workspace}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            async for raw in ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                    continue
                assert message["type"] == "next", message  # the stream never ends by itself
                self.events.append(message["payload"]["data"]["workspaceActivity"])
                self._grew.set()

    async def until(self, count: int, timeout: float) -> None:
        """Wait until ``count`` events have arrived (the subscription failing fails at once)."""
        deadline = time.monotonic() + timeout
        while len(self.events) < count:
            self._grew.clear()
            grew = asyncio.ensure_future(self._grew.wait())
            await asyncio.wait(
                {grew, self._task},
                timeout=deadline - time.monotonic(),
                return_when=asyncio.FIRST_COMPLETED,
            )
            grew.cancel()
            if self._task.done():
                self._task.result()
                raise AssertionError("the subscription ended")
            if time.monotonic() >= deadline:
                raise AssertionError(f"{len(self.events)} of {count} events arrived in time")

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


class Pace:
    """The workspace as its database sees it, read a few times a second: launches wait while
    the backlog of generations is long, and stop once 3,000 events are certain."""

    def __init__(self, database: AsyncEngine, workspace_id: uuid.UUID) -> None:
        self._database = database
        self._workspace_id = workspace_id
        self.launched = 0
        self.stored = self.unfinished = self.events = 0
        self.changed = asyncio.Condition()

    @property
    def backlog(self) -> int:
        """Unfinished generations, counting launches the database does not show yet."""
        return self.unfinished + self.launched - self.stored

    @property
    def enough(self) -> bool:
        # Every unfinished generation is still to write at least its final event.
        return self.events + self.backlog >= TARGET

    @property
    def done(self) -> bool:
        return self.launched == self.stored and self.unfinished == 0

    async def refresh(self) -> None:
        launched = (
            "SELECT {} FROM generation WHERE workspace_id = :w AND job_id IS NULL"  # not the job's
        )
        async with self._database.connect() as connection:
            row = (
                await connection.execute(
                    sa.text(
                        f"SELECT ({launched.format('count(*)')}), "
                        f"({launched.format('count(*)')} "
                        "AND status NOT IN ('succeeded', 'failed', 'canceled')), "
                        "(SELECT count(*) FROM job_event WHERE workspace_id = :w)"
                    ),
                    {"w": self._workspace_id},
                )
            ).one()
        async with self.changed:
            self.stored, self.unfinished, self.events = row
            self.changed.notify_all()

    async def watch(self, *, until_done: bool) -> None:
        while not (self.done if until_done else self.enough):
            await asyncio.sleep(0.2)
            await self.refresh()

    async def may_launch(self) -> bool:
        """Wait for room in the backlog; False once enough events are certain."""
        async with self.changed:
            await self.changed.wait_for(lambda: self.enough or self.backlog < BACKLOG)
            if self.enough:
                return False
            self.launched += 1
            return True


def _launch_document(scenes: int) -> str:
    """One generation, then an edit of every scene: each mutation commits on its own."""
    params = ", ".join(f"$e{n}: UpdateSceneInput!" for n in range(scenes))
    edits = "\n".join(
        f"  e{n}: updateScene(input: $e{n}) {{ scene {{ id }} }}" for n in range(scenes)
    )
    return LAUNCH.format(params=params, edits=edits)


async def _launch_until_enough(
    apis: list[Api], workspace: str, scenes: list[str], pace: Pace
) -> None:
    document = _launch_document(len(scenes))
    numbers = itertools.count()

    async def launcher(api: Api) -> None:
        while await pace.may_launch():
            n = next(numbers)
            variables: dict[str, Any] = {"g": {"workspaceId": workspace, "prompt": f"take {n}"}}
            for k, scene in enumerate(scenes):
                variables[f"e{k}"] = {"sceneId": scene, "description": f"Scene {k}, take {n}"}
            await api(document, variables)

    watcher = asyncio.create_task(pace.watch(until_done=False))
    await asyncio.gather(*(launcher(api) for api in apis for _ in range(LAUNCHERS)))
    await watcher
    await pace.watch(until_done=True)


async def _storyboard(api: Api, workspace: str) -> str:
    client = (await api(CLIENT, {"w": workspace}))["createClient"]["client"]["id"]
    campaign = (await api(CAMPAIGN, {"c": client}))["createCampaign"]["campaign"]["id"]
    job = brief(client, campaign, 15, sceneCount=SCENES)
    return str((await api(CREATE_JOB, {"i": job}))["createJob"]["job"]["id"])


async def _scenes_in_review(api: Api, job_id: str) -> list[str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = (await api(JOB, {"id": job_id}))["node"]
        if job["status"] == "STORYBOARD_READY":
            return [scene["id"] for scene in job["scenes"]]
        assert job["status"] in {"PENDING", "STORYBOARD_PROCESSING"}, job
        await asyncio.sleep(0.2)
    raise AssertionError("the storyboard never became ready")


async def _stored(database: AsyncEngine, workspace_id: uuid.UUID) -> dict[str, Any]:
    """The workspace's events in order, its generations' statuses, and who executed them."""
    w = {"w": workspace_id}
    async with database.connect() as connection:
        events = await connection.execute(
            sa.text(
                "SELECT stream_id, seq, workspace_seq, type FROM job_event "
                "WHERE workspace_id = :w ORDER BY workspace_seq"
            ),
            w,
        )
        statuses = await connection.execute(
            sa.text("SELECT status, count(*) FROM generation WHERE workspace_id = :w GROUP BY 1"),
            w,
        )
        executors = await connection.execute(
            sa.text(
                "SELECT executor_id, count(*) FROM dbos.workflow_status "
                "WHERE name = 'generation' GROUP BY 1"
            )
        )
        return {
            "events": [
                {"stream": s, "seq": n, "workspaceSeq": ws, "type": t} for s, n, ws, t in events
            ],
            "statuses": dict(statuses.all()),
            "executors": dict(executors.all()),
        }


async def _drive(
    database: AsyncEngine, a: str, b: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    apis = [Api(a), Api(b)]
    try:
        account = {"email": "activity@example.com", "password": "long password", "name": "A"}
        signed_in = (await apis[0](REGISTER, signup(account)))["signIn"]
        token = signed_in["accessToken"]
        workspace = signed_in["user"]["memberships"][0]["workspace"]["id"]
        for api in apis:
            api.http.headers["Authorization"] = f"Bearer {token}"
        workspace_id = decode_global_id(workspace).id
        activity = Activity(b, token, workspace)
        try:
            job_id = await _storyboard(apis[0], workspace)
            await activity.until(1, 30)  # the subscriber is live before the rest begins
            scenes = await _scenes_in_review(apis[1], job_id)
            pace = Pace(database, workspace_id)
            await asyncio.wait_for(_launch_until_enough(apis, workspace, scenes, pace), 300)
            stored = await _stored(database, workspace_id)
            await activity.until(len(stored["events"]), 30)
            return stored, list(activity.events)
        finally:
            await activity.close()
    finally:
        await asyncio.gather(*(api.http.aclose() for api in apis))


async def test_a_subscriber_receives_every_event_two_servers_and_two_workers_write(
    tmp_path: Path, postgres_only_url: str
) -> None:
    env = {
        "ADSTUDIO_DATABASE_URL": postgres_only_url,
        "ADSTUDIO_EVENT_HUB": "postgres",
        "ADSTUDIO_LOCAL_LATENCY_SECONDS": "0.05",
        "ADSTUDIO_GENERATION_POLL_SECONDS": "0.05",
        "ADSTUDIO_SECRET_KEY": "multi-process-" + "m" * 32,
        "ADSTUDIO_IMAGE_RATE_LIMIT": "100000/minute",
        "ADSTUDIO_WORKSPACE_CONCURRENCY": "8",
    }
    serving = {**env, "ADSTUDIO_EXECUTE_WORK": "false"}
    database = create_async_engine(postgres_only_url)
    try:
        with cluster_processes(
            tmp_path,
            servers=[{**serving, "ADSTUDIO_EXECUTOR_ID": s} for s in ("server-a", "server-b")],
            workers=[{**env, "ADSTUDIO_EXECUTOR_ID": w} for w in WORKERS],
        ) as (a, b):
            stored, received = await _drive(database, a, b)
    finally:
        await database.dispose()
    events = stored["events"]
    assert len(events) >= TARGET
    assert [e["workspaceSeq"] for e in events] == list(range(1, len(events) + 1))
    assert received == events  # every one, once, in order
    by_stream = itertools.groupby(sorted(events, key=lambda e: e["stream"]), lambda e: e["stream"])
    for _, stream in by_stream:
        seqs = [e["seq"] for e in stream]  # workspace order keeps each stream's order too
        assert seqs == list(range(1, len(seqs) + 1))
    assert set(stored["statuses"]) == {"succeeded"}
    worked = stored["executors"]  # the DBOS executor that ran each generation's workflow
    assert set(worked) == set(WORKERS), worked
    assert min(worked.values()) > sum(worked.values()) // 10, worked
    written = {e["type"] for e in events}  # by the servers and by the workers
    assert {"job.scene_updated", "generation.queued", "generation.succeeded"} <= written
