"""Running and inspecting Alembic migrations from the application and the CLI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_engine

PROJECT_ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """``upgrade`` for callers already inside an event loop."""
    await _run_on_connection(database_url, lambda config: command.upgrade(config, revision))


async def downgrade_async(database_url: str, revision: str = "base") -> None:
    await _run_on_connection(database_url, lambda config: command.downgrade(config, revision))


async def _run_on_connection(database_url: str, action: Callable[[Config], None]) -> None:
    engine = create_engine(database_url)

    def run(connection: Connection) -> None:
        config = alembic_config(database_url)
        config.attributes["connection"] = connection
        action(config)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return frozenset(script.get_heads())


@dataclass(frozen=True, slots=True)
class MigrationState:
    current: frozenset[str]
    heads: frozenset[str]

    @property
    def at_head(self) -> bool:
        return self.current == self.heads

    def describe(self) -> str:
        if self.at_head:
            return "migrations at head"
        if not self.current:
            return "database has no migrations applied; run `adstudio migrate`"
        return (
            f"database at revision {', '.join(sorted(self.current))}, expected "
            f"{', '.join(sorted(self.heads))}; run `adstudio migrate`"
        )


def _current(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def migration_state(engine: AsyncEngine) -> MigrationState:
    async with engine.connect() as connection:
        current = await connection.run_sync(_current)
    return MigrationState(current=current, heads=head_revisions())
