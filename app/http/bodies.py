"""Request bodies: read within a cap, parsed as JSON within a depth, refused with a code.

Every route that reads a body is covered by :class:`BodyLimit` (413 as soon as the count
passes the cap, whatever Content-Length claimed); JSON bodies go through
:func:`decode_request_json` (400 for invalid UTF-8, a bare scalar or absurd nesting).
"""

from __future__ import annotations

from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Cap:
    """At most ``max_bytes`` of body; ``what`` names the setting (or the way) past it.
    ``preflight``: one of :data:`PREFLIGHT_HEADERS` must be present (CSRF)."""

    max_bytes: int
    what: str
    preflight: bool = False


PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name", b"graphql-preflight")
"""Non-simple headers browsers send only after a CORS preflight: a multipart form is a simple
request a hostile page can send cross-site, so a multipart GraphQL request needs one."""


class BodyLimit:
    """Cap the bodies of POST and PUT requests, counted as they arrive, by path and by whether
    they are multipart: ``caps[(path, multipart)]``. One layer for every route that reads a
    body; the headers are read once."""

    def __init__(self, app: ASGIApp, *, caps: dict[tuple[str, bool], Cap]) -> None:
        self.app = app
        self.caps = caps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap = self._cap(scope)
        if cap is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if cap.preflight and not any(headers.get(name) for name in PREFLIGHT_HEADERS):
            message = "Multipart requests need an Apollo-Require-Preflight header."
            await error_response(400, message)(scope, receive, send)
            return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > cap.max_bytes:
            await _refuse(cap, scope, receive, send)
            return
        await self._guarded(cap, scope, receive, send)

    def _cap(self, scope: Scope) -> Cap | None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT"}:
            return None
        multipart = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                multipart = value.lower().startswith(b"multipart/")
                break
        return self.caps.get((scope["path"], multipart))

    async def _guarded(self, cap: Cap, scope: Scope, receive: Receive, send: Send) -> None:
        seen, started = 0, False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > cap.max_bytes:
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
                await _refuse(cap, scope, receive, send)


async def _refuse(cap: Cap, scope: Scope, receive: Receive, send: Send) -> None:
    message = f"The body is larger than {cap.max_bytes:,} bytes ({cap.what})."
    await error_response(413, message)(scope, receive, send)
