"""Request bodies: read within a cap, parsed as JSON within a depth, refused with a code.

Every route that reads a body is covered by :class:`BodyLimit` (413 as soon as the count
passes the cap, whatever Content-Length claimed); JSON bodies go through
:func:`decode_request_json` (400 for invalid UTF-8, a bare scalar or absurd nesting).
"""

from __future__ import annotations

import orjson
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import ErrorCode

MAX_JSON_DEPTH = 64


class RequestRejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, code: ErrorCode = ErrorCode.BAD_REQUEST) -> Response:
    """An HTTP-level refusal with a GraphQL JSON body, so every client can read its code.

    Nothing was executed, so there is no ``data`` entry (GraphQL over HTTP).
    """
    body = {"errors": [{"message": message, "extensions": {"code": code.value}}]}
    return JSONResponse(body, status_code=status)


def json_depth(value: object) -> int:
    """How deeply arrays and objects nest in ``value`` (iteratively: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: list[object] = list(current.values())
        elif isinstance(current, list):
            children = current
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def decode_request_json(data: str | bytes) -> object:
    """JSON with a container at the top, nested at most :data:`MAX_JSON_DEPTH` deep."""
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:  # also invalid UTF-8 and nesting past orjson's own limit
        raise RequestRejected(400, "The body is not valid UTF-8 JSON.") from None
    if not isinstance(value, dict | list):
        raise RequestRejected(400, 'Send a JSON object: {"query": ..., "variables": {...}}.')
    if json_depth(value) > MAX_JSON_DEPTH:
        raise RequestRejected(400, f"The JSON nests more than {MAX_JSON_DEPTH} levels deep.")
    return value


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    """Cap the body of requests to ``path`` (a prefix) at ``max_bytes``, counted as it arrives."""

    def __init__(
        self, app: ASGIApp, *, path: str, max_bytes: int, what: str, multipart: bool = True
    ) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes
        self.what = what
        self.multipart = multipart  # False: multipart bodies have a cap of their own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._applies(scope):
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        await self._guarded(scope, receive, send)

    def _applies(self, scope: Scope) -> bool:
        if scope["path"] != self.path or scope["method"] not in {"POST", "PUT"}:
            return False
        content_type = dict(scope["headers"]).get(b"content-type", b"").lower()
        return self.multipart or not content_type.startswith(b"multipart/")

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen, started = 0, False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"The body is larger than {self.max_bytes:,} bytes ({self.what})."
        await error_response(413, message)(scope, receive, send)
