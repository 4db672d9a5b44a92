"""The GraphQL app in this process (ASGI, no sockets): SQL statement counts and a profile."""

from __future__ import annotations

import cProfile
import gc
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from asgi_lifespan import LifespanManager
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from app.main import create_app
from app.settings import Settings
from bench.query import LOGIN


@dataclass
class InProcess:
    app: Starlette
    client: httpx.AsyncClient

    @property
    def engines(self) -> list[Engine]:
        """The writer engine and, on SQLite, the separate one queries read through."""
        return [engine.sync_engine for engine in self.app.state.runtime.engines]

    async def post_raw(self, body: bytes, token: str | None = None) -> bytes:
        headers = {"content-type": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        response = await self.client.post("/graphql", content=body, headers=headers)
        response.raise_for_status()
        return response.content

    async def post(self, body: bytes, token: str | None = None) -> Any:
        return orjson.loads(await self.post_raw(body, token))

    async def login(self, email: str, password: str) -> str:
        body = orjson.dumps({"query": LOGIN, "variables": {"email": email, "password": password}})
        payload = await self.post(body)
        if payload.get("errors"):
            raise RuntimeError(f"login failed: {payload['errors']}")
        return str(payload["data"]["login"]["accessToken"])

    async def statements(self, body: bytes, token: str) -> tuple[Any, list[str]]:
        """Run one request and return its response and every SQL statement it sent (through
        SQLAlchemy, and straight to the driver by the compiled reads)."""
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(" ".join(str(args[2]).split()))

        def direct(statement: str) -> None:
            seen.append(" ".join(statement.split()))

        sent = self.app.state.runtime.reads.sent
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", record)
        sent.append(direct)
        try:
            payload = await self.post(body, token)
        finally:
            sent.remove(direct)
            for engine in self.engines:
                event.remove(engine, "before_cursor_execute", record)
        return payload, seen


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[InProcess]:
    application = create_app(settings)
    async with LifespanManager(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield InProcess(application, client)


@dataclass
class GcTimer:
    """Time spent in the cyclic garbage collector, by generation."""

    seconds: float = 0.0
    collections: dict[int, int] = field(default_factory=lambda: {0: 0, 1: 0, 2: 0})
    collected: int = 0
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.collections[info["generation"]] += 1
        self.collected += info["collected"]


@dataclass
class Profiled:
    profile: cProfile.Profile
    runs: int
    wall_seconds: float  # the unprofiled pass, one request at a time
    gc: GcTimer  # collections during the unprofiled pass


async def profile(app: InProcess, body: bytes, token: str, runs: int) -> Profiled:
    """Time ``runs`` requests one at a time (garbage collector on, its pauses timed), then
    profile ``runs`` more with the collector off, so its pauses are not charged to whichever
    function happened to allocate when a collection started."""
    await app.post_raw(body, token)
    timer = GcTimer()
    gc.callbacks.append(timer)
    started = time.perf_counter()
    try:
        for _ in range(runs):
            await app.post_raw(body, token)  # the response is not decoded: not server work
    finally:
        gc.callbacks.remove(timer)
    wall = time.perf_counter() - started
    profiler = cProfile.Profile()
    gc.collect()
    gc.disable()
    profiler.enable()
    try:
        for _ in range(runs):
            await app.post_raw(body, token)
    finally:
        profiler.disable()
        gc.enable()
        gc.collect()
    return Profiled(profiler, runs, wall, timer)
