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
