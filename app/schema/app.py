"""The Strawberry ASGI application bound to the per-request :class:`Context`."""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from cross_web import HTTPException
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.schema.exceptions import (
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UnsetType

from app.auth.credentials import read_connection_params, read_credentials
from app.errors import ErrorCode
from app.http.bodies import RequestRejected, decode_request_json, error_response
from app.http.request_id import request_id_of
from app.reads.lane import ready_reply, remember
from app.schema.context import Context
from app.schema.live import LegacyWSHandler, TransportWSHandler

log = structlog.get_logger("app.http")
SUBSCRIPTION_TRANSPORTS = (
    "Subscriptions are not served as plain requests: use a WebSocket to /graphql"
    " (graphql-transport-ws or graphql-ws) or Server-Sent Events at POST /graphql/stream."
)


class GraphQLApp(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def encode_json(self, data: object) -> str:
        """orjson: fast, and it embeds the compiled read path's JSON as it came from SQL.

        Text, not bytes: the WebSocket handlers send what this returns, and graphql-ws
        clients accept text frames only."""
        return orjson.dumps(data).decode()

    def parse_json(self, data: str | bytes) -> Any:
        try:
            return decode_request_json(data)
        except RequestRejected as refused:
            raise HTTPException(refused.status, refused.message) from None

    async def parse_http_body(self, request: Any) -> Any:
        parsed = await super().parse_http_body(request)
        for item in parsed if isinstance(parsed, list) else [parsed]:
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(400, "`operationName` must be a string or null.")
        return parsed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope=scope, receive=receive)
        try:
            response = await ready_reply(request, self._context_of) or await self.run(request)
        except HTTPException as error:
            response = error_response(error.status_code, error.reason)
        except ClientDisconnect:
            return  # the caller left while sending its request: there is no one to answer
        except (DBAPIError, PoolTimeout) as error:  # before any field ran (its credentials)
            log.warning("the database could not be reached", reason=type(error).__name__)
            response = error_response(
                503,
                "The database is not reachable right now; try again shortly.",
                ErrorCode.SERVICE_UNAVAILABLE,
            )
            response.headers["Retry-After"] = "1"
        await response(scope, receive, send)

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: Any,
    ) -> ExecutionResult:
        """Queries and mutations only: a subscription sent as a plain request is refused
        with the transports that serve it (Strawberry would run it as a query)."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        context.raw_json = True  # a plain reply, encoded by encode_json
        if not self.allow_queries_via_get and request_adapter.method == "GET":
            allowed -= {OperationType.QUERY}
        try:
            result = await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_TRANSPORTS) from error
            status = 405 if request_adapter.method == "GET" else 400
            raise HTTPException(
                status, error.as_http_error_reason(request_adapter.method)
            ) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request.") from error
        remember(context, result.errors, result.extensions)
        return result

    async def _context_of(self, request: Request) -> Context:
        return await self.get_context(request, None)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket | None
    ) -> Context:
        context = Context(
            runtime=request.app.state.runtime,
            request=request,
            response=response,
            credentials=read_credentials(request.headers, request.cookies),
            request_id=request_id_of(request.scope),
        )
        await context.authenticate()
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """WebSocket: authenticate once from ``connection_params`` (Origins are checked before)."""
        context.credentials = read_connection_params(context.connection_params)
        await context.authenticate()
        if context.credentials is not None and context.maybe_actor_or_none is None:
            raise ConnectionRejectionError({"reason": "invalid credentials"})
        return None  # acknowledge without a payload
