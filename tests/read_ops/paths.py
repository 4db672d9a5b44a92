"""Both read paths side by side: two apps on one database, one clock, one signed-in actor.

The apps are built with ``create_app`` from settings that differ only in ``compiled_reads``.
Every operation goes to the resolver path first (the reference) and then to the compiled one;
the two answers must be the same bytes' worth of JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import structlog
from starlette.applications import Starlette

from app.clock import ManualClock
from app.log import configure_logging
from app.main import create_app
from app.settings import Settings
from tests.conftest import lifespan, make_settings
from tests.read_ops.compare import parse, same_responses
from tests.read_ops.dataset import ACTOR_EMAIL, PASSWORD
from tests.read_ops.operations import COMPILABLE_ROOTS, Operation
from tests.read_ops.rows import NOW

LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
CURSOR_KEYS = frozenset({"cursor", "startCursor", "endCursor"})
CURSOR_POOL = 60
ERRORS_SHOWN = 2000
# On PostgreSQL the resolver path itself is not deterministic when an error nulls a parent
# whose other fields are still reading: graphql-core cancels them mid-statement, the cancelled
# statement invalidates the request's connection, and siblings not yet finished fail with
# INTERNAL_SERVER_ERROR (PendingRollbackError), or not, by timing. An answer that differs is
# asked again of both paths, this many times, before it counts as a mismatch.
RETRIES = 3


@dataclass
class Mismatch:
    operation: Operation
    variables: dict[str, Any]
    differences: list[str]
    errors: tuple[Any, Any]  # both answers' errors (the resolvers', the compiled path's)

    def __str__(self) -> str:
        errors = [f"{side} errors: {json.dumps(e)[:ERRORS_SHOWN]}" for side, e in
                  zip(("reference", "compiled"), self.errors, strict=True)]  # fmt: skip
        return "\n".join([*self.differences, self.operation.describe(self.variables), *errors])


@dataclass
class Paths:
    """Sends one operation through both apps and keeps what differed."""

    reference: Starlette
    compiled: Starlette
    http: tuple[httpx.AsyncClient, httpx.AsyncClient]
    token: str = ""
    requests: int = 0
    unstable: int = 0  # operations the reference answered differently when asked again
    compilable_roots: int = 0
    cursors: list[str] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)

    async def post(
        self, client: httpx.AsyncClient, operation: Operation, variables: dict[str, Any]
    ) -> tuple[int, bytes]:
        """One request; both paths get the same request id (masked errors carry it)."""
        body = {"query": operation.query, "variables": variables, "operationName": operation.name}
        headers = {
            "Authorization": f"Bearer {self.token}",
            "X-Request-ID": f"{operation.name}.{self.requests}",
        }
        try:
            response = await client.post("/graphql", json=body, headers=headers)
        except asyncio.CancelledError as error:  # the app's, escaping the request: a crash
            crash = f"the request crashed with CancelledError:\n{operation.describe(variables)}"
            raise AssertionError(crash) from error
        return response.status_code, response.content

    async def both(self, operation: Operation, variables: dict[str, Any] | None = None) -> Any:
        """The reference answer's JSON, after comparing the compiled path's with it."""
        sent = operation.variables if variables is None else variables
        self.requests += 1
        for attempt in range(1 + RETRIES):
            expected = await self.post(self.http[0], operation, sent)
            actual = await self.post(self.http[1], operation, sent)
            self.compilable_roots += sum(root in COMPILABLE_ROOTS for root in operation.roots)
            found = same_responses(expected, actual)
            if not found:
                self.unstable += attempt > 0
                break
        body = parse(expected[1])
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        assert "GRAPHQL_VALIDATION_FAILED" not in codes, operation.describe(sent) + str(body)
        if found:
            errors = (body.get("errors"), _errors_of(actual[1]))
            self.mismatches.append(Mismatch(operation, sent, found, errors))
        self._keep_cursors(body)
        return body

    def _keep_cursors(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key in CURSOR_KEYS and isinstance(item, str):
                    self.cursors.append(item)
                else:
                    self._keep_cursors(item)
        elif isinstance(value, list):
            for item in value:
                self._keep_cursors(item)
        del self.cursors[:-CURSOR_POOL]


def _errors_of(body: bytes) -> Any:
    try:
        return parse(body).get("errors")
    except ValueError:
        return body[:ERRORS_SHOWN].decode(errors="replace")


@contextmanager
def app_logging(settings: Settings) -> Iterator[None]:
    """The app's own log set-up (plain tracebacks) while the apps run, then the test's again.

    Left unconfigured, structlog renders each logged exception with its locals through rich,
    which takes seconds apiece: the masked errors some operations meet would take minutes.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    configure_logging(settings)
    try:
        yield
    finally:
        structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)


@asynccontextmanager
async def both_paths(database_url: str, tmp_path: Path) -> AsyncIterator[Paths]:
    """The resolver app and the compiled app on ``database_url``, the actor signed in."""
    clock = ManualClock(NOW)  # one fixed moment: signed links and tokens alike on both
    async with AsyncExitStack() as stack:
        apps, clients = [], []
        quiet = make_settings(database_url, tmp_path, log_level="WARNING")
        stack.enter_context(app_logging(quiet))
        for compiled in (False, True):
            settings = make_settings(database_url, tmp_path, compiled_reads=compiled)
            application = create_app(settings, clock=clock)
            await stack.enter_async_context(lifespan(application))
            transport = httpx.ASGITransport(app=application)
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            clients.append(await stack.enter_async_context(client))
            apps.append(application)
        paths = Paths(apps[0], apps[1], (clients[0], clients[1]))
        signed_in = await clients[0].post(
            "/graphql",
            json={"query": LOGIN, "variables": {"i": {"email": ACTOR_EMAIL, "password": PASSWORD}}},
        )
        paths.token = signed_in.json()["data"]["login"]["accessToken"]
        yield paths
