"""The benchmark's database: a fresh PostgreSQL database or a SQLite file, migrated to head."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app import migrations
from app.settings import normalize_database_url

POSTGRES_ENV = "ADSTUDIO_TEST_POSTGRES_URL"


@dataclass(frozen=True, slots=True)
class Database:
    url: str  # SQLAlchemy async URL (sqlite+aiosqlite://, postgresql+asyncpg://...)

    @property
    def is_sqlite(self) -> bool:
        return make_url(self.url).get_backend_name() == "sqlite"

    @property
    def dialect(self) -> str:
        return "SQLite" if self.is_sqlite else "PostgreSQL"

    @property
    def driver_url(self) -> str:
        """The URL without the SQLAlchemy driver suffix (what asyncpg and libpq accept)."""
        url = make_url(self.url)
        return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)

    @property
    def sqlite_path(self) -> Path:
        return Path(make_url(self.url).database or "")


@contextmanager
def bench_database(explicit_url: str | None, scratch: Path) -> Iterator[Database]:
    """The database to measure, migrated to head.

    An explicit URL is used as it is (and kept afterwards). Otherwise a database of our own is
    created on the server in ``ADSTUDIO_TEST_POSTGRES_URL`` and dropped at the end, or, without
    that variable, a SQLite file in ``scratch``.
    """
    if explicit_url:
        database = Database(normalize_database_url(explicit_url))
        migrations.upgrade(database.url)
        yield database
        return
    admin_url = os.environ.get(POSTGRES_ENV)
    if admin_url:
        with _postgres_database(admin_url) as database:
            yield database
        return
    database = Database(f"sqlite+aiosqlite:///{(scratch / 'bench.db').as_posix()}")
    migrations.upgrade(database.url)
    yield database


@contextmanager
def _postgres_database(admin_url: str) -> Iterator[Database]:
    name = f"adstudio_bench_{os.getpid()}"
    admin = make_url(admin_url)
    libpq = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    _execute(libpq, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _execute(libpq, f'CREATE DATABASE "{name}"')
    try:
        url = admin.set(drivername="postgresql+asyncpg", database=name)
        database = Database(url.render_as_string(hide_password=False))
        migrations.upgrade(database.url)
        yield database
    finally:
        _execute(libpq, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _execute(libpq_url: str, statement: str) -> None:
    with psycopg.connect(libpq_url, autocommit=True) as connection:
        connection.execute(statement.encode())
