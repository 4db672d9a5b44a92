"""The live-subscribers benchmark: many WebSocket subscriptions to one job, fed from outside.

    python -m bench.subscribers [--subscribers 1000] [--events 50] [--database-url URL]
                                [--redis-url URL]

Serves the API with ``python -m app serve`` (the durable engine off), registers a user, creates a
client, and inserts one job, with a first event, straight into the server's database. Then opens
one graphql-transport-ws connection per subscriber, each following ``jobEvents(afterSeq: 0)``,
in batches: a batch is subscribed once every connection in it has received the first event.
Events are then written by this process through the app's own models and ``record``, in
committed transactions whose sessions carry the same event hub the server uses (PostgreSQL
LISTEN/NOTIFY, or Redis when a Redis URL is given), so every commit is announced to the server as
the app's own writers announce theirs. The last event cancels the job, which ends every
subscription.

Announcements must cross processes, so the benchmark needs PostgreSQL (a fresh database on
``$ADSTUDIO_TEST_POSTGRES_URL``'s server, dropped afterwards, or ``--database-url``) or Redis
(``--redis-url`` or ``$ADSTUDIO_REDIS_URL``; then the database may be a temporary SQLite file).

Prints commit-to-delivery latency (p50, p99, max over every delivery), checks that each
subscriber received every event exactly once and in order, and reports the server's resident
memory per subscriber and its CPU time per event. Everything it starts is stopped, and its
temporary files and database are removed, on every exit.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.db import create_engine, create_sessionmaker
from app.events.announce import HUB_KEY
from app.events.hub import EventHub
from app.ids import encode_global_id, expect_global_id
from app.models import Job
from app.models.enums import JobStatus
from app.runtime import make_hub
from app.services.events import job_stream, record
from app.settings import Settings
from bench.database import POSTGRES_ENV, Database, bench_database
from bench.procs import Server, cpu_seconds, free_port, python_module, serve, tail
from bench.rss import KIB, memory_kib
from bench.seed import ARGON2_MEMORY_KIB, ARGON2_TIME_COST
from bench.subscriber_clients import (
    BATCH_TIMEOUT_SECONDS,
    LocalClients,
    ProcessClients,
    Subscriber,
    Target,
)

Clients = LocalClients | ProcessClients

REDIS_ENV = "ADSTUDIO_REDIS_URL"
MIGRATE_TIMEOUT_SECONDS = 120.0
EVENT_TIMEOUT_SECONDS = 120.0  # one event, delivered to every subscriber
SETTLE_SECONDS = 1.0
POLL_SECONDS = 0.002

REGISTER = """
mutation Register($input: RegisterInput!, $login: LoginInput!) {
  register(input: $input) { accepted }
  signIn: login(input: $login) { accessToken user { memberships { workspace { id } } } }
}
"""
CREATE_CLIENT = """
mutation CreateClient($input: CreateClientInput!) { createClient(input: $input) { client { id } } }
"""


@dataclass(slots=True)
class Run:
    subscribers: list[Subscriber]
    sent_at: dict[int, float]  # seq -> wall clock right after its commit
    connect_seconds: float
    events_seconds: float
    rss_before_kib: int
    rss_subscribed_kib: int
    rss_end_kib: int
    cpu_events_seconds: float
    hub: str


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.subscribers",
        description="Many live jobEvents subscribers over WebSockets, fed from another process.",
    )
    parser.add_argument("--subscribers", type=int, default=1000, help="WebSocket connections")
    parser.add_argument("--events", type=int, default=50, help="events written and measured")
    parser.add_argument(
        "--database-url",
        help="database to use (migrated and kept); default: a fresh database on "
        f"${POSTGRES_ENV}'s server, else (with Redis) a temporary SQLite file",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get(REDIS_ENV),
        help=f"announce through Redis (default: ${REDIS_ENV}; unset: PostgreSQL LISTEN/NOTIFY)",
    )
    parser.add_argument(
        "--batch", type=int, default=50, help="connections opened at once (default 50)"
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=0.0,
        help="seconds between events; 0 (default): write the next event once every subscriber "
        "has received the previous one",
    )
    parser.add_argument(
        "--client-processes",
        type=int,
        default=1,
        help="processes the subscribers are spread over (default 1: all in this one)",
    )
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="do not offer permessage-deflate (browsers offer it; the default does too)",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, help="give up after this many seconds"
    )
    args = parser.parse_args(argv)
    if min(args.subscribers, args.events, args.batch, args.client_processes) < 1:
        parser.error("--subscribers, --events, --batch and --client-processes must be positive")
    if args.interval < 0:
        parser.error("--interval must be >= 0")
    return args


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwind: sockets closed, server stopped, database dropped


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    explicit = args.database_url
    if not explicit and not os.environ.get(POSTGRES_ENV) and not args.redis_url:
        raise SystemExit(
            "bench.subscribers needs events announced across processes: set "
            f"{POSTGRES_ENV} (or --database-url) to a PostgreSQL server, or {REDIS_ENV} "
            "(or --redis-url) to a Redis server"
        )
    signal.signal(signal.SIGTERM, _on_sigterm)
    started = time.perf_counter()
    with ExitStack() as stack:
        scratch = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="adstudio-subscribers-"))
        )
        database = stack.enter_context(bench_database(explicit, scratch))
        if database.is_sqlite and not args.redis_url:
            raise SystemExit("on SQLite, events can only be announced through Redis: --redis-url")
        port = free_port()
        env = _server_env(scratch / "var", database, args)
        _migrate(env)
        command = python_module("app", "serve", "--port", str(port))
        server = stack.enter_context(
            serve("adstudio", command, port=port, env=env, log_dir=scratch)
        )
        try:
            run = asyncio.run(asyncio.wait_for(_run(server, database, args, scratch), args.timeout))
        except TimeoutError:
            raise SystemExit(
                f"gave up after {args.timeout:.0f} s; server log:\n{tail(server.log)}"
            ) from None
        problems = _check(run, args.events)
        _report(run, args, database, time.perf_counter() - started)
        if problems:
            raise SystemExit("subscribers check failed:\n  " + "\n  ".join(problems[:20]))


def _server_env(var_dir: Path, database: Database, args: argparse.Namespace) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ADSTUDIO_")}
    env = {
        **inherited,
        "ADSTUDIO_ENV": "test",
        "ADSTUDIO_SECRET_KEY": secrets.token_urlsafe(48),
        "ADSTUDIO_VAR_DIR": str(var_dir),
        "ADSTUDIO_DATABASE_URL": database.url,
        "ADSTUDIO_LOG_LEVEL": "WARNING",
        "ADSTUDIO_ARGON2_TIME_COST": str(ARGON2_TIME_COST),
        "ADSTUDIO_ARGON2_MEMORY_KIB": str(ARGON2_MEMORY_KIB),
        "ADSTUDIO_ENGINE_ENABLED": "false",  # events come from this process only
        "ADSTUDIO_MAX_SUBSCRIPTIONS_PER_CONNECTION": "1",  # one subscription per connection
    }
    if args.redis_url:
        env[REDIS_ENV] = args.redis_url
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


async def _graphql(client: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> Any:
    response = await client.post("/graphql", json={"query": query, "variables": variables})
    payload = response.json()
    if response.status_code != 200 or payload.get("errors"):
        raise RuntimeError(f"GraphQL failed ({response.status_code}): {payload}")
    return payload["data"]


async def _account(base_url: str) -> tuple[str, uuid.UUID, uuid.UUID]:
    """Register; create a client in the personal workspace. The token and the two UUIDs."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        email = f"subscribers-{secrets.token_hex(4)}@example.com"
        credentials = {"email": email, "password": secrets.token_urlsafe(18), "name": "Watcher"}
        found = (await _graphql(client, REGISTER, _signup(credentials)))["signIn"]
        token = str(found["accessToken"])
        workspace = str(found["user"]["memberships"][0]["workspace"]["id"])
        client.headers["Authorization"] = f"Bearer {token}"
        created = await _graphql(
            client, CREATE_CLIENT, {"input": {"workspaceId": workspace, "name": "Live"}}
        )
        client_id = str(created["createClient"]["client"]["id"])
    return (
        token,
        expect_global_id(workspace, "Workspace"),
        expect_global_id(client_id, "Client"),
    )


def _signup(credentials: dict[str, str]) -> dict[str, object]:
    """Register, then sign in within the same request (register itself returns no tokens)."""
    login = {"email": credentials["email"], "password": credentials["password"]}
    return {"input": credentials, "login": login}


def _hub(database: Database, redis_url: str | None, scratch: Path) -> EventHub:
    """The hub the server picks for the same settings (Redis if configured, else PostgreSQL)."""
    settings = Settings(env="test", var_dir=scratch, database_url=database.url, redis_url=redis_url)
    return make_hub(settings)


async def _insert_job(
    sessionmaker: async_sessionmaker[AsyncSession], workspace_id: uuid.UUID, client_id: uuid.UUID
) -> uuid.UUID:
    """A bare job and its first event (seq 1), which tells each subscriber it is following."""
    async with sessionmaker() as session, session.begin():
        job = Job(
            workspace_id=workspace_id,
            client_id=client_id,
            product="Live subscribers",
            target_audience="benchmarks",
            key_message="every event, once, in order",
            call_to_action="measure",
            style="plain",
        )
        session.add(job)
        await session.flush()
        await record(
            session, workspace_id=workspace_id, stream_id=job_stream(job.id), type="bench.ready"
        )
        return job.id


async def _write_event(
    sessionmaker: async_sessionmaker[AsyncSession],
    workspace_id: uuid.UUID,
    job_id: uuid.UUID,
    index: int,
    *,
    last: bool,
) -> tuple[int, float]:
    """One committed event (the last one also cancels the job); its seq and the commit time.

    The session carries the hub, so the commit is announced as the app announces its own."""
    async with sessionmaker() as session, session.begin():
        if last:
            job = await session.get(Job, job_id)
            if job is None:
                raise RuntimeError("the benchmark's job has gone")
            job.status = JobStatus.CANCELLED
        event = await record(
            session,
            workspace_id=workspace_id,
            stream_id=job_stream(job_id),
            type="bench.tick",
            payload={"index": index},
        )
    return event.seq, time.time()


async def _wait_until(
    done: Callable[[], bool], clients: Clients, seconds: float, what: str
) -> None:
    """Poll ``done`` until true; fail at once if a subscriber failed, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not done():
        failure = clients.failure()
        if failure is not None:
            raise RuntimeError(f"while waiting for {what}") from failure
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {seconds:.0f} s waiting for {what}")
        await asyncio.sleep(POLL_SECONDS)


async def _run(server: Server, database: Database, args: argparse.Namespace, scratch: Path) -> Run:
    token, workspace_id, client_id = await _account(server.base_url)
    hub = _hub(database, args.redis_url, scratch)
    await hub.start()
    engine = create_engine(database.url)
    sessionmaker = create_sessionmaker(engine, {HUB_KEY: hub})
    clients: Clients | None = None
    try:
        job_id = await _insert_job(sessionmaker, workspace_id, client_id)
        target = Target(
            url=server.base_url.replace("http://", "ws://") + "/graphql",
            token=token,
            job_id=encode_global_id("Job", job_id),
            compression=not args.no_compression,
        )
        clients = _clients(target, args)
        await asyncio.sleep(SETTLE_SECONDS)
        rss_before = memory_kib(server.pid)

        started = time.perf_counter()
        for first in range(0, args.subscribers, args.batch):
            expected = min(first + args.batch, args.subscribers)
            clients.open(first, expected - first)
            await _wait_until(
                clients.reached(1, expected),
                clients,
                BATCH_TIMEOUT_SECONDS,
                f"subscribers {first + 1}-{expected} to follow the job",
            )
        connect_seconds = time.perf_counter() - started
        print(
            f"... {args.subscribers} subscribers following in {connect_seconds:.1f} s", flush=True
        )
        await asyncio.sleep(SETTLE_SECONDS)
        rss_subscribed = memory_kib(server.pid)

        sent_at: dict[int, float] = {}
        cpu_start = cpu_seconds(server.pid)
        started = time.perf_counter()
        for index in range(args.events):
            seq, at = await _write_event(
                sessionmaker, workspace_id, job_id, index, last=index == args.events - 1
            )
            sent_at[seq] = at
            if args.interval:
                await asyncio.sleep(args.interval)
            else:
                await _wait_until(
                    clients.reached(seq, args.subscribers),
                    clients,
                    EVENT_TIMEOUT_SECONDS,
                    f"event {seq} to reach every subscriber",
                )
        await _wait_until(
            clients.done,
            clients,
            EVENT_TIMEOUT_SECONDS,
            "every subscription to complete",
        )
        events_seconds = time.perf_counter() - started
        cpu_events = cpu_seconds(server.pid) - cpu_start
        return Run(
            subscribers=await clients.results(),
            sent_at=sent_at,
            connect_seconds=connect_seconds,
            events_seconds=events_seconds,
            rss_before_kib=rss_before,
            rss_subscribed_kib=rss_subscribed,
            rss_end_kib=memory_kib(server.pid),
            cpu_events_seconds=cpu_events,
            hub=type(hub).__name__,
        )
    finally:
        if clients is not None:
            await clients.close()
        await hub.stop()
        await engine.dispose()


def _clients(target: Target, args: argparse.Namespace) -> Clients:
    seqs = args.events + 2  # seq 1 (the ready event), then one per written event
    if args.client_processes > 1:
        return ProcessClients(target, args.subscribers, seqs, args.client_processes)
    return LocalClients(target, args.subscribers, seqs)


def _check(run: Run, events: int) -> list[str]:
    """Every subscriber saw seq 1 (the ready event), then every written event, once, in order,
    and then ``complete``."""
    expected = list(range(1, events + 2))
    problems = []
    for subscriber in run.subscribers:
        if subscriber.seqs != expected:
            missing = sorted(set(expected) - set(subscriber.seqs))
            repeated = sorted(s for s, n in Counter(subscriber.seqs).items() if n > 1)
            problems.append(
                f"subscriber {subscriber.index}: {len(subscriber.seqs)} events, "
                f"missing {missing[:10]}, repeated {repeated[:10]}, in order: "
                f"{subscriber.seqs == sorted(subscriber.seqs)}"
            )
        elif not subscriber.completed:
            problems.append(f"subscriber {subscriber.index}: no complete")
    return problems


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def _report(run: Run, args: argparse.Namespace, database: Database, wall: float) -> None:
    latencies: list[float] = []
    last_arrival: dict[int, float] = {}
    for subscriber in run.subscribers:
        for seq, at in zip(subscriber.seqs, subscriber.received_at, strict=True):
            if seq in run.sent_at:
                latencies.append((at - run.sent_at[seq]) * 1000)
                last_arrival[seq] = max(last_arrival.get(seq, 0.0), at)
    latencies.sort()
    fan_out = sorted((last_arrival[s] - run.sent_at[s]) * 1000 for s in last_arrival)
    n = args.subscribers
    expected = n * args.events
    growth_kib = run.rss_subscribed_kib - run.rss_before_kib
    mode = (
        f"every {args.interval * 1000:.0f} ms"
        if args.interval
        else "each once the previous reached everyone"
    )
    lines = [
        "",
        f"adstudio live-subscribers benchmark: Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {database.dialect}, hub {run.hub}",
        f"subscribers: {n} WebSocket connections (graphql-transport-ws, "
        f"{'no compression' if args.no_compression else 'permessage-deflate offered'}), "
        f"opened {args.batch} at a time, all following in {run.connect_seconds:.1f} s",
        f"events: {args.events} written from another process, {mode}, "
        f"in {run.events_seconds:.1f} s",
        f"deliveries: {len(latencies):,} of {expected:,} expected "
        f"({'all' if len(latencies) == expected else 'MISSING SOME'}); "
        f"complete: {sum(s.completed for s in run.subscribers)} of {n}",
    ]
    if latencies:
        lines += [
            f"commit-to-delivery: p50 {statistics.median(latencies):.1f} ms, "
            f"p99 {_percentile(latencies, 0.99):.1f} ms, max {latencies[-1]:.1f} ms, "
            f"mean {statistics.fmean(latencies):.1f} ms",
            f"fan-out (commit to the last subscriber): median {statistics.median(fan_out):.1f} "
            f"ms, max {fan_out[-1]:.1f} ms",
        ]
    lines += [
        f"server RSS: {run.rss_before_kib / KIB:.1f} MB before connecting, "
        f"{run.rss_subscribed_kib / KIB:.1f} MB with {n} subscribers, "
        f"{run.rss_end_kib / KIB:.1f} MB at the end",
        f"memory per subscriber: {growth_kib / n:.1f} KiB",
        f"server CPU while events flowed: {run.cpu_events_seconds:.2f} s "
        f"({run.cpu_events_seconds * 1000 / args.events:.0f} ms per event, "
        f"{run.cpu_events_seconds * 1e6 / max(1, expected):.0f} us per delivery)",
        f"total wall time: {wall:.1f} s",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
