"""Migrations: an empty database of each dialect goes to head, matches the models, and back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table)
from app import migrations
from app.db import create_engine

USER_ID = uuid.UUID(int=1)
KEY_ID = uuid.UUID(int=2)
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _stamps() -> tuple[sa.ColumnClause[Any], ...]:
    return (sa.column("created_at", sa.DateTime(True)), sa.column("updated_at", sa.DateTime(True)))


USERS = sa.table(
    "user_account",
    sa.column("id", sa.Uuid()),
    *(sa.column(name) for name in ("email", "name", "password_hash", "is_active")),
    *_stamps(),
)
KEYS_0002 = sa.table(
    "api_key",
    sa.column("id", sa.Uuid()),
    sa.column("user_id", sa.Uuid()),
    *(sa.column(name) for name in ("name", "prefix", "secret_hash")),
    *_stamps(),
)


def _user() -> dict[str, Any]:
    return {
        "id": USER_ID,
        "email": "a@example.com",
        "name": "A",
        "password_hash": "x",
        "is_active": True,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _key() -> dict[str, Any]:
    return {
        "id": KEY_ID,
        "user_id": USER_ID,
        "name": "CI",
        "prefix": "ak_x",
        "secret_hash": "h",
        "created_at": NOW,
        "updated_at": NOW,
    }


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, SQLModel.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def _inspect(url: str) -> tuple[set[str], list[Any]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            tables = await connection.run_sync(_tables)
            diff = await connection.run_sync(_diff)
    finally:
        await engine.dispose()
    return tables, diff


class TestMigrations:
    async def test_upgrade_creates_every_table_and_matches_the_models(
        self, empty_database_url: str
    ) -> None:
        await migrations.upgrade_async(empty_database_url)
        tables, diff = await _inspect(empty_database_url)
        assert tables == set(SQLModel.metadata.tables)
        assert diff == []

    async def test_downgrade_to_base_and_upgrade_again(self, empty_database_url: str) -> None:
        await migrations.upgrade_async(empty_database_url)
        await migrations.downgrade_async(empty_database_url, "base")
        tables, _ = await _inspect(empty_database_url)
        assert tables == set()
        await migrations.upgrade_async(empty_database_url)
        tables, diff = await _inspect(empty_database_url)
        assert tables == set(SQLModel.metadata.tables)
        assert diff == []

    async def test_state_reports_head_only_after_upgrade(self, empty_database_url: str) -> None:
        engine = create_engine(empty_database_url)
        try:
            before = await migrations.migration_state(engine)
            await migrations.upgrade_async(empty_database_url)
            after = await migrations.migration_state(engine)
        finally:
            await engine.dispose()
        assert not before.at_head
        assert "no migrations applied" in before.describe()
        assert after.at_head
        assert after.current == migrations.head_revisions()


class TestApiKeyScopeMigration:
    async def test_existing_keys_keep_full_rights_and_the_scope_is_checked(
        self, empty_database_url: str
    ) -> None:
        await migrations.upgrade_async(empty_database_url, "0002")
        engine = create_engine(empty_database_url)
        try:
            async with engine.begin() as connection:
                await connection.execute(sa.insert(USERS), [_user()])
                await connection.execute(sa.insert(KEYS_0002), [_key()])
            await migrations.upgrade_async(empty_database_url)
            async with engine.begin() as connection:
                scope = await connection.scalar(text("SELECT scope FROM api_key"))
            assert scope == "full"
            with pytest.raises(IntegrityError):
                async with engine.begin() as connection:
                    await connection.execute(text("UPDATE api_key SET scope = 'admin'"))
        finally:
            await engine.dispose()
