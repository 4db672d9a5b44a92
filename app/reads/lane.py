"""The ready lane: a plain HTTP query answered from a ready plan, before any GraphQL work.

A plan whose statements answered every root field (``executor.Ready``) was made for a
document that passed parsing, validation and every limit, with these variables, for this
actor and roles. A request that repeats it exactly (query, operation name as sent, variables,
actor and roles; the credentials are still checked first) runs the statements again and
nothing else: no parsing, no validation, no extension, no field completion. Anything else,
or a statement whose answer means the resolvers must speak (their error), goes the whole way
as if the lane were not there, so both give the same reply.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import orjson
import structlog
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn
from starlette.requests import Request
from starlette.responses import Response

from app.reads import ReadStats
from app.reads.executor import Ready, answer_ready, driver_runner, plan_key
from app.reads.stitch import Run
from app.runtime import Runtime
from app.schema.context import Context

log = structlog.get_logger("app.reads")
ContextFor = Callable[[Request], Awaitable[Context]]
_OTHER_REPLIES = (b"text/event-stream", b"multipart/mixed")


async def ready_reply(request: Request, context_for: ContextFor) -> Response | None:
    """The reply from a ready plan, or None: the request goes the whole way."""
    runtime = request.app.state.runtime
    ready = runtime.reads.ready
    if not len(ready) or not runtime.settings.compiled_reads or not _plain_json_post(request):
        return None
    sent = _operation(await request.body())
    if sent is None or not ready.knows(sent[0], sent[1]):
        return None
    context = await context_for(request)
    if context.credentials is not None and context.maybe_actor_or_none is None:
        return None  # bad credentials: the whole way says so
    found = ready.get(plan_key(context, *sent))
    if not isinstance(found, Ready):
        return None
    data = await _answer(context, found)
    if data is None:
        return None
    runtime.reads.lane += 1
    reply = {"data": data} if found.extensions is None else {"data": data, **found.extensions}
    return Response(orjson.dumps(reply), media_type="application/json")


def remember(context: Context, errors: object, extensions: dict[str, Any] | None) -> None:
    """Keep the plan that answered a whole reply without errors, with the reply's extensions."""
    if context.ready is None or errors:
        return
    key, ready = context.ready
    context.ready = None
    kept = {"extensions": extensions} if extensions else None
    context.runtime.reads.ready.put(key, replace(ready, extensions=kept))


def _plain_json_post(request: Request) -> bool:
    if request.scope["method"] != "POST":
        return False
    headers = request.headers
    accept = headers.get("accept", "").encode()
    if any(other in accept for other in _OTHER_REPLIES):
        return False
    return headers.get("content-type", "").startswith("application/json")


def _operation(body: bytes) -> tuple[str, str | None, Any] | None:
    """(query, operation name, variables) of a plain request body, else None."""
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if type(payload) is not dict or payload.get("extensions"):
        return None
    query, name, variables = (payload.get(k) for k in ("query", "operationName", "variables"))
    if type(query) is not str or not isinstance(name, str | None):
        return None
    if not isinstance(variables, dict | None):
        return None
    return query, name, variables


async def _answer(context: Context, ready: Ready) -> dict[str, Any] | None:
    context.read_only = True
    context.raw_json = True
    runtime = context.runtime
    # PostgreSQL reads committed data statement by statement, in a transaction or not: the
    # statements go to asyncpg in autocommit, without BEGIN and ROLLBACK round trips. SQLite's
    # slots need one snapshot for a root field's statements, and other drivers speak their own
    # placeholders: they keep the read session.
    direct = runtime.read_engine.dialect.driver == "asyncpg"
    connection = _Autocommit(runtime.reads, runtime) if direct else None
    failed = False
    try:
        return await answer_ready(context, ready, connection)
    except (DBAPIError, PoolTimeout):
        failed = True
        return None  # the whole way says what happened, as it always does
    except Exception:  # the driver's own errors (a lost connection): nothing is wrapped
        if connection is None:
            raise
        failed = True
        runtime.reads.lane_failures += 1
        log.warning("a ready plan's statement failed; answering the whole way", exc_info=True)
        return None
    finally:
        if connection is not None:
            await connection.close(discard=failed)
        await context.close(commit=False)


class _Autocommit:
    """A pooled connection, checked out when the first statement runs; the statements go
    straight to its driver, outside any transaction, and it goes back to the pool as it came
    (no transaction was begun on it, so there is nothing to roll back)."""

    def __init__(self, reads: ReadStats, runtime: Runtime) -> None:
        self._engine = runtime.read_engine
        self._reads = reads
        self._connection: PoolProxiedConnection | None = None
        self._run: Run | None = None

    async def __call__(self) -> Run:
        if self._run is None:
            self._connection = await self._engine.raw_connection()
            self._run = driver_runner(self._connection.driver_connection, self._reads)
        return self._run

    async def close(self, *, discard: bool) -> None:
        """Back to the pool; ``discard``: a statement failed, the connection is closed."""
        if self._connection is None:
            return
        if discard:
            self._connection.invalidate()
        await greenlet_spawn(self._connection.close)
