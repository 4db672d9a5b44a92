"""GraphQL over Server-Sent Events (distinct connections mode) for HTTP-only clients.

``POST /graphql/stream`` with a JSON body ``{query, variables, operationName}`` and, like any
request, ``Authorization``. Each result is ``event: next``; the end is ``event: complete``.
Queries and mutations answer once, subscriptions until they end. Whatever goes wrong once the
stream has started (a syntax error, a refusal, a lost right, a bug) is a ``next`` event whose
``errors`` carry ``extensions.code``, followed by ``complete``: the stream is never cut off.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any

import structlog
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from app.auth.credentials import read_credentials
from app.errors import ErrorCode
from app.events.fanout import shared_payload
from app.http.bodies import RequestRejected, decode_request_json, error_response
from app.http.request_id import request_id_of
from app.runtime import Runtime
from app.schema.context import Context
from app.schema.errors import MASKED_MESSAGE, format_errors

KEEP_ALIVE_SECONDS = 15.0
ALL_OPERATIONS = {OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION}
log = structlog.get_logger("app.sse")


class BadBody(Exception):
    pass


def _operation(body: Any) -> tuple[str, dict[str, Any], str | None]:
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        raise BadBody("Send a JSON object with a `query` string.")
    variables, name = body.get("variables") or {}, body.get("operationName")
    if not isinstance(variables, dict):
        raise BadBody("`variables` must be a JSON object.")
    if name is not None and not isinstance(name, str):
        raise BadBody("`operationName` must be a string.")
    return body["query"], variables, name


def sse_route(schema: Any) -> Any:
    async def stream(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":  # a cross-site form cannot send this type
            return error_response(415, "Send the operation as application/json.")
        try:
            query, variables, name = _operation(decode_request_json(await request.body()))
        except RequestRejected as refused:
            return error_response(refused.status, refused.message)
        except BadBody as problem:
            return error_response(400, str(problem))
        runtime: Runtime = request.app.state.runtime
        context = Context(
            runtime=runtime,
            request=request,
            credentials=read_credentials(request.headers, request.cookies),
            request_id=request_id_of(request.scope),
        )
        await context.authenticate()
        events = _events(schema, context, query, variables, name)
        return StreamingResponse(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return stream


async def _events(
    schema: Any, context: Context, query: str, variables: dict[str, Any], name: str | None
) -> AsyncIterator[str]:
    try:
        results = await schema.stream(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=name,
            allowed_operation_types=ALL_OPERATIONS,
        )
        async for result in with_keep_alive(results):
            yield result if isinstance(result, str) else _event("next", _payload(result))
    except (CannotGetOperationTypeError, InvalidOperationTypeError):
        yield _event("next", _error("Send exactly one operation, or name the one to run."))
    except GraphQLError as error:  # raised before execution (a syntax error, say)
        format_errors([error], context.request_id)
        yield _event("next", json.dumps({"data": None, "errors": [error.formatted]}))
    except Exception:
        log.exception("stream failed", request_id=context.request_id)
        yield _event(
            "next",
            _error(MASKED_MESSAGE, ErrorCode.INTERNAL_SERVER_ERROR, requestId=context.request_id),
        )
    yield _event("complete", "")


async def with_keep_alive(results: Any, interval: float = KEEP_ALIVE_SECONDS) -> AsyncIterator[Any]:
    """The results, with a comment every few idle seconds; a slow result is never cancelled."""
    iterator = results.__aiter__()
    pending: asyncio.Future[Any] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(iterator.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=interval)
            if not done:
                yield ":\n\n"
                continue
            finished, pending = pending, None
            try:
                yield finished.result()
            except StopAsyncIteration:
                return
    finally:
        if pending is not None:
            pending.cancel()
            with suppress(BaseException):
                await pending
        close = getattr(iterator, "aclose", None)
        if close is not None:
            with suppress(Exception):
                await close()


def _payload(result: Any) -> str:
    payload: dict[str, Any] = {"data": result.data}
    if not result.errors and not result.extensions:
        shared = shared_payload(payload)  # an event's result, encoded once for everyone
        if shared is not None:
            return shared
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        payload["extensions"] = result.extensions
    return json.dumps(payload, default=str)


def _error(message: str, code: ErrorCode = ErrorCode.BAD_REQUEST, **extensions: Any) -> str:
    error = GraphQLError(message, extensions={"code": code.value, **extensions})
    return json.dumps({"data": None, "errors": [error.formatted]})


def _event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"
