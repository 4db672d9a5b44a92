"""The request session: concurrent awaits queue, and every way of reading returns."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.db import SerializedSession
from app.models import Workspace
from tests.graphql import Account

RETURNS_WITHIN = 10.0


class TestSerializedSession:
    async def test_every_read_returns_even_when_awaited_together(
        self, owner: Account, db: AsyncSession
    ) -> None:
        assert isinstance(db, SerializedSession)
        statement = sa.select(Workspace)
        rows, one, result = await asyncio.wait_for(
            asyncio.gather(
                db.scalars(statement),
                db.scalar(sa.select(sa.func.count(col(Workspace.id)))),
                db.execute(statement),
            ),
            RETURNS_WITHIN,
        )
        assert len(list(rows)) == one == len(list(result.scalars())) == 1

    async def test_a_caller_cancelled_mid_statement_leaves_the_session_usable(
        self, owner: Account, db: AsyncSession, database_url: str
    ) -> None:
        """GraphQL cancels the siblings of a field whose error nulls their parent: the
        statement a cancelled sibling was running finishes, and the next one works."""
        slow = (
            sa.text("SELECT pg_sleep(0.3)")
            if database_url.startswith("postgresql")
            else sa.text(  # a few hundred milliseconds of work on SQLite
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000)"
                " SELECT count(*) FROM n"
            )
        )
        caller = asyncio.ensure_future(db.execute(slow))
        await asyncio.sleep(0.05)  # the statement is running
        caller.cancel()
        done, _ = await asyncio.wait({caller}, timeout=RETURNS_WITHIN)
        assert done
        assert caller.cancelled()
        after = await asyncio.wait_for(
            db.scalar(sa.select(sa.func.count(col(Workspace.id)))), RETURNS_WITHIN
        )
        assert after == 1
