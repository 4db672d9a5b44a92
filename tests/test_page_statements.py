"""A page's two statements, PostgreSQL's LATERAL top-N and the correlated top-N SQLite runs,
return the same rows in the same order, whatever the page asks.

Both run on one PostgreSQL database, for many parents at once, for every listed table and
parent, ordering, direction, cursor position and filter, with ties on the ordered column
that only the id breaks.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.id_lists import IdList
from app.pagination import Cursor, Direction, page_statement
from app.services.listing import ListSpec, NoFilter, OrderField, page_args
from tests import databases
from tests.bulk_rows import Rows, Sizes, catalogue, copy_rows, workspace
from tests.listed import FILTERS, PAIRS, ordering_of, pair_id
from tests.plans import require_postgres

SIZES = Sizes(clients=3, campaigns=3, assets=7, jobs=3)
PAGE = 3


class NotArray(IdList):
    """The same batch as SQLite gets it: an IN list, so ``page_statement`` takes its
    correlated form."""

    @property
    def is_array(self) -> bool:
        return False


@pytest.fixture(scope="module")
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """One database for the module: the pages only read it."""
    require_postgres()
    template = request.getfixturevalue("postgres_template")
    with databases.postgres_database(template=template) as url:
        asyncio.run(_load(url))
        yield url


async def _load(url: str) -> None:
    rows = Rows()
    for name in ("tenant-a", "tenant-b"):
        catalogue(rows, workspace(rows, name), SIZES)
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(libpq)
    try:
        await copy_rows(connection, rows)
        for table in ("client", "campaign", "asset", "generation", "job"):  # ties, by the minute
            await connection.execute(
                f"UPDATE {table} SET created_at = date_trunc('minute', created_at),"
                " updated_at = date_trunc('minute', updated_at)"
            )
    finally:
        await connection.close()


@pytest.fixture
async def session(database: str) -> AsyncIterator[AsyncSession]:
    engine = create_async_engine(database, poolclass=NullPool)
    try:
        async with AsyncSession(engine) as opened:
            yield opened
    finally:
        await engine.dispose()


def _cursor_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


async def _both(session: AsyncSession, spec: ListSpec, parents: list[uuid.UUID]) -> list[Any]:
    """Each form's rows as (parent, id) pairs, in the order the statement returns them."""
    found = []
    for batch in (IdList(parents, "postgresql"), NotArray(parents, "postgresql")):
        statement = page_statement(
            spec.model, spec.parent_column, batch, spec.args, spec.order_column, spec.conditions()
        )
        rows = (await session.execute(statement)).scalars().all()
        found.append([(getattr(row, spec.parent), row.id) for row in rows])
    return found


async def _cursors(session: AsyncSession, model: type[Any], order: OrderField) -> list[str]:
    """Cursors at a few rows of the table (first, middle, last by the ordered column)."""
    column = getattr(model, order.value)
    rows = (await session.execute(sa.select(column, model.id).order_by(column, model.id))).all()
    picked = [rows[0], rows[len(rows) // 2], rows[-1]]
    return [Cursor(order.value, _cursor_value(value), row_id).encode() for value, row_id in picked]


def _page_arguments(cursors: list[str]) -> list[dict[str, Any]]:
    forward = [{"first": PAGE, "after": cursor} for cursor in [None, *cursors]]
    backward = [{"last": PAGE, "before": cursor} for cursor in [None, *cursors]]
    return [*forward, *backward, {"first": 0}, {"last": 100}]


class TestLateralAndCorrelatedPages:
    @pytest.mark.parametrize("filtered", [False, True], ids=["unfiltered", "filtered"])
    @pytest.mark.parametrize(("model", "parent"), PAIRS, ids=pair_id)
    async def test_return_the_same_rows_in_the_same_order(
        self, session: AsyncSession, model: type[Any], parent: str, filtered: bool
    ) -> None:
        column = getattr(model, parent)
        parents = list((await session.execute(sa.select(column).distinct())).scalars())
        parents.append(uuid.uuid4())  # a parent with no rows
        checked = 0
        for order in ordering_of(model):
            for arguments in _page_arguments(await _cursors(session, model, order)):
                for direction in Direction:
                    pages = page_args(
                        first=arguments.get("first"), after=arguments.get("after"),
                        last=arguments.get("last"), before=arguments.get("before"),
                        order=order, direction=direction,
                    )  # fmt: skip
                    list_filter = FILTERS[model] if filtered else NoFilter()
                    spec = ListSpec(model, parent, order, pages, list_filter)
                    lateral, correlated = await _both(session, spec, parents)
                    assert lateral == correlated, (order, direction, arguments)
                    checked += bool(lateral)
        assert checked > 0  # the comparison saw rows, not only empty pages
