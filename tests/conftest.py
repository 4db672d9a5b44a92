"""Fixtures: a fresh database per test on SQLite always, and on PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app.clock import Clock, ManualClock
from app.main import create_app
from app.settings import Environment, Settings
from tests import databases
from tests.graphql import Account, GraphQL, register
from tests.processes import RELAXED_CREDENTIAL_LIMITS, served

DIALECTS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            databases.postgres_admin_url() is None,
            reason=f"{databases.POSTGRES_ENV} is not set",
        ),
    ),
]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return databases.sqlite_template(tmp_path_factory.mktemp("sqlite-template"))


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    with databases.postgres_template() as name:
        yield name


@pytest.fixture
def redis_url() -> str:
    url = databases.redis_url()
    if url is None:
        pytest.skip(f"{databases.REDIS_ENV} is not set")
    return url


@pytest.fixture
def postgres_only_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated PostgreSQL database (for tests that only make sense on PostgreSQL)."""
    if databases.postgres_admin_url() is None:
        pytest.skip(f"{databases.POSTGRES_ENV} is not set")
    template_name = request.getfixturevalue("postgres_template")
    with databases.postgres_database(template=template_name) as url:
        yield url


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def empty_database_url(dialect: str, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all."""
    if dialect == "sqlite":
        yield databases.sqlite_url(tmp_path / "empty.db")
        return
    with databases.postgres_database() as url:
        yield url


@pytest.fixture
def database_url(dialect: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A database migrated to head, private to this test."""
    if dialect == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        yield databases.sqlite_copy(template, tmp_path)
        return
    template_name = request.getfixturevalue("postgres_template")
    with databases.postgres_database(template=template_name) as url:
        yield url


# An app's start-up and shutdown include the job engine's: DBOS.launch, and DBOS.destroy, which
# joins its background threads (up to 10 s each) before this process's workflows get a grace of
# 5 s to stop. Both are synchronous and scale with the machine's load; nothing asserts their
# speed. asgi-lifespan's default limit of 5 s each is below that stop's own grace, and with two
# workers on a busy machine a start-up took 9 s and a shutdown overran it (abandoning the rest
# of the close, whose unclosed connections then failed the next test). The limit is there to
# catch a hang, not to time them.
LIFESPAN_TIMEOUT = 60.0


def lifespan(application: Starlette) -> LifespanManager:
    """Runs ``application``'s lifespan (start-up on entry, shutdown on exit)."""
    return LifespanManager(
        application, startup_timeout=LIFESPAN_TIMEOUT, shutdown_timeout=LIFESPAN_TIMEOUT
    )


@asynccontextmanager
async def engine_app(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """An app running its engine on the fast local provider, and an HTTP client for it."""
    settings = make_settings(
        database_url,
        tmp_path,
        engine_enabled=True,
        local_latency_seconds=0.05,
        generation_poll_seconds=0.05,
    )
    application = create_app(settings)
    async with lifespan(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield application, http


def make_settings(database_url: str, tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": Environment.TEST,
        "database_url": database_url,
        "var_dir": tmp_path / "var",
        "secret_key": SecretStr("test-secret-key-" + "x" * 32),
        "argon2_time_cost": 1,
        "argon2_memory_kib": 1024,
        "engine_enabled": False,
        **RELAXED_CREDENTIAL_LIMITS,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@asynccontextmanager
async def app_client(
    settings: Settings, *, clock: Clock | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an app built from ``settings``, with its lifespan running."""
    application = create_app(settings, clock=clock)
    async with lifespan(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock) -> AsyncIterator[Starlette]:
    application = create_app(settings, clock=clock)
    async with lifespan(application):
        yield application


@pytest.fixture
async def http(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQL:
    return GraphQL(http)


@pytest.fixture
async def owner(http: httpx.AsyncClient) -> Account:
    return await register(http, "Owner")


@pytest.fixture
async def stranger(http: httpx.AsyncClient) -> Account:
    return await register(http, "Stranger")


@pytest.fixture
async def db(app: Starlette) -> AsyncIterator[AsyncSession]:
    """A session on the app's own database, to arrange rows a test needs."""
    async with app.state.runtime.sessionmaker() as session:
        yield session


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """The real ``adstudio serve`` process on the default embedded SQLite, over HTTP."""
    with served(tmp_path) as base:
        yield base


class StatementCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, _conn: object, _cursor: object, statement: str, *_args: object) -> None:
        self.statements.append(statement)

    def direct(self, statement: str) -> None:
        """A statement the compiled reads sent to the driver itself."""
        self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def statements(app: Starlette) -> Iterator[StatementCounter]:
    """Statements on every engine of the app (on SQLite, reads go through their own)."""
    counter = StatementCounter()
    engines = [engine.sync_engine for engine in app.state.runtime.engines]
    for engine in engines:
        event.listen(engine, "before_cursor_execute", counter)
    app.state.runtime.reads.sent.append(counter.direct)
    yield counter
    app.state.runtime.reads.sent.remove(counter.direct)
    for engine in engines:
        event.remove(engine, "before_cursor_execute", counter)
