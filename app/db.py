"""Database engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg or psycopg)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 30_000
POOL_RECYCLE_SECONDS = 30 * 60  # ahead of server and proxy idle timeouts


@dataclass(frozen=True, slots=True)
class PoolBudget:
    """How many PostgreSQL connections one engine may hold (SQLite files ignore it)."""

    size: int = 4
    overflow: int = 1
    timeout_seconds: float = 30.0


def create_engine(
    database_url: str,
    *,
    echo: bool = False,
    writer: bool = True,
    pool: PoolBudget | None = None,
) -> AsyncEngine:
    """An async engine; SQLite files get their directory created and pragmas (FKs, WAL) set.

    On SQLite a writer engine starts every transaction with ``BEGIN IMMEDIATE``; a reader
    engine (``writer=False``) with a plain ``BEGIN``, so reads never wait for the write lock.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, echo=echo, writer=writer)
    budget = pool or PoolBudget()
    asyncpg = url.get_driver_name() == "asyncpg"
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        # asyncpg notices a closed connection while it idles in the pool (see
        # ``_refuse_closed``), so a checkout costs no round trip; other drivers ping.
        pool_pre_ping=not asyncpg,
        pool_recycle=POOL_RECYCLE_SECONDS,
        pool_size=budget.size,
        max_overflow=budget.overflow,
        pool_timeout=budget.timeout_seconds,
    )
    if asyncpg:
        event.listen(engine.sync_engine, "checkout", _refuse_closed)
    return engine


def _refuse_closed(dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: Any) -> None:
    """A pooled connection whose server ended it is replaced before anyone uses it.

    asyncpg reads its socket all the time, so when PostgreSQL terminates a backend (a
    restart, ``pg_terminate_backend``, an idle timeout) the connection is already marked
    closed when it is checked out. Raising DisconnectionError makes the pool discard it and
    connect afresh, with no ping round trip on the healthy path.
    """
    connection = getattr(dbapi_connection, "_connection", None)
    if connection is not None and connection.is_closed():
        raise DisconnectionError("the server closed this pooled connection")


def _sqlite_engine(url: URL, *, echo: bool, writer: bool) -> AsyncEngine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        from pathlib import Path

        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine.sync_engine, "connect", _sqlite_on_connect)
    event.listen(engine.sync_engine, "begin", _sqlite_begin_immediate if writer else _sqlite_begin)
    return engine


def _sqlite_on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy emit BEGIN itself so transactions and SAVEPOINTs behave (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL" for pysqlite/aiosqlite).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # IMMEDIATE takes the write lock up front, so two writers queue on busy_timeout instead of
    # failing with "database is locked" when a read transaction upgrades to a write.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


class SerializedSession(AsyncSession):
    """An AsyncSession whose operations queue instead of overlapping, and always finish.

    GraphQL resolves sibling fields concurrently and each DataLoader dispatches its batch in
    the same loop tick, so one request's session sees concurrent awaits; SQLAlchemy forbids
    that. A lock per session lines them up, in the one transaction of the request.

    GraphQL also cancels the siblings of a field whose error nulls their parent. A statement
    cancelled while the database runs it leaves the connection unusable, and every later
    statement of the request would fail; so each operation runs to its end in a task of its
    own, and only the caller's wait is cancelled.

    ``scalars`` is AsyncSession's own: it calls ``execute``, which queues (holding the lock
    around it too would wait for itself forever).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = asyncio.Lock()

    async def _queued(self, operation: Callable[[], Awaitable[T]]) -> T:
        async def locked() -> T:
            async with self._lock:
                return await operation()

        task = asyncio.ensure_future(locked())
        task.add_done_callback(_retrieved)
        return await asyncio.shield(task)

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        return await self._queued(lambda: super(SerializedSession, self).execute(*args, **kwargs))

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        return await self._queued(lambda: super(SerializedSession, self).scalar(*args, **kwargs))

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        return await self._queued(lambda: super(SerializedSession, self).get(*args, **kwargs))

    async def flush(self, *args: Any, **kwargs: Any) -> None:
        await self._queued(lambda: super(SerializedSession, self).flush(*args, **kwargs))

    async def delete(self, instance: object) -> None:
        await self._queued(lambda: super(SerializedSession, self).delete(instance))

    async def commit(self) -> None:
        await self._queued(super().commit)

    async def rollback(self) -> None:
        await self._queued(super().rollback)

    async def close(self) -> None:
        await self._queued(super().close)


def _retrieved(task: asyncio.Future[Any]) -> None:
    """Mark the outcome of an operation whose caller stopped waiting as seen."""
    if not task.cancelled():
        task.exception()


def create_sessionmaker(
    engine: AsyncEngine, info: dict[str, Any] | None = None
) -> async_sessionmaker[AsyncSession]:
    """Sessions copy ``info`` (e.g. the event hub their commits announce to)."""
    return async_sessionmaker(
        engine, class_=SerializedSession, expire_on_commit=False, autoflush=False, info=info or {}
    )


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database cannot be reached."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def describe_url(database_url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return make_url(database_url).render_as_string(hide_password=True)
