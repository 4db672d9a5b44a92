"""API key scope and expiry: read-only keys, keys bound to one workspace, no broader keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app.clock import ManualClock
from app.ids import decode_global_id, encode_global_id
from app.models import Client, Job
from app.models.enums import JobStatus
from tests.graphql import Account, GraphQL, create_client
from tests.ws import subscribe_all, ws_session

CREATE_KEY = """
mutation($i: CreateApiKeyInput!) {
  createApiKey(input: $i) { secret apiKey { id scope expiresAt workspace { id } } }
}
"""
CREATE_WORKSPACE = (
    "mutation($n: String!) { createWorkspace(input: {name: $n}) { workspace { id } } }"
)
CLIENTS = (
    "query($w: ID!) { node(id: $w) { ... on Workspace { clients(first: 10) "
    "{ edges { node { name } } } } } }"
)
MEMBERSHIPS = "{ viewer { memberships { workspace { id } } } }"
CANCEL_JOB = "mutation($j: ID!) { cancelJob(jobId: $j) { job { id } } }"
JOB_UPDATED = "subscription($j: ID!) { jobUpdated(jobId: $j) { id status } }"


async def _key(account: Account, **fields: Any) -> tuple[str, dict[str, Any]]:
    result = await account.gql(CREATE_KEY, {"i": {"name": "CI", **fields}})
    payload = result.ok()["createApiKey"]
    return payload["secret"], payload["apiKey"]


def _as_key(account: Account, secret: str) -> GraphQL:
    return account.gql.as_(secret)


async def _second_workspace(owner: Account) -> str:
    result = await owner.gql(CREATE_WORKSPACE, {"n": "Second"})
    return str(result.ok()["createWorkspace"]["workspace"]["id"])


async def _client_count(db: AsyncSession) -> int:
    """Rows actually stored (the read ends its transaction, so it holds no lock)."""
    count = await db.scalar(sa.select(sa.func.count()).select_from(Client))
    await db.rollback()
    return int(count or 0)


async def _finished_job(db: AsyncSession, workspace_id: str, client_id: str) -> str:
    job = Job(
        workspace_id=decode_global_id(workspace_id).id,
        client_id=decode_global_id(client_id).id,
        product="p",
        target_audience="t",
        key_message="k",
        call_to_action="c",
        style="s",
        status=JobStatus.CANCELLED,
    )
    db.add(job)
    await db.commit()
    return encode_global_id("Job", job.id)


class TestReadOnlyKeys:
    async def test_queries_run_and_every_mutation_is_forbidden_with_nothing_written(
        self, owner: Account, db: AsyncSession
    ) -> None:
        await create_client(owner.gql, owner.workspace_id, "Kept")
        secret, key = await _key(owner, scope="READ_ONLY")
        assert key["scope"] == "READ_ONLY"
        reader = _as_key(owner, secret)
        names = (await reader(CLIENTS, {"w": owner.workspace_id})).ok()
        assert names["node"]["clients"]["edges"] == [{"node": {"name": "Kept"}}]
        before = await _client_count(db)
        created = await reader(
            "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
            {"i": {"workspaceId": owner.workspace_id, "name": "Sneaky"}},
        )
        assert created.code == "FORBIDDEN"
        assert created.errors[0]["extensions"]["reason"] == "API_KEY_READ_ONLY"
        assert await _client_count(db) == before

    async def test_a_read_only_key_cannot_mint_any_key(self, owner: Account) -> None:
        secret, _ = await _key(owner, scope="READ_ONLY")
        for scope in ("READ_ONLY", "FULL"):
            result = await _as_key(owner, secret)(CREATE_KEY, {"i": {"name": "x", "scope": scope}})
            assert result.code == "FORBIDDEN"
        keys = (await owner.gql("{ apiKeys { id } }")).ok()["apiKeys"]
        assert len(keys) == 1

    async def test_subscriptions_run_over_a_websocket_and_mutations_do_not(
        self, app: Starlette, owner: Account, db: AsyncSession
    ) -> None:
        client_id = await create_client(owner.gql, owner.workspace_id)
        job_id = await _finished_job(db, owner.workspace_id, client_id)
        secret, _ = await _key(owner, scope="READ_ONLY")
        async with ws_session(app, secret) as ws:
            events = await subscribe_all(ws, JOB_UPDATED, {"j": job_id}, timeout=10)
            mutated = await subscribe_all(ws, CANCEL_JOB, {"j": job_id}, timeout=10)
        assert events == [{"data": {"jobUpdated": {"id": job_id, "status": "CANCELLED"}}}]
        assert [e["extensions"]["code"] for e in mutated[0]["errors"]] == ["FORBIDDEN"]


class TestWorkspaceBoundKeys:
    async def test_sees_and_acts_only_in_its_workspace(
        self, owner: Account, db: AsyncSession
    ) -> None:
        second = await _second_workspace(owner)
        await create_client(owner.gql, second, "Elsewhere")
        secret, key = await _key(owner, workspaceId=owner.workspace_id)
        assert key["workspace"] == {"id": owner.workspace_id}
        bound = _as_key(owner, secret)
        memberships = (await bound(MEMBERSHIPS)).ok()["viewer"]["memberships"]
        assert memberships == [{"workspace": {"id": owner.workspace_id}}]
        assert (await bound(CLIENTS, {"w": second})).code == "NOT_FOUND"
        before = await _client_count(db)
        elsewhere = await bound(
            "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }",
            {"i": {"workspaceId": second, "name": "No"}},
        )
        assert elsewhere.code == "NOT_FOUND"
        assert await _client_count(db) == before
        assert await create_client(bound, owner.workspace_id, "Here")

    async def test_cannot_create_workspaces(self, owner: Account, db: AsyncSession) -> None:
        secret, _ = await _key(owner, workspaceId=owner.workspace_id)
        result = await _as_key(owner, secret)(CREATE_WORKSPACE, {"n": "Escape"})
        assert result.code == "FORBIDDEN"
        assert result.errors[0]["extensions"]["reason"] == "API_KEY_SCOPE"
        memberships = (await owner.gql(MEMBERSHIPS)).ok()["viewer"]["memberships"]
        assert len(memberships) == 1

    async def test_a_subscription_outside_its_workspace_is_not_found(
        self, app: Starlette, owner: Account, db: AsyncSession
    ) -> None:
        second = await _second_workspace(owner)
        job_id = await _finished_job(db, second, await create_client(owner.gql, second))
        secret, _ = await _key(owner, workspaceId=owner.workspace_id)
        async with ws_session(app, secret) as ws:
            await ws.send_json(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": JOB_UPDATED, "variables": {"j": job_id}},
                }
            )
            message = await ws.receive_json(timeout=10)
        assert message["type"] in {"next", "error"}
        payload = message["payload"]
        errors = payload if message["type"] == "error" else payload["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["NOT_FOUND"]

    async def test_cannot_be_made_for_a_workspace_the_caller_is_not_in(
        self, owner: Account, stranger: Account
    ) -> None:
        result = await owner.gql(
            CREATE_KEY, {"i": {"name": "x", "workspaceId": stranger.workspace_id}}
        )
        assert result.code == "NOT_FOUND"
        assert (await owner.gql("{ apiKeys { id } }")).ok()["apiKeys"] == []

    async def test_lists_only_the_keys_of_its_workspace(self, owner: Account) -> None:
        await _key(owner)
        secret, key = await _key(owner, workspaceId=owner.workspace_id)
        listed = (await _as_key(owner, secret)("{ apiKeys { id } }")).ok()["apiKeys"]
        assert listed == [{"id": key["id"]}]


class TestNoBroaderKeys:
    async def test_a_bound_key_mints_keys_bound_to_the_same_workspace(self, owner: Account) -> None:
        second = await _second_workspace(owner)
        secret, _ = await _key(owner, workspaceId=owner.workspace_id)
        bound = _as_key(owner, secret)
        child = (await bound(CREATE_KEY, {"i": {"name": "child"}})).ok()["createApiKey"]
        assert child["apiKey"]["workspace"] == {"id": owner.workspace_id}
        other = await bound(CREATE_KEY, {"i": {"name": "wider", "workspaceId": second}})
        assert other.code == "NOT_FOUND"

    async def test_a_key_cannot_outlive_the_key_that_creates_it(self, owner: Account) -> None:
        secret, parent = await _key(owner, expiresInDays=2)
        keyed = _as_key(owner, secret)
        later = await keyed(CREATE_KEY, {"i": {"name": "later", "expiresInDays": 3}})
        assert later.code == "FORBIDDEN"
        forever = (await keyed(CREATE_KEY, {"i": {"name": "forever"}})).ok()["createApiKey"]
        assert forever["apiKey"]["expiresAt"] == parent["expiresAt"]
        shorter = await keyed(CREATE_KEY, {"i": {"name": "short", "expiresInDays": 1}})
        assert shorter.ok()


class TestExpiry:
    async def test_a_key_expires_at_the_time_given(
        self, gql: GraphQL, owner: Account, clock: ManualClock
    ) -> None:
        expires = clock.now() + timedelta(hours=1)
        secret, key = await _key(owner, expiresAt=expires.isoformat())
        assert key["expiresAt"].startswith(expires.strftime("%Y-%m-%dT%H:%M:%S"))
        viewer = "{ viewer { id } }"
        assert (await gql(viewer, X_API_Key=secret)).ok()["viewer"]["id"] == owner.user_id
        clock.advance(timedelta(hours=1, seconds=1))
        expired = await gql(viewer, X_API_Key=secret)
        assert expired.code == "UNAUTHENTICATED"
        assert expired.errors[0]["extensions"]["reason"] == "API_KEY_EXPIRED"

    async def test_an_expiry_in_the_past_or_given_twice_is_bad_input(
        self, owner: Account, clock: ManualClock
    ) -> None:
        past = (clock.now() - timedelta(minutes=1)).isoformat()
        result = await owner.gql(CREATE_KEY, {"i": {"name": "x", "expiresAt": past}})
        assert result.code == "BAD_USER_INPUT"
        both = {
            "name": "x",
            "expiresAt": (clock.now() + timedelta(days=1)).isoformat(),
            "expiresInDays": 1,
        }
        assert (await owner.gql(CREATE_KEY, {"i": both})).code == "BAD_USER_INPUT"
        assert (await owner.gql("{ apiKeys { id } }")).ok()["apiKeys"] == []

    async def test_a_full_unbound_key_shows_its_scope(self, owner: Account) -> None:
        _, key = await _key(owner)
        assert (key["scope"], key["workspace"], key["expiresAt"]) == ("FULL", None, None)
