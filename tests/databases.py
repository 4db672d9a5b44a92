"""Fresh databases for tests: a migrated template per dialect, copied for every test."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from app import migrations
from tests import workers

POSTGRES_ENV = "ADSTUDIO_TEST_POSTGRES_URL"
REDIS_ENV = "ADSTUDIO_TEST_REDIS_URL"
_counter = itertools.count()


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


def redis_url() -> str | None:
    """The configured Redis, on a database of this worker's own."""
    url = os.environ.get(REDIS_ENV) or None
    return workers.redis_url(url) if url else None


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def postgres_url_for(database: str) -> str:
    admin = postgres_admin_url()
    assert admin is not None
    url = make_url(admin).set(drivername="postgresql+asyncpg", database=database)
    return url.render_as_string(hide_password=False)


def _admin_execute(*statements: str) -> None:
    admin = postgres_admin_url()
    assert admin is not None
    with psycopg.connect(_libpq(admin), autocommit=True) as connection:
        for statement in statements:
            connection.execute(statement.encode())


def unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{next(_counter)}"


@contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A new PostgreSQL database (optionally cloned from ``template``), dropped afterwards."""
    name = unique_name("adstudio_test")
    clause = f" TEMPLATE {template}" if template else ""
    _admin_execute(f'CREATE DATABASE "{name}"{clause}')
    try:
        yield postgres_url_for(name)
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_template() -> Iterator[str]:
    """A migrated database used only as a template for per-test copies."""
    name = unique_name("adstudio_template")
    _admin_execute(f'CREATE DATABASE "{name}"')
    try:
        migrations.upgrade(postgres_url_for(name))
        yield name
    finally:
        _admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.as_posix()}"


def sqlite_template(directory: Path) -> Path:
    path = directory / "template.db"
    migrations.upgrade(sqlite_url(path))
    return path


def sqlite_copy(template: Path, directory: Path) -> str:
    target = directory / "adstudio.db"
    shutil.copyfile(template, target)
    return sqlite_url(target)


def blocking_url(url: str) -> str:
    """``url`` with a blocking driver (sqlite3, psycopg), for tests that reach in from outside."""
    parsed = make_url(url)
    driver = "sqlite" if parsed.get_backend_name() == "sqlite" else "postgresql+psycopg"
    return parsed.set(drivername=driver).render_as_string(hide_password=False)
