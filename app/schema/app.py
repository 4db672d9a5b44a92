"""The Strawberry ASGI application bound to the per-request :class:`Context`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.types.unset import UnsetType

from app.auth.credentials import read_connection_params, read_credentials
from app.http.request_id import request_id_of
from app.schema.context import Context


class GraphQLApp(GraphQL[Context, None]):
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
