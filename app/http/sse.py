"""GraphQL over Server-Sent Events (distinct connections mode) for HTTP-only clients.

``POST /graphql/stream`` with a JSON body ``{query, variables, operationName}`` and, like any
request, ``Authorization``. Each result is ``event: next``; the end is ``event: complete``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from app.auth.credentials import read_credentials
from app.http.request_id import request_id_of
from app.runtime import Runtime
from app.schema.context import Context

KEEP_ALIVE_SECONDS = 15.0


def sse_route(schema: Any) -> Any:
    async def stream(request: Request) -> Response:
        try:
            body = await request.json()
            query, variables = body["query"], body.get("variables") or {}
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"errors": [{"message": "Send JSON with a query."}]}, status_code=400
            )
        runtime: Runtime = request.app.state.runtime
        context = Context(
            runtime=runtime,
            request=request,
            credentials=read_credentials(request.headers, request.cookies),
            request_id=request_id_of(request.scope),
        )
        await context.authenticate()
        results = await schema.subscribe(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=body.get("operationName"),
        )
        return StreamingResponse(
            _events(results),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    return stream


async def _events(results: Any) -> AsyncIterator[str]:
    if not hasattr(results, "__aiter__"):  # validation failed: one result, then the end
        yield _event("next", _payload(results))
        yield _event("complete", "")
        return
    iterator = results.__aiter__()
    try:
        while True:
            try:
                result = await asyncio.wait_for(iterator.__anext__(), KEEP_ALIVE_SECONDS)
            except TimeoutError:
                yield ":\n\n"  # keep-alive comment
                continue
            except StopAsyncIteration:
                break
            yield _event("next", _payload(result))
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()
    yield _event("complete", "")


def _payload(result: Any) -> str:
    payload: dict[str, Any] = {"data": result.data}
    if result.errors:
        payload["errors"] = [error.formatted for error in result.errors]
    return json.dumps(payload, default=str)


def _event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"
