"""The long-lived parts one process shares: settings, database engine and session factory."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.auth.security import Security
from app.clock import Clock, SystemClock
from app.db import create_engine, create_sessionmaker, describe_url, ping
from app.errors import StartupError
from app.settings import Settings


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    security: Security
    clock: Clock

    async def close(self) -> None:
        await self.engine.dispose()


async def open_runtime(settings: Settings, *, clock: Clock | None = None) -> Runtime:
    """Connect to the database; a database that cannot be reached is a one-line StartupError."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await check_database(engine, settings.resolved_database_url)
    except StartupError:
        await engine.dispose()
        raise
    return Runtime(
        settings=settings,
        engine=engine,
        sessionmaker=create_sessionmaker(engine),
        security=Security.from_settings(settings),
        clock=clock or SystemClock(),
    )


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
