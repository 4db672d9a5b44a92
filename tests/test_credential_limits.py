"""Credential endpoints under attack: rate limits per address and per account, hashing capped."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from app.auth.passwords import HashGate
from app.auth.throttle import address_key
from app.main import create_app
from app.settings import Settings
from tests.conftest import lifespan, make_settings
from tests.graphql import GraphQL, Result, register

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
REGISTER = "mutation($i: RegisterInput!) { register(input: $i) { accepted } }"
REFRESH = "mutation($t: String) { refreshToken(input: {refreshToken: $t}) { refreshToken } }"
CREATE_KEY = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }"
ATTEMPTS = 200
LIMIT = 5


def _address() -> str:
    """A client address of this test alone (counters in Redis outlive a test run)."""
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def _email() -> str:
    return f"{uuid.uuid4().hex}@example.com"


@asynccontextmanager
async def limited_app(settings: Settings) -> AsyncIterator[Starlette]:
    application = create_app(settings)
    async with lifespan(application):
        yield application


def client_at(app: Starlette, address: str) -> httpx.AsyncClient:
    """An HTTP client whose requests come from ``address``."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


def gate_of(app: Starlette) -> HashGate:
    return app.state.runtime.security.passwords.gate  # type: ignore[no-any-return]


async def _login(http: httpx.AsyncClient, email: str, password: str) -> Result:
    return await GraphQL(http)(LOGIN, {"i": {"email": email, "password": password}})


def _codes(results: list[Result]) -> list[str]:
    return [result.code for result in results]


class TestLoginIsLimitedPerAccount:
    async def test_two_hundred_wrong_passwords_then_the_right_one_is_also_refused(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, login_rate_limit=f"{LIMIT}/minute")
        async with limited_app(settings) as app, client_at(app, _address()) as http:
            owner = await register(http)
            hashes_before = gate_of(app).runs
            results = [await _login(http, owner.email, f"wrong {i}") for i in range(ATTEMPTS)]
            right = await _login(http, owner.email, owner.password)
            hashed = gate_of(app).runs - hashes_before
        codes = _codes(results)
        left = LIMIT - 1  # signing up signed in once: that attempt counts too
        assert codes[:left] == ["UNAUTHENTICATED"] * left
        assert codes[left:] == ["RATE_LIMITED"] * (ATTEMPTS - left)
        assert right.code == "RATE_LIMITED"
        assert 1 <= right.errors[0]["extensions"]["retryAfter"] <= 60
        assert hashed == left  # refused attempts never reach Argon2

    async def test_the_account_limit_holds_across_addresses_and_spares_other_accounts(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, login_rate_limit=f"{LIMIT}/minute")
        async with limited_app(settings) as app, AsyncExitStack() as stack:
            clients = [await stack.enter_async_context(client_at(app, _address())) for _ in "ab"]
            owner, other = await register(clients[0]), await register(clients[0])
            results = [
                await _login(clients[i % 2], owner.email.upper(), "wrong password")
                for i in range(LIMIT + 3)
            ]
            spared = await _login(clients[1], other.email, other.password)
        left = LIMIT - 1  # signing up signed in once: that attempt counts too
        assert _codes(results) == ["UNAUTHENTICATED"] * left + ["RATE_LIMITED"] * 4
        assert spared.ok()["login"]["accessToken"]


class TestLoginIsLimitedPerAddress:
    async def test_two_hundred_guesses_at_many_accounts_from_one_address(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, login_address_rate_limit=f"{LIMIT}/minute")
        address = _address()
        async with limited_app(settings) as app:
            async with client_at(app, _address()) as setup:
                owner = await register(setup)
            async with client_at(app, address) as http:
                results = [await _login(http, _email(), "guess") for _ in range(ATTEMPTS)]
                right = await _login(http, owner.email, owner.password)
            async with client_at(app, _address()) as elsewhere:
                allowed = await _login(elsewhere, owner.email, owner.password)
        codes = _codes(results)
        assert codes[:LIMIT] == ["UNAUTHENTICATED"] * LIMIT
        assert codes[LIMIT:] == ["RATE_LIMITED"] * (ATTEMPTS - LIMIT)
        assert right.code == "RATE_LIMITED"
        assert allowed.ok()["login"]["accessToken"]

    async def test_an_ipv6_client_is_counted_by_its_network(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, login_address_rate_limit=f"{LIMIT}/minute")
        prefix = f"2001:db8:{uuid.uuid4().int % 65000:x}:1"
        async with limited_app(settings) as app, AsyncExitStack() as stack:
            results = []
            for host in range(LIMIT + 1):
                http = await stack.enter_async_context(client_at(app, f"{prefix}::{host + 1}"))
                results.append(await _login(http, _email(), "guess"))
        assert _codes(results) == ["UNAUTHENTICATED"] * LIMIT + ["RATE_LIMITED"]


class TestOtherCredentialEndpoints:
    async def test_register_is_limited_per_address_and_per_email(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(
            database_url,
            tmp_path,
            register_rate_limit="2/minute",
            register_address_rate_limit="4/minute",
        )
        email = _email()
        async with limited_app(settings) as app, client_at(app, _address()) as http:
            gql = GraphQL(http)
            same_email = [await _attempt(gql, email) for _ in range(3)]
            fresh = [await _attempt(gql, _email()) for _ in range(3)]
        assert same_email == ["OK", "OK", "RATE_LIMITED"]  # a taken email answers the same
        assert fresh == ["OK", "RATE_LIMITED", "RATE_LIMITED"]  # the address's 4 are spent

    async def test_refresh_token_is_limited_per_user(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, refresh_rate_limit="3/minute")
        async with limited_app(settings) as app, client_at(app, _address()) as http:
            owner = await register(http)
            token, codes = owner.refresh_token, []
            for _ in range(4):
                result = await GraphQL(http)(REFRESH, {"t": token})
                codes.append(result.code if result.errors else "")
                token = result.data["refreshToken"]["refreshToken"] if not result.errors else token
        assert codes == ["", "", "", "RATE_LIMITED"]

    async def test_create_api_key_is_limited_per_user(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, api_key_rate_limit="2/minute")
        async with limited_app(settings) as app, client_at(app, _address()) as http:
            owner = await register(http)
            results = [await owner.gql(CREATE_KEY, {"i": {"name": f"k{i}"}}) for i in range(3)]
            listed = (await owner.gql("{ apiKeys { name } }")).ok()["apiKeys"]
        assert _codes_or_ok(results) == ["OK", "OK", "RATE_LIMITED"]
        assert len(listed) == 2


async def _attempt(gql: GraphQL, email: str) -> str:
    fields = {"email": email, "password": "long enough pw", "name": "A"}
    result = await gql(REGISTER, {"i": fields})
    return result.code if result.errors else "OK"


class TestLimitsAreSharedThroughRedis:
    async def test_two_instances_count_against_one_window(
        self, database_url: str, tmp_path: Path, redis_url: str
    ) -> None:
        def settings_for(name: str) -> Settings:
            return make_settings(
                database_url,
                tmp_path / name,
                redis_url=redis_url,
                login_rate_limit=f"{LIMIT}/minute",
            )

        email, address = _email(), _address()
        async with (
            limited_app(settings_for("a")) as first,
            limited_app(settings_for("b")) as second,
            client_at(first, address) as to_first,
            client_at(second, address) as to_second,
        ):
            clients = [to_first, to_second]
            results = [await _login(clients[i % 2], email, "wrong") for i in range(LIMIT + 2)]
        assert _codes(results) == ["UNAUTHENTICATED"] * LIMIT + ["RATE_LIMITED"] * 2


class TestPasswordHashingIsCapped:
    async def test_thirty_two_parallel_logins_hash_at_most_the_cap_at_once(
        self, postgres_only_url: str, tmp_path: Path
    ) -> None:
        """On PostgreSQL sign-ins run truly in parallel (SQLite queues them on its write lock)."""
        cap = 3
        settings = make_settings(
            postgres_only_url,
            tmp_path,
            password_hash_concurrency=cap,
            argon2_time_cost=2,
            argon2_memory_kib=16 * 1024,
        )
        async with limited_app(settings) as app, client_at(app, _address()) as http:
            owner = await register(http)
            gate = gate_of(app)
            before = gate.runs
            passwords = [owner.password if i % 2 else f"wrong {i}" for i in range(32)]
            results = await asyncio.gather(*(_login(http, owner.email, p) for p in passwords))
        assert sorted(_codes_or_ok(results)) == sorted(["OK", "UNAUTHENTICATED"] * 16)
        assert gate.runs - before == 32
        assert gate.peak == cap  # the burst did overlap, and never beyond the cap
        assert gate.in_flight == 0

    async def test_waiting_hashes_do_not_start_until_a_slot_frees(self) -> None:
        gate, release = HashGate(2), asyncio.Event()
        entered: list[int] = []
        loop = asyncio.get_running_loop()

        def work(index: int) -> Callable[[], int]:
            def run() -> int:
                entered.append(index)
                asyncio.run_coroutine_threadsafe(release.wait(), loop).result(timeout=30)
                return index

            return run

        tasks = [asyncio.create_task(gate.run(work(i))) for i in range(10)]
        await asyncio.wait_for(_until(lambda: gate.waiting == 8 and gate.in_flight == 2), 10)
        assert len(entered) == 2
        release.set()
        assert sorted(await asyncio.gather(*tasks)) == list(range(10))
        assert (gate.peak, gate.runs, gate.in_flight, gate.waiting) == (2, 10, 0, 0)


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0.001)


def _codes_or_ok(results: list[Result]) -> list[str]:
    return [result.code if result.errors else "OK" for result in results]


class TestAddressKeys:
    @pytest.mark.parametrize(
        ("address", "key"),
        [
            ("203.0.113.7", "203.0.113.7"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
            ("testclient", "testclient"),
        ],
    )
    def test_a_client_is_its_ipv4_address_or_its_ipv6_network(self, address: str, key: str) -> None:
        assert address_key(address) == key
