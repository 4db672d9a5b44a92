"""PostgreSQL's generic plans of the read path's statements read the composite indexes.

A prepared statement ends up on a generic plan, made without the parameters' values, so that
is the plan checked. The tables hold many workspaces, as a shared server does, and one batch
asks about a few parents, so reading a whole table is never the cheap way.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from app.id_lists import IdList
from app.ids import encode_global_id
from app.main import create_app
from app.models import Campaign, Client, Invitation, Membership
from app.pagination import Cursor, Direction, count_statement, page_statement
from app.services import stats
from app.services.listing import (
    ListSpec,
    OrderField,
    page_args,
)
from tests import databases
from tests.bulk_rows import Rows, Sizes, catalogue, copy_rows, workspace
from tests.conftest import lifespan, make_settings
from tests.graphql import register
from tests.listed import FILTERS, PAIRS, ordering_of, pair_id
from tests.plans import (
    captured,
    index_columns,
    nodes,
    plan_of,
    postgres_text,
    require_postgres,
    scanned_indexes,
    seq_scans,
)

WORKSPACES = 100
SIZES = Sizes(clients=20, campaigns=3, assets=4, jobs=1)
LISTED_TABLES = {"asset", "campaign", "client", "job", "generation"}
MODES = ("forward", "backward", "after a cursor", "before a cursor")


@dataclass(frozen=True, slots=True)
class Seeded:
    url: str
    parents: dict[str, list[uuid.UUID]]  # parent column -> a few of its ids


@pytest.fixture(scope="module")
def seeded(request: pytest.FixtureRequest) -> Iterator[Seeded]:
    """One database for the module: the plans only read, and the seeding takes seconds."""
    require_postgres()
    template = request.getfixturevalue("postgres_template")
    with databases.postgres_database(template=template) as url:
        rows = Rows()
        workspaces = [workspace(rows, f"tenant-{n}") for n in range(WORKSPACES)]
        for workspace_id in workspaces:
            catalogue(rows, workspace_id, SIZES)
        asyncio.run(_load(url, rows))
        clients = [row["id"] for row in rows.by_model[Client][:5]]
        campaigns = [row["id"] for row in rows.by_model[Campaign][:12]]
        parents = {"workspace_id": workspaces[:1], "client_id": clients, "campaign_id": campaigns}
        yield Seeded(url, parents)


async def _load(url: str, rows: Rows) -> None:
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(libpq)
    try:
        await copy_rows(connection, rows)
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


@pytest.fixture
async def connection(seeded: Seeded) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(seeded.url, poolclass=NullPool)
    try:
        async with engine.connect() as opened:
            yield opened
    finally:
        await engine.dispose()


def expected_index(model: type[Any], parent: str, order: OrderField) -> str:
    """The composite index a page in ``order`` reads: (parent, created_at, id) on every
    listed table, (parent, name, id) on clients and campaigns. No ordering by updated_at
    has one, nor assets by name: those read the parent's rows through another index on the
    parent and sort them."""
    column = order.value.removesuffix("_at")
    return f"ix_{model.__tablename__}_{parent.removesuffix('_id')}_{column}"


def reads_in_order(
    read: set[str], indexes: dict[str, tuple[str, ...]], wanted: str, parent: str
) -> bool:
    if wanted in indexes:
        return wanted in read
    return any(indexes[name][0] == parent for name in read)


def page_spec(
    model: type[Any], parent: str, order: OrderField, direction: Direction, mode: str
) -> ListSpec:
    cursor = None
    if mode.endswith("cursor"):
        value = (
            "Client 007"
            if order is OrderField.NAME
            else datetime(2026, 1, 5, tzinfo=UTC).isoformat()
        )
        cursor = Cursor(order.value, value, uuid.UUID(int=7)).encode()
    backward = mode.startswith("b")
    args = page_args(
        first=None if backward else 10,
        after=None if backward else cursor,
        last=10 if backward else None,
        before=cursor if backward else None,
        order=order,
        direction=direction,
    )
    return ListSpec(model, parent, order, args, FILTERS[model])


async def _page_problems(
    connection: AsyncConnection, seeded: Seeded, model: type[Any], parent: str, mode: str
) -> list[str]:
    indexes = await index_columns(connection)
    problems = []
    for order in ordering_of(model):
        for direction in Direction:
            spec = page_spec(model, parent, order, direction, mode)
            parents = IdList(seeded.parents[parent], "postgresql")
            statement = page_statement(
                model, spec.parent_column, parents, spec.args, spec.order_column, spec.conditions()
            )
            plan = await plan_of(connection, postgres_text(statement, connection))
            read, full = scanned_indexes(plan), seq_scans(plan) & LISTED_TABLES
            wanted = expected_index(model, parent, order)
            top_n = any(node["Node Type"] == "Limit" for node in nodes(plan))
            if full or not top_n or not reads_in_order(read, indexes, wanted, parent):
                problems.append(
                    f"{order} {direction}: read {sorted(read)}, seq scans {full}, top-N {top_n}"
                )
    return problems


class TestPagePlans:
    @pytest.mark.parametrize("mode", MODES)
    @pytest.mark.parametrize(("model", "parent"), PAIRS, ids=pair_id)
    async def test_read_each_parents_rows_from_the_parents_index(
        self, connection: AsyncConnection, seeded: Seeded, model: type[Any], parent: str, mode: str
    ) -> None:
        assert await _page_problems(connection, seeded, model, parent, mode) == []


class TestCountPlans:
    @pytest.mark.parametrize("filtered", [False, True], ids=["all", "filtered"])
    @pytest.mark.parametrize(("model", "parent"), PAIRS, ids=pair_id)
    async def test_count_from_the_parents_index(
        self,
        connection: AsyncConnection,
        seeded: Seeded,
        model: type[Any],
        parent: str,
        filtered: bool,
    ) -> None:
        conditions = FILTERS[model].conditions() if filtered else []
        parents = IdList(seeded.parents[parent], "postgresql")
        statement = count_statement(getattr(model, parent), parents, conditions)
        plan = await plan_of(connection, postgres_text(statement, connection))
        indexes = await index_columns(connection)
        assert seq_scans(plan) & LISTED_TABLES == set()
        # any index on the parent will do (a count reads no order): the smallest wins
        assert {indexes[name][0] for name in scanned_indexes(plan)} == {parent}


class TestStatsPlans:
    @pytest.mark.parametrize(
        ("read", "parent", "owners"),
        [
            (stats.client_stats, "client_id", "pk_client"),
            (stats.campaign_stats, "campaign_id", "pk_campaign"),
        ],
        ids=["client", "campaign"],
    )
    async def test_aggregate_each_owners_rows_from_indexes(
        self, connection: AsyncConnection, seeded: Seeded, read: Any, parent: str, owners: str
    ) -> None:
        ids = seeded.parents[parent]
        with captured([connection.sync_engine]) as seen:
            found = await read(AsyncSession(bind=connection), ids)
        assert set(found) == set(ids)
        [sql] = seen.statements
        plan = await plan_of(connection, sql)
        indexes = await index_columns(connection)
        assert seq_scans(plan) == set()
        read_indexes = scanned_indexes(plan)
        assert owners in read_indexes
        assert {indexes[name][0] for name in read_indexes - {owners}} <= {parent, "job_id"}


class TestIndexes:
    @pytest.mark.parametrize(
        ("model", "parent"),
        [*PAIRS, (Membership, "workspace_id"), (Invitation, "workspace_id")],
        ids=pair_id,
    )
    async def test_every_listed_parent_has_a_parent_created_at_id_index(
        self, connection: AsyncConnection, model: type[Any], parent: str
    ) -> None:
        indexes = await index_columns(connection)
        name = expected_index(model, parent, OrderField.CREATED_AT)
        assert indexes[name] == (parent, "created_at", "id")

    @pytest.mark.parametrize(
        ("model", "parent"),
        [(Client, "workspace_id"), (Campaign, "client_id")],
        ids=["Client", "Campaign"],
    )
    async def test_clients_and_campaigns_have_a_parent_name_id_index(
        self, connection: AsyncConnection, model: type[Any], parent: str
    ) -> None:
        indexes = await index_columns(connection)
        assert indexes[expected_index(model, parent, OrderField.NAME)] == (parent, "name", "id")


COMPILED_DASHBOARD = """
query($w: ID!) { node(id: $w) { ... on Workspace {
  clients(first: 20) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name createdAt stats { campaignCount videoCount totalSpend { amount } }
      campaigns(first: 10) {
        totalCount
        edges { cursor node {
          id name status stats { videoCount totalSpend { amount } averageCost { amount } }
          assets(first: 5) { totalCount pageInfo { hasNextPage } nodes { id name uploadedAt } }
        } }
      }
    } }
  }
} } }
"""
COMPILED_PAGES = {"client": "workspace_id", "campaign": "client_id", "asset": "campaign_id"}
STATS_TABLES = {"job", "cost_entry"}


class TestCompiledPlans:
    async def test_the_compiled_dashboard_reads_pages_and_stats_through_indexes(
        self, connection: AsyncConnection, seeded: Seeded, tmp_path: Path
    ) -> None:
        """The one statement of a compiled dashboard, on its generic plan: each list reads its
        parent's rows through an index led by the parent (the planner may prefer a few rows
        sorted to an ordered scan), as a top-N, and no list or stats table is read whole."""
        application = create_app(make_settings(seeded.url, tmp_path))
        async with lifespan(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                reader = await register(http)
                engines = [engine.sync_engine for engine in application.state.runtime.engines]
                workspace_id = encode_global_id("Workspace", seeded.parents["workspace_id"][0])
                with captured(engines) as seen:
                    answer = await reader.gql(COMPILED_DASHBOARD, {"w": workspace_id})
        assert answer.code == "NOT_FOUND", seen.statements  # not a member: the same statement
        [sql] = seen.reading("client")
        assert sql.startswith("SELECT CAST(")
        plan = await plan_of(connection, sql)
        assert seq_scans(plan) & (LISTED_TABLES | STATS_TABLES) == set()
        indexes = await index_columns(connection)
        read = scanned_indexes(plan)
        for table, parent in COMPILED_PAGES.items():
            led = [name for name in read if name.startswith(f"ix_{table}_")]
            assert any(indexes[name][0] == parent for name in led), (table, sorted(read))
        limits = [node for node in nodes(plan) if node["Node Type"] == "Limit"]
        assert len(limits) >= len(COMPILED_PAGES)  # each page is a top-N
