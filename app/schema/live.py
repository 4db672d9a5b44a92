"""WebSocket connections that never outlive the rights they were opened with.

Each operation on a socket gets a context of its own whose credentials are resolved again, so
it passes exactly the checks an HTTP request passes, against the current state. A result that
says the rights have ended (UNAUTHENTICATED, or FORBIDDEN because a membership ended) closes
the socket with the protocol's code once it is sent (4401, 4403), and a socket whose
credential expires is closed at expiry.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing, suppress
from datetime import datetime
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult

from app.errors import ErrorCode
from app.schema.context import Context
from app.services.following import MEMBERSHIP_ENDED

UNAUTHORIZED_CLOSE = 4401
FORBIDDEN_CLOSE = 4403
EXPIRY_POLL_SECONDS = 5.0  # the clock is re-read at least this often while waiting for expiry


def close_code(result: Any) -> int | None:
    """The close code a result calls for: the credentials or a membership have ended."""
    for error in getattr(result, "errors", None) or ():
        extensions = error.extensions or {}
        if extensions.get("code") == ErrorCode.UNAUTHENTICATED.value:
            return UNAUTHORIZED_CLOSE
        if extensions.get("reason") == MEMBERSHIP_ENDED:
            return FORBIDDEN_CLOSE
    return None


class OperationSchema:
    """The schema as a live connection sees it: one fresh, re-authenticated context per
    operation, and a watch on every result for rights that have ended."""

    def __init__(self, schema: Any, connection: LiveConnection) -> None:
        self._schema = schema
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._schema, name)

    async def stream(self, query: str, **kwargs: Any) -> AsyncGenerator[Any, None]:
        kwargs["context_value"] = await self._operation_context(kwargs["context_value"])
        return self._watch(await self._schema.stream(query, **kwargs))

    async def subscribe(self, query: str, **kwargs: Any) -> AsyncGenerator[Any, None]:
        """The legacy protocol carries queries and mutations too: all go through ``stream``."""
        return await self.stream(query, **kwargs)

    async def _operation_context(self, connection_context: Any) -> Any:
        if not isinstance(connection_context, Context):
            return connection_context
        context = connection_context.for_operation()
        await context.authenticate()
        return context

    async def _watch(self, source: Any) -> AsyncGenerator[Any, None]:
        """Pass results on; once one says the rights ended, close the socket after it is sent.

        The close runs when the handler closes this stream (``finally``): a handler that
        stops reading after an error result (a pre-execution error) closes it too.
        """
        code: int | None = None
        reason = ""
        try:
            async with aclosing(source):
                async for result in source:
                    code, reason = close_code(result), _reason(result)
                    yield result
                    if code is not None:
                        return
        finally:
            if code is not None:
                await self._connection.end(code, reason)


def _reason(result: ExecutionResult) -> str:
    errors = result.errors or []
    return (errors[0].message if errors else "")[:120]


class LiveConnection:
    """What both WebSocket protocol handlers share: per-operation contexts, ending on lost
    rights, closing at the credential's expiry."""

    websocket: Any
    context: Any
    schema: Any
    _ended: bool = False
    _expiry_task: asyncio.Task[None] | None = None

    connection_acknowledged: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # the protocol handler's, next in the MRO
        self.schema = OperationSchema(self.schema, self)

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)  # type: ignore[misc]
        if self.connection_acknowledged:
            self._watch_expiry()

    async def send_message(self, message: Any) -> None:
        if not self._ended:
            await super().send_message(message)  # type: ignore[misc]

    async def end(self, code: int, reason: str) -> None:
        """Close the socket once; later sends (a ``complete`` for a stream) are dropped."""
        if self._ended:
            return
        self._ended = True
        with suppress(Exception):
            await self.websocket.close(code=code, reason=reason)

    def _watch_expiry(self) -> None:
        context = self.context
        actor = context.maybe_actor_or_none if isinstance(context, Context) else None
        if actor is not None and actor.expires_at is not None:
            self._expiry_task = asyncio.create_task(self._close_at(context, actor.expires_at))

    async def _close_at(self, context: Context, expires_at: datetime) -> None:
        # The clock is a port (tests move it), so it is read again at least every few seconds
        # rather than trusted for one long sleep.
        remaining = (expires_at - context.now()).total_seconds()
        while remaining > 0:
            await asyncio.sleep(min(remaining, EXPIRY_POLL_SECONDS))
            remaining = (expires_at - context.now()).total_seconds()
        await self.end(UNAUTHORIZED_CLOSE, "The credential has expired.")

    async def _stop_expiry(self) -> None:
        if self._expiry_task is not None:
            self._expiry_task.cancel()
            with suppress(asyncio.CancelledError):
                await self._expiry_task


class TransportWSHandler(LiveConnection, BaseGraphQLTransportWSHandler[Context, None]):
    async def shutdown(self) -> None:
        await self._stop_expiry()
        await super().shutdown()


class LegacyWSHandler(LiveConnection, BaseGraphQLWSHandler[Context, None]):
    async def cleanup(self) -> None:
        await self._stop_expiry()
        await super().cleanup()
