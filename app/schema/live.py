"""Live operations: WebSocket connections that never outlive their rights, and events whose
results are built once and shared by every subscriber that asked for the same thing.

Each operation on a socket gets a context of its own whose credentials are resolved again, so
it passes exactly the checks an HTTP request passes, against the current state. A result that
says the rights have ended (UNAUTHENTICATED, or FORBIDDEN because a membership ended) closes
the socket with the protocol's code once it is sent (4401, 4403), and a socket whose
credential expires is closed at expiry.

:class:`SharedEventExecutor` executes a subscription's selection on an event once per process
for each distinct (document, operation, variables the selection uses), and the transports
frame the shared, already encoded result (``app.events.fanout``) for each subscriber.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Hashable, Iterable, Iterator
from contextlib import aclosing, contextmanager, suppress
from datetime import datetime
from typing import Any

import orjson
from graphql import ExecutionResult as CoreResult
from graphql import (
    FieldNode,
    Node,
    OperationDefinitionNode,
    VariableNode,
    Visitor,
    print_ast,
    visit,
)
from starlette.websockets import WebSocketDisconnect
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.types import ExecutionResult

from app.errors import ErrorCode
from app.events.fanout import DirectSink, current_sink, encode, shared_payload, shared_results
from app.schema.context import Context
from app.schema.execution import AcyclicExecutionContext
from app.schema.types.event import EventType
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
        if self._ended:
            return
        frame = shared_frame(message)
        socket = getattr(self.websocket, "ws", None)  # Starlette's, under Strawberry's adapter
        if frame is None or socket is None:
            await super().send_message(message)  # type: ignore[misc]
            return
        sink = current_sink.get()  # set in the operation's task, which sends its results
        if sink is not None and sink.operation_id == message["id"]:
            sink.proven = True  # its results are the shared data alone: it may write them
        try:
            await socket.send_text(frame)
        except WebSocketDisconnect as gone:
            raise WebSocketDisconnected from gone

    @contextmanager
    def sinking(self, operation_id: str, kind: str) -> Iterator[None]:
        """The operation started inside the block gets its direct sink: its task is created
        there and inherits the context variable."""
        token = current_sink.set(self.direct_sink(operation_id, kind))
        try:
            yield
        finally:
            current_sink.reset(token)

    def direct_sink(self, operation_id: str, kind: str) -> DirectSink | None:
        """A writer of the operation's shared results as ``kind`` frames, byte for byte what
        ``send_message`` sends for them; None when the socket is not Starlette's."""
        socket = getattr(self.websocket, "ws", None)
        if socket is None:
            return None
        prefix = f'{{"id":{encode(operation_id)},"type":"{kind}","payload":'

        async def write(payload: str) -> None:
            if self._ended or not self.is_open(operation_id):
                return  # as send_message drops them
            try:
                await socket.send_text(prefix + payload + "}")
            except WebSocketDisconnect as gone:
                raise WebSocketDisconnected from gone

        return DirectSink(operation_id, write)

    def is_open(self, operation_id: str) -> bool:
        """The operation still takes results (not completed or stopped)."""
        raise NotImplementedError

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
    async def handle_subscribe(self, message: Any) -> None:
        with self.sinking(message["id"], "next"):
            await super().handle_subscribe(message)

    def is_open(self, operation_id: str) -> bool:
        operation = self.operations.get(operation_id)
        return operation is not None and not operation.completed

    async def shutdown(self) -> None:
        await self._stop_expiry()
        await super().shutdown()


class LegacyWSHandler(LiveConnection, BaseGraphQLWSHandler[Context, None]):
    async def handle_start(self, message: Any) -> None:
        with self.sinking(message["id"], "data"):
            await super().handle_start(message)

    def is_open(self, operation_id: str) -> bool:
        return operation_id in self.tasks

    async def cleanup(self) -> None:
        await self._stop_expiry()
        await super().cleanup()


def shared_frame(message: Any) -> str | None:
    """The wire text of a ``next`` (graphql-transport-ws) or ``data`` (graphql-ws) message
    whose result is shared: the operation's id framed around the result encoded once."""
    if not isinstance(message, dict) or message.get("type") not in ("next", "data"):
        return None
    payload = shared_payload(message.get("payload"))
    if payload is None or len(message) != 3:
        return None
    kind, operation_id = message["type"], encode(message["id"])
    return f'{{"id":{operation_id},"type":"{kind}","payload":{payload}}}'


class SharedEventExecutor(AcyclicExecutionContext):
    """Executes a subscription's selection on a stored event once per process for everyone
    who asked for the same thing; the others get that result (and its encoding) as it is.

    Only events are shared: what an ``Event`` selection makes of one depends on nothing but
    the event, the document and the variables the selection uses (the root field's
    arguments pick the stream; each subscriber's rights were checked before the event was
    handed to it).
    """

    _fanout_shape: Hashable | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        if "_fanout_shape" not in self.__dict__:
            self._fanout_shape = selection_shape(
                self.operation, self.fragment_definitions.values(), self.variable_values.coerced
            )
            sink = current_sink.get()
            if sink is not None:
                sink.shape = self._fanout_shape  # later events can skip executing
        return super().build_per_event_executor(payload)

    def execute_operation(self, serially: bool | None = None) -> Any:
        root = self.root_value
        if self._fanout_shape is None or not isinstance(root, EventType) or not root.event_id:
            return super().execute_operation(serially)
        key = (root.event_id, self._fanout_shape)
        found = shared_results.get(key)
        if found is not None:
            return CoreResult(data=found)
        shared_results.executed()
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return _kept_later(key, result)
        return _kept(key, result)


def _kept(key: Hashable, result: Any) -> Any:
    """A clean result becomes the shared one; one with errors stays this subscriber's own."""
    clean = isinstance(result, CoreResult) and not result.errors and not result.extensions
    if clean and isinstance(result.data, dict):
        return CoreResult(data=shared_results.keep(key, result.data))
    return result


async def _kept_later(key: Hashable, pending: Awaitable[Any]) -> Any:
    return _kept(key, await pending)


class _VariableNames(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_variable(self, node: VariableNode, *_args: Any) -> None:
        self.names.add(node.name.value)


def selection_shape(
    operation: OperationDefinitionNode, fragments: Iterable[Node], variables: dict[str, Any]
) -> Hashable | None:
    """What decides an event's result: the document, the operation and the values of the
    variables its selection uses (not those only given to the root field: they pick the
    stream). None when it cannot be told (then nothing is shared)."""
    fragments, names = tuple(fragments), _VariableNames()
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            names.names.update(variables)  # a fragment at the root: every variable counts
            break
        parts: list[Node] = [*(selection.directives or ())]
        if selection.selection_set is not None:
            parts.append(selection.selection_set)
        for part in parts:
            visit(part, names)
    for whole in (*(operation.directives or ()), *fragments):
        visit(whole, names)
    used = {name: value for name, value in variables.items() if name in names.names}
    try:
        values = orjson.dumps(used, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):
        return None
    if operation.loc is not None:
        source = operation.loc.source.body
    else:
        source = "\n".join(print_ast(node) for node in (operation, *fragments))
    return (source, operation.name.value if operation.name else "", values)
