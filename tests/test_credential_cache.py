"""The credential cache: cheap, and never serves a right that was taken away.

Two app instances share one PostgreSQL database and one Redis, as two server processes would:
a revocation made through one is refused by the other on its very next request, for every kind
of change that narrows a user's rights. Without Redis, the TTL bounds what another process
may still serve.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis
from starlette.applications import Starlette

from app.after_commit import settle
from app.auth.actor import Actor, AuthMethod
from app.auth.cache import CredentialCache
from app.auth.credentials import CredentialKind, Credentials
from app.auth.invalidation import COUNTER, RedisFeed
from app.auth.resolve import authenticate
from app.clock import ManualClock
from app.ids import decode_global_id
from app.main import create_app
from app.models import User
from tests.conftest import lifespan, make_settings
from tests.graphql import ACCEPT, Account, GraphQL, add_member, invite, register

WORKSPACE = "query($id: ID!) { node(id: $id) { ... on Workspace { viewerRole } } }"
CREATE_CLIENT = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }"
ROLE = "mutation($i: UpdateMemberRoleInput!) { updateMemberRole(input: $i) { membership { id } } }"
REMOVE = "mutation($i: RemoveMemberInput!) { removeMember(input: $i) { removedMembershipId } }"
LOGOUT = "mutation { logout(input: {}) { ok } }"
REFRESH = "mutation($i: RefreshTokenInput) { refreshToken(input: $i) { accessToken } }"
CREATE_KEY = 'mutation { createApiKey(input: {name: "ci"}) { secret apiKey { id } } }'
REVOKE_KEY = "mutation($i: RevokeApiKeyInput!) { revokeApiKey(input: $i) { apiKey { id } } }"


@dataclass
class Pair:
    """Two instances of the app over one database; ``a`` and ``b`` talk to each."""

    first: Starlette
    a: httpx.AsyncClient
    b: httpx.AsyncClient


@asynccontextmanager
async def two_instances(
    database_url: str, tmp_path: Path, redis_url: str | None, clock: ManualClock | None = None
) -> AsyncIterator[Pair]:
    async with AsyncExitStack() as stack:
        clients = []
        apps = []
        for name in ("a", "b"):
            settings = make_settings(database_url, tmp_path / name, redis_url=redis_url)
            application = create_app(settings, clock=clock)
            await stack.enter_async_context(lifespan(application))
            transport = httpx.ASGITransport(app=application)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            clients.append(await stack.enter_async_context(client))
            apps.append(application)
        yield Pair(apps[0], clients[0], clients[1])


@pytest.fixture
async def pair(postgres_only_url: str, tmp_path: Path, redis_url: str) -> AsyncIterator[Pair]:
    async with two_instances(postgres_only_url, tmp_path, redis_url) as instances:
        yield instances


def on(http: httpx.AsyncClient, account: Account) -> GraphQL:
    return GraphQL(http, account.gql.token)


async def role_seen_by_b(pair: Pair, member: Account, workspace_id: str) -> str | None:
    result = await on(pair.b, member)(WORKSPACE, {"id": workspace_id})
    if result.errors and result.code == "NOT_FOUND":
        return None
    return str(result.ok()["node"]["viewerRole"])


async def member_of(pair: Pair, role: str = "EDITOR") -> tuple[Account, Account, str]:
    owner = await register(pair.a, "Owner")
    member = await register(pair.a, "Member")
    membership_id = await add_member(owner, member, role)
    assert await role_seen_by_b(pair, member, owner.workspace_id) == role  # B caches it
    return owner, member, membership_id


class TestARevocationThroughOneInstanceIsSeenAtOnceByAnother:
    async def test_logout_ends_the_sign_in_everywhere(self, pair: Pair) -> None:
        account = await register(pair.a)
        assert (await on(pair.b, account)("{ viewer { id } }")).ok()["viewer"]
        assert (await on(pair.a, account)(LOGOUT)).ok()["logout"]["ok"]
        assert (await on(pair.b, account)("{ viewer { id } }")).code == "UNAUTHENTICATED"

    async def test_a_reused_refresh_token_revokes_the_sign_in_everywhere(self, pair: Pair) -> None:
        account = await register(pair.a)
        assert (await on(pair.b, account)("{ viewer { id } }")).ok()["viewer"]
        rotate = {"i": {"refreshToken": account.refresh_token}}
        assert (await GraphQL(pair.a)(REFRESH, rotate)).ok()["refreshToken"]["accessToken"]
        assert (await GraphQL(pair.a)(REFRESH, rotate)).code == "UNAUTHENTICATED"  # reuse
        assert (await on(pair.b, account)("{ viewer { id } }")).code == "UNAUTHENTICATED"

    async def test_a_revoked_api_key_stops_working_everywhere(self, pair: Pair) -> None:
        account = await register(pair.a)
        created = (await on(pair.a, account)(CREATE_KEY)).ok()["createApiKey"]
        by_key = GraphQL(pair.b, created["secret"])
        for _ in range(2):  # the first lookup learns the key's owner, the second caches it
            assert (await by_key("{ viewer { id } }")).ok()["viewer"]
        revoke = {"i": {"id": created["apiKey"]["id"]}}
        assert (await on(pair.a, account)(REVOKE_KEY, revoke)).ok()["revokeApiKey"]
        assert (await by_key("{ viewer { id } }")).code == "UNAUTHENTICATED"

    async def test_a_removed_member_loses_the_workspace_everywhere(self, pair: Pair) -> None:
        owner, member, membership_id = await member_of(pair)
        removed = await on(pair.a, owner)(REMOVE, {"i": {"membershipId": membership_id}})
        assert removed.ok()["removeMember"]
        assert await role_seen_by_b(pair, member, owner.workspace_id) is None

    async def test_a_lowered_role_applies_everywhere(self, pair: Pair) -> None:
        owner, member, membership_id = await member_of(pair, "EDITOR")
        lowered = {"i": {"membershipId": membership_id, "role": "VIEWER"}}
        assert (await on(pair.a, owner)(ROLE, lowered)).ok()["updateMemberRole"]
        assert await role_seen_by_b(pair, member, owner.workspace_id) == "VIEWER"
        create = {"i": {"workspaceId": owner.workspace_id, "name": "Nope"}}
        assert (await on(pair.b, member)(CREATE_CLIENT, create)).code == "FORBIDDEN"

    async def test_a_deactivated_account_is_refused_everywhere(self, pair: Pair) -> None:
        account = await register(pair.a)
        assert (await on(pair.b, account)("{ viewer { id } }")).ok()["viewer"]
        user_id = decode_global_id(account.user_id).id
        async with pair.first.state.runtime.sessionmaker() as session:
            user = await session.get(User, user_id)
            assert user is not None
            user.is_active = False
            await session.commit()
            await settle(session)  # as a request does: its announcement precedes the reply
        assert (await on(pair.b, account)("{ viewer { id } }")).code == "UNAUTHENTICATED"

    async def test_an_accepted_invitation_grants_the_workspace_everywhere(self, pair: Pair) -> None:
        owner = await register(pair.a, "Owner")
        invitee = await register(pair.a, "Invitee")
        invitation_id = await invite(owner, invitee.email, "VIEWER")
        assert await role_seen_by_b(pair, invitee, owner.workspace_id) is None  # cached: none
        accepted = await on(pair.a, invitee)(ACCEPT, {"i": {"invitationId": invitation_id}})
        assert accepted.ok()["acceptInvitation"]["membership"]
        assert await role_seen_by_b(pair, invitee, owner.workspace_id) == "VIEWER"


class TestWithoutRedisTheTTLBoundsStaleness:
    async def test_another_process_drops_a_removed_member_once_the_ttl_has_passed(
        self, postgres_only_url: str, tmp_path: Path
    ) -> None:
        clock = ManualClock()
        async with two_instances(postgres_only_url, tmp_path, None, clock) as pair:
            owner, member, membership_id = await member_of(pair)
            removed = await on(pair.a, owner)(REMOVE, {"i": {"membershipId": membership_id}})
            assert removed.ok()["removeMember"]
            # Nothing tells B: within the TTL it may still serve what it cached...
            clock.advance(timedelta(seconds=4.5))
            assert await role_seen_by_b(pair, member, owner.workspace_id) == "EDITOR"
            # ...and never past it.
            clock.advance(timedelta(seconds=0.5))
            assert await role_seen_by_b(pair, member, owner.workspace_id) is None


class TestAuthenticatingFromTheCache:
    WARM = 2_000

    @pytest.mark.parametrize("kind", ["access token", "API key"])
    async def test_costs_well_under_half_a_millisecond(self, app: Starlette, kind: str) -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            account = await register(http)
            secret = str(account.gql.token)
            credentials = Credentials(CredentialKind.ACCESS_TOKEN, secret)
            if kind == "API key":
                created = (await account.gql(CREATE_KEY)).ok()["createApiKey"]
                credentials = Credentials(CredentialKind.API_KEY, created["secret"])
        runtime = app.state.runtime
        first = await authenticate(runtime, credentials)
        for _ in range(3):
            assert await authenticate(runtime, credentials) == first
        started = time.process_time()
        for _ in range(self.WARM):
            await authenticate(runtime, credentials)
        per_call = (time.process_time() - started) / self.WARM * 1000
        print(f"\nauthenticating an {kind} from the cache: {per_call:.4f} ms CPU")
        assert per_call < 0.5


class TestALostAnnouncement:
    async def test_clears_the_whole_cache_within_a_poll(self, redis_url: str) -> None:
        feed = RedisFeed(redis_url, poll_seconds=0.05)
        cache = CredentialCache(timedelta(minutes=1), feed)
        await cache.start()
        try:
            await until(lambda: feed.live)
            credentials = Credentials(CredentialKind.ACCESS_TOKEN, "a token")
            actor = Actor(uuid.uuid4(), AuthMethod.ACCESS_TOKEN)
            now = ManualClock().now()
            stamp = cache.stamp(actor.user_id)
            assert stamp is not None
            cache.store(credentials, actor, stamp, now)
            assert cache.lookup(credentials, now) == actor
            # An announcement that never arrived: the counter moved on without a message.
            redis = Redis.from_url(redis_url)
            await redis.incr(COUNTER)
            await redis.aclose()
            await until(lambda: cache.lookup(credentials, now) is None)
        finally:
            await cache.stop()


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.01)
