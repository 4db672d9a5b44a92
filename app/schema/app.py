"""The Strawberry ASGI application bound to the per-request :class:`Context`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app.auth.credentials import read_credentials
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
