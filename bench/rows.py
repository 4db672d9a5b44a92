"""Raw database access for the baseline: small pools that run one statement, return tuples."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiosqlite
import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

SQLITE_POOL_SIZE = 5
POSTGRES_POOL_SIZE = 10


class Rows(Protocol):
    """The little a route needs from a database: run one statement, get tuples back."""

    dialect: str
    statements: int

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]: ...

    async def close(self) -> None: ...


@dataclass
class PostgresRows:
    pool: Any
    dialect: str = "postgresql"
    statements: int = 0

    @classmethod
    async def open(cls, dsn: str) -> PostgresRows:
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=POSTGRES_POOL_SIZE)
        return cls(pool)

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        self.statements += 1
        return list(await self.pool.fetch(sql, *params))

    async def close(self) -> None:
        await self.pool.close()


@dataclass
class SqliteRows:
    """A small pool of autocommit aiosqlite connections."""

    idle: asyncio.Queue[aiosqlite.Connection]
    every: list[aiosqlite.Connection] = field(default_factory=list)
    dialect: str = "sqlite"
    statements: int = 0

    @classmethod
    async def open(cls, path: str) -> SqliteRows:
        rows = cls(asyncio.Queue())
        for _ in range(SQLITE_POOL_SIZE):
            connection = await aiosqlite.connect(path, isolation_level=None)
            rows.every.append(connection)
            rows.idle.put_nowait(connection)
        return rows

    async def fetch(self, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        self.statements += 1
        connection = await self.idle.get()
        try:
            return list(await connection.execute_fetchall(sql, params))
        finally:
            self.idle.put_nowait(connection)

    async def close(self) -> None:
        for connection in self.every:
            await connection.close()


async def open_rows(database_url: str) -> Rows:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return await SqliteRows.open(url.database or "")
    return await PostgresRows.open(
        url.set(drivername="postgresql").render_as_string(hide_password=False)
    )
