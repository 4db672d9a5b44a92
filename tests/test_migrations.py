"""Migrations: an empty database of each dialect goes to head, matches the models, and back."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table)
from app import migrations
from app.db import create_engine


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
