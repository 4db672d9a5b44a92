"""The dashboard benchmark: the GraphQL server against a hand-written baseline, same data.

    python -m bench.dashboard [--database-url URL] [--seconds 20] [--connections 16] [--profile]

Seeds a workspace (20 clients x 10 campaigns x 20 assets), serves the API and the baseline with
uvicorn in subprocesses, checks that both return the same dashboard, counts SQL statements, then
drives each server with a separate load-generator process and prints throughput, latency and
server CPU per request. Everything it starts is stopped, and every database it creates is dropped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import orjson
import psycopg

from app.ids import expect_global_id
from app.settings import load_settings
from bench import handwritten
from bench.database import Database, bench_database
from bench.inprocess import in_process, profile
from bench.load import LoadResult
from bench.procs import Server, free_port, python_module, serve
from bench.profiling import report as profile_report
from bench.query import (
    ASSET_PAGE,
    CAMPAIGN_PAGE,
    CLIENT_PAGE,
    LOGIN,
    check_dashboard,
    count_objects,
    dashboard_body,
    first_difference,
    normalise,
)
from bench.rows import open_rows
from bench.seed import ARGON2_MEMORY_KIB, ARGON2_TIME_COST, Seeded, seed

IN_PROCESS_TIMEOUT_SECONDS = 600.0
GRAPHQL = "GraphQL (Strawberry)"
BASELINE = "hand-written"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    server: Server
    headers: list[str]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.dashboard",
        description="Dashboard read: GraphQL server against a hand-written baseline.",
    )
    parser.add_argument(
        "--database-url",
        help="database to use (kept afterwards); default: a fresh database on "
        "$ADSTUDIO_TEST_POSTGRES_URL's server, else a temporary SQLite file",
    )
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    parser.add_argument("--connections", type=int, default=16, help="concurrent keep-alive clients")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved runs; medians shown")
    parser.add_argument(
        "--without-assets",
        action="store_true",
        help="the dashboard without each campaign's assets (the query measured before assets)",
    )
    parser.add_argument("--profile", action="store_true", help="also profile the GraphQL request")
    parser.add_argument("--profile-runs", type=int, default=20, help="requests under the profiler")
    return parser.parse_args(argv)


def _on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwind: servers stopped, databases dropped


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _on_sigterm)
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="adstudio-bench-")))
        database = stack.enter_context(bench_database(args.database_url, scratch))
        seeded = asyncio.run(seed(database.url, _var_dir(scratch) / "media"))
        assets = not args.without_assets
        body = dashboard_body(seeded.workspace_id, assets=assets)
        body_file = scratch / "dashboard.json"
        body_file.write_bytes(body)
        env = _server_env(database, scratch)
        graphql = stack.enter_context(_serve_graphql(env, scratch))
        baseline = stack.enter_context(_serve_baseline(database, env, scratch))

        token = _login(graphql, seeded)
        targets = [
            Target(GRAPHQL, graphql, [f"Authorization: Bearer {token}"]),
            Target(BASELINE, baseline, []),
        ]
        payload = _verify(targets, body, assets=assets)
        statements = asyncio.run(_count_statements(database, env, body, token, args))
        results: dict[str, list[LoadResult]] = {t.name: [] for t in targets}
        for round_number in range(args.rounds):
            order = targets if round_number % 2 == 0 else targets[::-1]
            for target in order:
                results[target.name].append(_load(target, body_file, args))
        _print_report(database, seeded, payload, statements, results, args)


def _var_dir(scratch: Path) -> Path:
    """The server's ``ADSTUDIO_VAR_DIR``; its media root is ``media`` inside."""
    return scratch / "var"


def _server_env(database: Database, scratch: Path) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("ADSTUDIO_")}
    return {
        **inherited,
        "ADSTUDIO_DATABASE_URL": database.url,
        "ADSTUDIO_ENV": "test",
        "ADSTUDIO_SECRET_KEY": secrets.token_urlsafe(48),
        "ADSTUDIO_VAR_DIR": str(_var_dir(scratch)),
        "ADSTUDIO_LOG_LEVEL": "WARNING",
        "ADSTUDIO_ARGON2_TIME_COST": str(ARGON2_TIME_COST),
        "ADSTUDIO_ARGON2_MEMORY_KIB": str(ARGON2_MEMORY_KIB),
        "ADSTUDIO_ACCESS_TOKEN_TTL_MINUTES": "240",
    }


def _serve_graphql(env: dict[str, str], scratch: Path) -> AbstractContextManager[Server]:
    port = free_port()
    command = python_module("app", "serve", "--port", str(port))
    return serve("graphql", command, port=port, env=env, log_dir=scratch)


def _serve_baseline(
    database: Database, env: dict[str, str], scratch: Path
) -> AbstractContextManager[Server]:
    port = free_port()
    command = python_module(
        "bench.handwritten", "--database-url", database.url, "--port", str(port)
    )
    return serve("handwritten", command, port=port, env=env, log_dir=scratch)


def _login(server: Server, seeded: Seeded) -> str:
    variables = {"email": seeded.email, "password": seeded.password}
    response = httpx.post(
        server.base_url + "/graphql", json={"query": LOGIN, "variables": variables}, timeout=60
    )
    payload = response.json()
    if response.status_code != 200 or payload.get("errors"):
        raise RuntimeError(f"login failed ({response.status_code}): {payload}")
    return str(payload["data"]["login"]["accessToken"])


def _fetch(target: Target, body: bytes) -> Any:
    headers = {"content-type": "application/json"}
    for header in target.headers:
        name, _, value = header.partition(": ")
        headers[name] = value
    response = httpx.post(
        target.server.base_url + "/graphql", content=body, headers=headers, timeout=60
    )
    if response.status_code != 200:
        raise RuntimeError(f"{target.name}: HTTP {response.status_code}: {response.text[:2000]}")
    return response.json()


def _verify(targets: list[Target], body: bytes, *, assets: bool) -> Any:
    """Both servers must return the whole dashboard, and the same one."""
    graphql, baseline = (_fetch(t, body) for t in targets)
    check_dashboard(graphql, source=targets[0].name, assets=assets)
    check_dashboard(baseline, source=targets[1].name, assets=assets)
    difference = first_difference(normalise(graphql), normalise(baseline))
    if difference:
        raise AssertionError(f"the baseline's dashboard differs from the API's: {difference}")
    return graphql


@dataclass(frozen=True, slots=True)
class Statements:
    graphql: list[str]
    baseline: int
    profile: str | None


async def _count_statements(
    database: Database, env: dict[str, str], body: bytes, token: str, args: argparse.Namespace
) -> Statements:
    settings = load_settings(
        env=env["ADSTUDIO_ENV"],
        database_url=database.url,
        var_dir=Path(env["ADSTUDIO_VAR_DIR"]),
        secret_key=env["ADSTUDIO_SECRET_KEY"],
        log_level="WARNING",
        argon2_time_cost=ARGON2_TIME_COST,
        argon2_memory_kib=ARGON2_MEMORY_KIB,
    )
    async with asyncio.timeout(IN_PROCESS_TIMEOUT_SECONDS):
        async with in_process(settings) as app:
            await app.post(body, token)  # warm caches and the pool first
            payload, seen = await app.statements(body, token)
            check_dashboard(payload, source="GraphQL in process", assets=not args.without_assets)
            text = None
            if args.profile:
                text = profile_report(await profile(app, body, token, args.profile_runs))
        rows = await open_rows(database.url)
        try:
            asset_page = None if args.without_assets else ASSET_PAGE
            sizes = handwritten.Sizes(CLIENT_PAGE, CAMPAIGN_PAGE, asset_page)
            await handwritten.build_dashboard(rows, _workspace(body), sizes)
        finally:
            await rows.close()
    return Statements(seen, rows.statements, text)


def _workspace(body: bytes) -> uuid.UUID:
    return expect_global_id(orjson.loads(body)["variables"]["id"], "Workspace")


def _load(target: Target, body_file: Path, args: argparse.Namespace) -> LoadResult:
    command = python_module(
        "bench.load",
        "--url", target.server.base_url + "/graphql",
        "--body-file", str(body_file),
        "--connections", str(args.connections),
        "--seconds", str(args.seconds),
        "--warmup", str(args.warmup),
        "--pid", str(target.server.pid),
        *(item for header in target.headers for item in ("--header", header)),
    )  # fmt: skip
    print(f"... {target.name}: {args.connections} connections, {args.seconds:g} s", flush=True)
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command, capture_output=True, timeout=args.warmup + args.seconds + 120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr.decode(errors='replace')}")
    result = LoadResult(**orjson.loads(done.stdout.splitlines()[-1]))
    if result.errors or not result.requests:
        raise RuntimeError(f"{target.name}: {result.errors} errors in {result.requests} requests")
    return result


def _median(results: list[LoadResult], attribute: str) -> float:
    return float(statistics.median(getattr(r, attribute) for r in results))


def _database_version(database: Database) -> str:
    if database.is_sqlite:
        return f"SQLite {sqlite3.sqlite_version}"
    with psycopg.connect(database.driver_url) as connection:
        row = connection.execute(b"SHOW server_version").fetchone()
    return f"PostgreSQL {row[0] if row else '?'}"


def _statement_lines(statements: list[str]) -> Iterator[str]:
    for statement in statements:
        yield "    " + (statement if len(statement) <= 96 else statement[:93] + "...")


def _print_report(
    database: Database,
    seeded: Seeded,
    payload: Any,
    statements: Statements,
    results: dict[str, list[LoadResult]],
    args: argparse.Namespace,
) -> None:
    objects, fields = count_objects(payload["data"])
    size = len(orjson.dumps(payload))
    selects = sum(1 for s in statements.graphql if s.upper().startswith("SELECT"))
    sql = {GRAPHQL: len(statements.graphql), BASELINE: statements.baseline}
    out = [
        "",
        f"adstudio dashboard benchmark: {_database_version(database)}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        f"data: {seeded.clients} clients, {seeded.campaigns} campaigns, {seeded.assets} assets, "
        f"{seeded.jobs} jobs, {seeded.cost_entries} ledger entries",
        f"query: first {CLIENT_PAGE} clients x first {CAMPAIGN_PAGE} campaigns with stats"
        f"{'' if args.without_assets else f' x first {ASSET_PAGE} assets'}: "
        f"{objects} objects, {fields} fields, {size / 1024:.0f} KB of JSON",
        f"load: {args.connections} keep-alive connections, {args.seconds:g} s per run after "
        f"{args.warmup:g} s warm-up, {args.rounds} round(s) (medians)",
        "",
        f"{'server':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11} "
        f"{'SQL/req':>8}",
    ]
    for name, runs in results.items():
        out.append(
            f"{name:<22} {_median(runs, 'requests_per_second'):>8.1f} "
            f"{_median(runs, 'p50_ms'):>8.1f} {_median(runs, 'p99_ms'):>8.1f} "
            f"{_median(runs, 'cpu_ms_per_request'):>11.2f} {sql[name]:>8}"
        )
    rps = _median(results[BASELINE], "requests_per_second") / _median(
        results[GRAPHQL], "requests_per_second"
    )
    cpu = _median(results[BASELINE], "cpu_ms_per_request") / _median(
        results[GRAPHQL], "cpu_ms_per_request"
    )
    out += [
        f"ratio baseline / GraphQL: req/s {rps:.2f}, CPU ms/request {cpu:.3f} "
        f"(GraphQL spends {1 / cpu:.1f}x the CPU per request)",
        "",
        f"GraphQL SQL statements per dashboard: {len(statements.graphql)} "
        f"({selects} SELECT, {len(statements.graphql) - selects} other), "
        "authentication included:",
        *_statement_lines(statements.graphql),
        f"baseline SQL statements per dashboard: {statements.baseline} (no authentication)",
    ]
    if statements.profile:
        out += ["", statements.profile]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
