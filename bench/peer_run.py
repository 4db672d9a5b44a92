"""The peer bench's moving parts: targets, shape checks, SQL counts and load runs."""

from __future__ import annotations

import argparse
import asyncio
import math
import subprocess
import time
import uuid
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from app.settings import Settings, load_settings
from bench import postgraphile
from bench.database import Database
from bench.inprocess import in_process
from bench.load import LoadResult
from bench.procs import Server, free_port, python_module, serve
from bench.query import count_objects, level_counts

POSTGRAPHILE = "PostGraphile 5"
IN_PROCESS_TIMEOUT_SECONDS = 900.0


@dataclass(frozen=True, slots=True)
class Target:
    """One server as the load generator sees it."""

    name: str
    server: Server
    headers: tuple[str, ...] = ()
    database: str | None = None  # the PostgreSQL database whose backends are measured


@dataclass
class Bench:
    """The PostgreSQL side of a run: its database, servers and seeded ids."""

    args: argparse.Namespace
    scratch: Path
    database: Database
    env: dict[str, str]
    token: str
    targets: list[Target]
    workspace: uuid.UUID
    client: uuid.UUID

    def body_file(self, name: str, body: bytes) -> Path:
        path = self.scratch / f"body-{abs(hash((name, body)))}.json"
        path.write_bytes(body)
        return path

    def statements(self, bodies: dict[str, dict[str, bytes]]) -> dict[str, dict[str, int]]:
        """SQL statements per request: ``bodies[key][server]`` to ``counts[key][server]``."""
        return count_statements(self.env, self.token, self.targets, bodies)


def adstudio_name(mode: str) -> str:
    return f"adstudio ({mode})"


def mode_of(name: str) -> str | None:
    """The read mode of an adstudio target's name, None for the peer."""
    return (
        name.removeprefix("adstudio (").removesuffix(")") if name.startswith("adstudio") else None
    )


def serve_adstudio(mode: str, env: dict[str, str], scratch: Path) -> AbstractContextManager[Server]:
    port = free_port()
    env["ADSTUDIO_COMPILED_READS"] = str(mode == "compiled").lower()
    command = python_module("app", "serve", "--port", str(port))
    return serve(f"adstudio-{mode}", command, port=port, env=env, log_dir=scratch)


def count_statements(
    env: dict[str, str], token: str, targets: list[Target], bodies: dict[str, dict[str, bytes]]
) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {key: {} for key in bodies}
    for target in targets:
        mode = mode_of(target.name)
        if mode is None:
            for key, by_server in bodies.items():
                counts[key][target.name] = peer_statements(target, by_server[target.name])
            continue
        mine = {key: by_server[target.name] for key, by_server in bodies.items()}
        found = asyncio.run(adstudio_statements(mode_settings(env, mode), token, mine))
        for key, count in found.items():
            counts[key][target.name] = count
    return counts


def mode_settings(env: dict[str, str], mode: str) -> Settings:
    """adstudio's settings from the servers' environment, in read mode ``mode``."""
    overrides: dict[str, object] = {
        key.removeprefix("ADSTUDIO_").lower(): value
        for key, value in env.items()
        if key.startswith("ADSTUDIO_")
    }
    overrides["compiled_reads"] = mode == "compiled"
    return load_settings(**overrides)


@dataclass(frozen=True, slots=True)
class Answer:
    payload: Any
    seconds: float  # wall time of the request

    @property
    def shape(self) -> list[int]:
        return level_counts(self.payload.get("data"))

    @property
    def fields(self) -> int:
        return count_objects(self.payload.get("data"))[1]


def fetch(target: Target, body: bytes) -> Answer:
    """One request; fails on an HTTP error or GraphQL errors."""
    headers = {"content-type": "application/json"}
    for header in target.headers:
        name, _, value = header.partition(": ")
        headers[name] = value
    started = time.perf_counter()
    response = httpx.post(
        target.server.base_url + "/graphql", content=body, headers=headers, timeout=120
    )
    seconds = time.perf_counter() - started
    payload = response.json() if response.status_code == 200 else None
    if not isinstance(payload, dict) or payload.get("errors") or "data" not in payload:
        raise RuntimeError(f"{target.name}: HTTP {response.status_code}: {response.text[:2000]}")
    return Answer(payload, seconds)


def same_shape(case: str, answers: dict[str, Answer]) -> Answer:
    """Every server's answer must have the same objects per level and the same fields."""
    names = list(answers)
    first = answers[names[0]]
    for name in names[1:]:
        other = answers[name]
        if other.shape != first.shape or other.fields != first.fields:
            raise AssertionError(
                f"{case}: {name} answers {other.shape} objects per level and {other.fields} "
                f"fields, {names[0]} {first.shape} and {first.fields}"
            )
    return first


async def adstudio_statements(
    settings: Settings, token: str, bodies: dict[str, bytes]
) -> dict[str, int]:
    """SQL statements of one request per body, counted in process on every engine of the app
    (``before_cursor_execute``), after a first request has warmed the caches."""
    counts = {}
    async with asyncio.timeout(IN_PROCESS_TIMEOUT_SECONDS), in_process(settings) as app:
        for key, body in bodies.items():
            await app.post(body, token)
            _payload, seen = await app.statements(body, token)
            counts[key] = len(seen)
    return counts


def peer_statements(target: Target, body: bytes) -> int:
    """SQL statements of one request, counted by PostGraphile's pool (``graphile.config.mjs``)."""
    fetch(target, body)  # warm: PostGraphile plans an operation on its first use
    before = postgraphile.statements_sent(target.server)
    fetch(target, body)
    return postgraphile.statements_sent(target.server) - before


@dataclass(frozen=True, slots=True)
class Load:
    connections: int
    seconds: float
    warmup: float
    requests: int | None = None  # measure this many requests instead of ``seconds``


def requests_for(seconds: float, answer: Answer, low: int = 3, high: int = 2000) -> int:
    """How many requests fill about ``seconds``, from one request's wall time."""
    return max(low, min(high, math.ceil(seconds / max(answer.seconds, 1e-4))))


def run_load(target: Target, body_file: Path, load: Load) -> LoadResult:
    command = python_module(
        "bench.load",
        "--url", target.server.base_url + "/graphql",
        "--body-file", str(body_file),
        "--connections", str(load.connections),
        "--seconds", str(load.seconds),
        "--warmup", str(load.warmup),
        "--pid", str(target.server.pid),
        *(item for header in target.headers for item in ("--header", header)),
        *(("--database-name", target.database) if target.database else ()),
        *(("--requests", str(load.requests)) if load.requests else ()),
    )  # fmt: skip
    done = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        command, capture_output=True, timeout=load.warmup + load.seconds + 900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{done.stderr.decode(errors='replace')}")
    result = LoadResult(**orjson.loads(done.stdout.splitlines()[-1]))
    if result.errors or not result.requests:
        raise RuntimeError(
            f"{target.name}: {result.errors} errors in {result.requests} requests measured"
            + ("" if result.requests else " (a longer --seconds or fewer --connections?)")
        )
    return result


def load_for(load: Load, answer: Answer) -> Load:
    """``load``, or a fixed number of requests when the window would see too few complete.

    A closed loop of N connections on a server that interleaves them answers in bursts of about
    N; with requests so slow that a window holds only a few bursts, a window can see none.
    Then the run is ``max(connections, window / one request's time)`` requests instead.
    """
    expected = load.seconds / max(answer.seconds, 1e-4)
    if expected >= 4 * load.connections:
        return load
    return Load(load.connections, 0.0, load.warmup, max(load.connections, math.ceil(expected)))


def interleaved(
    targets: list[Target], bodies: dict[str, Path], loads: dict[str, Load], rounds: int
) -> dict[str, list[LoadResult]]:
    """``rounds`` runs of every target, the order turned by one place each round."""
    results: dict[str, list[LoadResult]] = {t.name: [] for t in targets}
    for number in range(rounds):
        shift = number % len(targets)
        for target in targets[shift:] + targets[:shift]:
            print(f"...   {target.name}: round {number + 1}/{rounds}", flush=True)
            load = loads[target.name]
            results[target.name].append(run_load(target, bodies[target.name], load))
    return results
