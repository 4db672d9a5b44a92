"""The long-lived parts one process shares: settings, database engine and session factory."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.after_commit import drain as finish_follow_ups
from app.auth.cache import CredentialCache
from app.auth.invalidation import InvalidationFeed, LocalFeed, RedisFeed
from app.auth.revocation import CACHE_KEY
from app.auth.security import Security
from app.clock import Clock, SystemClock
from app.db import create_engine, create_sessionmaker, describe_url, ping
from app.engine.port import WorkEngine
from app.errors import StartupError
from app.events.announce import HUB_KEY, drain
from app.events.hub import EventHub, LocalHub, PostgresHub, RedisHub
from app.media.rules import MB, SizeCaps
from app.ratelimit import RateLimiter
from app.reads import ReadStats, install
from app.settings import Settings
from app.single_flight import settle
from app.storage.base import Storage
from app.storage.links import MediaLinks
from app.storage.local import LocalStorage


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    read_engine: AsyncEngine
    read_sessionmaker: async_sessionmaker[AsyncSession]
    security: Security
    clock: Clock
    storage: Storage
    links: MediaLinks
    limiter: RateLimiter
    hub: EventHub
    credentials: CredentialCache
    work: WorkEngine | None = None  # the durable engine, when this process has one
    reads: ReadStats = field(default_factory=ReadStats)  # the compiled read path's counts
    background: set[asyncio.Task[None]] = field(default_factory=set)
    """Long-lived work of this runtime (the live streams' readers), stopped first on close."""

    def spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``work`` in the background until it ends or the runtime closes."""
        task = asyncio.create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine of ours, once each: on SQLite reads go through one of their own."""
        if self.read_engine is self.engine:
            return (self.engine,)
        return (self.engine, self.read_engine)

    @property
    def caps(self) -> SizeCaps:
        settings = self.settings
        return SizeCaps(
            image=settings.max_image_mb * MB,
            audio=settings.max_audio_mb * MB,
            video=settings.max_video_mb * MB,
            document=settings.max_document_mb * MB,
        )

    async def close(self) -> None:
        # Readers first: stopping the hub wakes them, and a read begun after the others have
        # settled would still hold a connection when the engines are disposed.
        for task in list(self.background):
            task.cancel()
        if self.background:
            await asyncio.gather(*self.background, return_exceptions=True)
        await finish_follow_ups()
        await drain()
        await settle(id(self))
        await self.hub.stop()
        await self.credentials.stop()
        await self.limiter.close()
        for engine in self.engines:
            await engine.dispose()


async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """Connect to the database; a database that cannot be reached is a one-line StartupError."""
    engine = create_engine(settings.resolved_database_url, pool=settings.pool_budget)
    try:
        await check_database(engine, settings.resolved_database_url)
    except StartupError:
        await engine.dispose()
        raise
    read_engine = (
        create_engine(settings.resolved_database_url, writer=False)
        if settings.is_sqlite
        else engine
    )
    for each in {engine, read_engine}:
        install(each)
    hub = make_hub(settings)
    await hub.start()
    credentials = CredentialCache(
        timedelta(seconds=settings.credential_cache_seconds), make_feed(settings)
    )
    await credentials.start()
    limiter = RateLimiter.from_url(settings.redis_url)
    info = {HUB_KEY: hub, CACHE_KEY: credentials}
    writer = create_sessionmaker(engine, info)
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=writer,
        read_engine=read_engine,
        read_sessionmaker=(
            create_sessionmaker(read_engine, info) if settings.is_sqlite else writer
        ),
        security=Security.from_settings(settings, limiter),
        clock=clock or SystemClock(),
        storage=LocalStorage(settings.resolved_media_root),
        links=MediaLinks(
            settings.signing_key(), settings.public_base_url, settings.media_url_ttl_seconds
        ),
        limiter=limiter,
        hub=hub,
        credentials=credentials,
    )


def make_feed(settings: Settings) -> InvalidationFeed:
    """Redis when configured; else credential changes are applied in this process only."""
    return RedisFeed(settings.redis_url) if settings.redis_url else LocalFeed()


def make_hub(settings: Settings) -> EventHub:
    """Redis when configured, else PostgreSQL LISTEN/NOTIFY on PostgreSQL, else in-process."""
    choice = settings.event_hub
    if choice == "auto":
        choice = "redis" if settings.redis_url else ("local" if settings.is_sqlite else "postgres")
    if choice == "redis" and settings.redis_url:
        return RedisHub(settings.redis_url)
    if choice == "postgres" and not settings.is_sqlite:
        dsn = settings.database.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresHub(dsn)
    return LocalHub()


async def check_database(engine: AsyncEngine, database_url: str) -> None:
    try:
        await ping(engine)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise StartupError(
            f"ADSTUDIO_DATABASE_URL: cannot reach database {describe_url(database_url)}: "
            f"{database_error_reason(exc)}"
        ) from None


def database_error_reason(exc: BaseException) -> str:
    original = getattr(exc, "orig", None) or exc
    text = str(original).strip() or type(original).__name__
    return text.splitlines()[0]
