"""No N+1: a page of 20 clients x 10 campaigns with stats costs what 2 x 2 costs."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from app.ids import decode_global_id
from app.models import Campaign, Client
from tests.conftest import StatementCounter
from tests.graphql import Account

DASHBOARD = """
query($w: ID!, $clients: Int!, $campaigns: Int!) {
  node(id: $w) { ... on Workspace {
    name
    clients(first: $clients) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges { cursor node {
        id name createdAt
        stats { campaignCount videoCount totalSpend { amount currency } }
        workspace { id }
        campaigns(first: $campaigns) {
          totalCount
          edges { node {
            id name status
            stats { videoCount totalSpend { amount } averageCost { amount } }
            client { id }
          } }
        }
      } }
    }
  } }
}
"""


async def _seed(db: AsyncSession, owner: Account, clients: int, campaigns: int) -> None:
    workspace_id = decode_global_id(owner.workspace_id).id
    rows = [
        Client(id=uuid.uuid4(), workspace_id=workspace_id, name=f"C{i}") for i in range(clients)
    ]
    db.add_all(rows)
    await db.flush()
    db.add_all(
        Campaign(workspace_id=workspace_id, client_id=client.id, name=f"C{j}", goal="g")
        for client in rows
        for j in range(campaigns)
    )
    await db.commit()


async def _count(owner: Account, statements: StatementCounter, clients: int, campaigns: int) -> int:
    before = statements.count
    result = await owner.gql(
        DASHBOARD, {"w": owner.workspace_id, "clients": clients, "campaigns": campaigns}
    )
    page = result.ok()["node"]["clients"]
    assert len(page["edges"]) == clients
    assert all(len(e["node"]["campaigns"]["edges"]) == campaigns for e in page["edges"])
    return statements.count - before


class TestStatementCount:
    async def test_is_the_same_for_2x2_and_20x10(
        self, owner: Account, stranger: Account, db: AsyncSession, statements: StatementCounter
    ) -> None:
        await _seed(db, owner, 2, 2)
        await _seed(db, stranger, 20, 10)
        small = await _count(owner, statements, 2, 2)
        large = await _count(stranger, statements, 20, 10)
        assert small == large
        # 9 SELECTs: actor (2), workspace, clients page + count + stats, campaigns page + count
        # + stats; SQLite adds a BEGIN for each of its two transactions.
        assert large <= 11, statements.statements[-large:]
