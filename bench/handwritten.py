"""The baseline: the dashboard as a hand-written Starlette route, four SQL statements, orjson.

It answers ``POST /graphql`` with exactly the JSON the GraphQL server returns for the dashboard
query (same keys, global IDs, cursors and money strings), reading only the variables; without
an ``assets`` variable it answers the query without assets, in three statements. It does
not authenticate: the bearer token is ignored. Run it with
``python -m bench.handwritten --database-url URL --port P``.
"""

from __future__ import annotations

import argparse
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app.ids import encode_global_id, expect_global_id
from app.models.enums import AssetKind, AssetStatus, CampaignStatus, CostKind, JobStatus
from app.pagination import Cursor
from app.services.stats import ZERO, to_money
from bench.rows import Rows, open_rows

ORDER_FIELD = "created_at"
CURRENCY = "USD"

# ---- SQL ---------------------------------------------------------------------------------------
# In the templates {p1} and {p2} are positional parameters; {clients_in}, {campaigns_in}, ... test
# a column against a list bound as one parameter (an array on PostgreSQL, a JSON array on
# SQLite), so the SQL text stays the same whatever the page sizes.

CLIENTS_SQL = """
SELECT id, name, description, created_at, count(*) OVER () AS total
FROM client WHERE workspace_id = {p1}
ORDER BY created_at DESC, id DESC LIMIT {p2}
"""

CAMPAIGNS_SQL = """
SELECT id, client_id, name, goal, status, created_at, total FROM (
  SELECT id, client_id, name, goal, status, created_at,
         row_number() OVER (PARTITION BY client_id ORDER BY created_at DESC, id DESC) AS page_rank,
         count(*) OVER (PARTITION BY client_id) AS total
  FROM campaign WHERE {clients_in}
) AS page WHERE page_rank <= {p2} ORDER BY client_id, page_rank
"""

# Every campaign's asset page: the columns the query selects, newest first like the API, and
# READY assets only, as the API lists them by default.
ASSETS_SQL = """
SELECT id, campaign_id, name, kind, status, width, height, created_at, total FROM (
  SELECT id, campaign_id, name, kind, status, width, height, created_at,
         row_number() OVER (PARTITION BY campaign_id ORDER BY created_at DESC, id DESC)
           AS page_rank,
         count(*) OVER (PARTITION BY campaign_id) AS total
  FROM asset WHERE {asset_campaigns_in} AND status = 'ready'
) AS page WHERE page_rank <= {p2} ORDER BY campaign_id, page_rank
"""

# One row per (kind, client, campaign): completed jobs, actual spend, and the actual spend of
# completed jobs. Attribution follows the application: by each row's own client/campaign ids.
STATS_SQL = """
SELECT 'jobs', client_id, campaign_id, count(*) FROM job
WHERE ({clients_in} OR {campaigns_in}) AND status = '{completed}'
GROUP BY client_id, campaign_id
UNION ALL
SELECT 'spend', client_id, campaign_id, sum(amount) FROM cost_entry
WHERE ({clients_in} OR {campaigns_in}) AND kind = '{actual}'
GROUP BY client_id, campaign_id
UNION ALL
SELECT 'done', job.client_id, job.campaign_id, sum(cost_entry.amount)
FROM cost_entry JOIN job ON job.id = cost_entry.job_id
WHERE {job_campaigns_in} AND job.status = '{completed}' AND cost_entry.kind = '{actual}'
GROUP BY job.client_id, job.campaign_id
"""


class Dialect:
    """Parameters and value conversions for asyncpg (``$n``) and SQLite (``?n``)."""

    def __init__(self, name: str) -> None:
        self.postgres = name == "postgresql"

    def param(self, position: int) -> str:
        return f"${position}" if self.postgres else f"?{position}"

    def member(self, column: str, position: int) -> str:
        if self.postgres:
            return f"{column} = ANY(${position}::uuid[])"
        return f"{column} IN (SELECT value FROM json_each(?{position}))"  # noqa: S608

    def uuid_value(self, value: uuid.UUID) -> Any:
        return value if self.postgres else value.hex

    def uuid_list(self, values: list[uuid.UUID]) -> Any:
        return values if self.postgres else orjson.dumps([v.hex for v in values]).decode()

    def to_uuid(self, value: Any) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value)

    def to_datetime(self, value: Any) -> datetime:
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        # SQLite keeps UTC timestamps as naive ISO text; PostgreSQL returns aware ones.
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    def sql(self, template: str) -> str:
        return template.format(
            p1=self.param(1),
            p2=self.param(2),
            clients_in=self.member("client_id", 1),
            campaigns_in=self.member("campaign_id", 2),
            job_campaigns_in=self.member("job.campaign_id", 2),
            asset_campaigns_in=self.member("campaign_id", 1),
            completed=JobStatus.COMPLETED.value,
            actual=CostKind.ACTUAL.value,
        )


# ---- the dashboard -----------------------------------------------------------------------------


def _money(amount: Decimal) -> dict[str, Any]:
    return {"amount": str(amount), "currency": CURRENCY}


@dataclass(frozen=True, slots=True)
class Sizes:
    """Page sizes from the request's variables."""

    clients: int
    campaigns: int
    assets: int | None  # None: the query does not list assets


@dataclass
class Pages:
    """Rows read for many parents' pages (each with one look-ahead row) and their totals."""

    size: int
    rows: dict[uuid.UUID, list[Sequence[Any]]] = field(default_factory=lambda: defaultdict(list))
    totals: dict[uuid.UUID, int] = field(default_factory=dict)

    @classmethod
    def of(cls, d: Dialect, size: int, found: list[Sequence[Any]]) -> Pages:
        """Rows whose second column is the parent's id and last column the parent's total."""
        pages = cls(size)
        for row in found:
            parent = d.to_uuid(row[1])
            pages.rows[parent].append(row)
            pages.totals[parent] = int(row[-1])
        return pages

    def page(self, parent: uuid.UUID) -> list[Sequence[Any]]:
        return self.rows[parent][: self.size]

    def connection(self, parent: uuid.UUID, edges: list[dict[str, Any]]) -> dict[str, Any]:
        has_next = len(self.rows[parent]) > self.size
        return _connection(edges, has_next, self.totals.get(parent, 0))


def _connection(edges: list[dict[str, Any]], has_next: bool, total: int) -> dict[str, Any]:
    end_cursor = edges[-1]["cursor"] if edges else None
    return {
        "totalCount": total,
        "pageInfo": {"hasNextPage": has_next, "endCursor": end_cursor},
        "edges": edges,
    }


async def build_dashboard(rows: Rows, workspace_id: uuid.UUID, sizes: Sizes) -> dict[str, Any]:
    d = Dialect(rows.dialect)
    client_rows = await rows.fetch(
        d.sql(CLIENTS_SQL), [d.uuid_value(workspace_id), sizes.clients + 1]
    )
    client_total = int(client_rows[0][4]) if client_rows else 0
    client_has_next = len(client_rows) > sizes.clients
    client_rows = client_rows[: sizes.clients]
    client_ids = [d.to_uuid(r[0]) for r in client_rows]

    campaigns = Pages(sizes.campaigns)
    if client_ids:
        params = [d.uuid_list(client_ids), sizes.campaigns + 1]
        campaigns = Pages.of(d, sizes.campaigns, await rows.fetch(d.sql(CAMPAIGNS_SQL), params))
    campaign_ids = [d.to_uuid(r[0]) for c in client_ids for r in campaigns.page(c)]
    stats = await _stats(rows, d, client_ids, campaign_ids)
    assets = None
    if sizes.assets is not None:
        assets = Pages(sizes.assets)
        if campaign_ids:
            params = [d.uuid_list(campaign_ids), sizes.assets + 1]
            assets = Pages.of(d, sizes.assets, await rows.fetch(d.sql(ASSETS_SQL), params))

    client_edges = []
    for row, client_id in zip(client_rows, client_ids, strict=True):
        campaign_edges = [_campaign_edge(d, r, stats, assets) for r in campaigns.page(client_id)]
        created_at = d.to_datetime(row[3])
        node = {
            "id": encode_global_id("Client", client_id),
            "name": row[1],
            "description": row[2],
            "createdAt": created_at.isoformat(),
            "stats": {
                "campaignCount": campaigns.totals.get(client_id, 0),
                "videoCount": stats.client_videos.get(client_id, 0),
                "totalSpend": _money(to_money(stats.client_spend.get(client_id))),
            },
            "campaigns": campaigns.connection(client_id, campaign_edges),
        }
        cursor = Cursor(ORDER_FIELD, created_at, client_id).encode()
        client_edges.append({"cursor": cursor, "node": node})
    workspace = {
        "id": encode_global_id("Workspace", workspace_id),
        "clients": _connection(client_edges, client_has_next, client_total),
    }
    return {"data": {"node": workspace}}


def _campaign_edge(
    d: Dialect, row: Sequence[Any], stats: Stats, assets: Pages | None
) -> dict[str, Any]:
    campaign_id = d.to_uuid(row[0])
    created_at = d.to_datetime(row[5])
    videos = stats.campaign_videos.get(campaign_id, 0)
    completed = to_money(stats.campaign_completed_spend.get(campaign_id))
    average = completed / videos if videos else ZERO
    node: dict[str, Any] = {
        "id": encode_global_id("Campaign", campaign_id),
        "name": row[2],
        "goal": row[3],
        "status": CampaignStatus(row[4]).name,
        "createdAt": created_at.isoformat(),
        "stats": {
            "videoCount": videos,
            "totalSpend": _money(to_money(stats.campaign_spend.get(campaign_id))),
            "averageCost": _money(to_money(average)),
        },
    }
    if assets is not None:
        asset_edges = [_asset_edge(d, r) for r in assets.page(campaign_id)]
        node["assets"] = assets.connection(campaign_id, asset_edges)
    return {"cursor": Cursor(ORDER_FIELD, created_at, campaign_id).encode(), "node": node}


def _asset_edge(d: Dialect, row: Sequence[Any]) -> dict[str, Any]:
    asset_id = d.to_uuid(row[0])
    kind = AssetKind(row[3])
    created_at = d.to_datetime(row[7])
    node = {
        "id": encode_global_id("Asset", asset_id),
        "name": row[2],
        "kind": kind.name,
        "status": AssetStatus(row[4]).name,
        "uploadedAt": created_at.isoformat(),
    }
    if kind is AssetKind.IMAGE:  # ... on ImageAsset { width height }
        node["width"], node["height"] = row[5], row[6]
    return {"cursor": Cursor(ORDER_FIELD, created_at, asset_id).encode(), "node": node}


@dataclass
class Stats:
    client_videos: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    client_spend: dict[uuid.UUID, Any] = field(default_factory=dict)
    campaign_videos: dict[uuid.UUID, int] = field(default_factory=lambda: defaultdict(int))
    campaign_spend: dict[uuid.UUID, Any] = field(default_factory=dict)
    campaign_completed_spend: dict[uuid.UUID, Any] = field(default_factory=dict)


def _add(totals: dict[uuid.UUID, Any], key: uuid.UUID, value: Any) -> None:
    totals[key] = value if key not in totals else totals[key] + value


async def _stats(
    rows: Rows, d: Dialect, client_ids: list[uuid.UUID], campaign_ids: list[uuid.UUID]
) -> Stats:
    stats = Stats()
    if not client_ids:
        return stats
    params = [d.uuid_list(client_ids), d.uuid_list(campaign_ids)]
    for kind, client, campaign, value in await rows.fetch(d.sql(STATS_SQL), params):
        client_id = d.to_uuid(client) if client is not None else None
        campaign_id = d.to_uuid(campaign) if campaign is not None else None
        if kind == "jobs":
            if client_id is not None:
                stats.client_videos[client_id] += int(value)
            if campaign_id is not None:
                stats.campaign_videos[campaign_id] += int(value)
        elif kind == "spend":
            if client_id is not None:
                _add(stats.client_spend, client_id, value)
            if campaign_id is not None:
                _add(stats.campaign_spend, campaign_id, value)
        elif campaign_id is not None:
            _add(stats.campaign_completed_spend, campaign_id, value)
    return stats


# ---- the server --------------------------------------------------------------------------------


def create_app(database_url: str) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.rows = await open_rows(database_url)
        try:
            yield
        finally:
            await app.state.rows.close()

    async def dashboard(request: Request) -> Response:
        variables = orjson.loads(await request.body())["variables"]
        workspace_id = expect_global_id(variables["id"], "Workspace")
        assets = variables.get("assets")
        sizes = Sizes(
            int(variables["clients"]),
            int(variables["campaigns"]),
            int(assets) if assets is not None else None,
        )
        result = await build_dashboard(request.app.state.rows, workspace_id, sizes)
        return Response(orjson.dumps(result), media_type="application/json")

    async def healthz(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    routes = [
        Route("/graphql", dashboard, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the hand-written dashboard baseline.")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args()
    uvicorn.run(create_app(args.database_url), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
