"""An operation's session is closed, and its connection back in the pool, however it ends.

When a non-null field fails, GraphQL cancels its sibling fields. Their DataLoader batches
may then be mid-statement or not yet started; before the fix each such operation left a
connection checked out until the garbage collector found it, and twenty of them exhausted
the pool.
"""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from tests.graphql import Account, create_campaign, create_client

FAILING = """
query($bad: CreateJobInput!) {
  viewer { invitations { id } memberships { workspace { clients(first: 5) {
    totalCount
    nodes { name stats { videoCount } campaigns(first: 5) {
      totalCount nodes { name assets(first: 3) { totalCount } }
    } }
  } } } }
  apiKeys { id }
  e: estimateJobCost(input: $bad) { total { amount } }
}
"""
BAD = {
    "context": {"clientId": "not-an-id"},
    "adBasics": {"product": "p", "targetAudience": "t", "keyMessage": "k", "callToAction": "c"},
    "creative": {"direction": {"style": "s"}},
}


def _checked_out(engine: AsyncEngine) -> int:
    return int(engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def test_a_failing_non_null_field_leaves_no_connection_checked_out(
    app: Starlette, http: httpx.AsyncClient, owner: Account
) -> None:
    for _ in range(3):
        await create_campaign(owner.gql, await create_client(owner.gql, owner.workspace_id))
    engines = app.state.runtime.engines
    for attempt in range(60):  # three times the pool's size and overflow
        result = await owner.gql(FAILING, {"bad": BAD})
        assert result.data is None
        assert result.codes == ["BAD_USER_INPUT"], result.errors
        leaked = [_checked_out(engine) for engine in engines]
        assert sum(leaked) == 0, (attempt, leaked)
    healthy = await owner.gql("{ viewer { id } }")
    assert healthy.ok()["viewer"]["id"] == owner.user_id
