"""Guards for GraphQL multipart requests (file uploads) before any byte is parsed.

- CSRF: a multipart form is a "simple" request a hostile page can send cross-site, so one of
  the non-simple headers ``Apollo-Require-Preflight``, ``X-Apollo-Operation-Name`` or
  ``GraphQL-Preflight`` must be present (browsers only send those after a CORS preflight).
- Size: the body is cut off at ``max_bytes`` while it streams (413), never buffered whole.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PREFLIGHT_HEADERS = (b"apollo-require-preflight", b"x-apollo-operation-name", b"graphql-preflight")


class BodyTooLarge(Exception):
    pass


class MultipartGuard:
    def __init__(self, app: ASGIApp, *, path: str, max_bytes: int) -> None:
        self.app = app
        self.path = path
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path or not _is_multipart(scope):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if not any(headers.get(name) for name in PREFLIGHT_HEADERS):
            await _reject(send, 400, "Multipart requests need an Apollo-Require-Preflight header.")
            return
        length = headers.get(b"content-length", b"")
        if length.isdigit() and int(length) > self.max_bytes:
            await _reject(send, 413, "The request body is too large; use createAssetUpload.")
            return
        await self._guarded(scope, receive, send)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        seen = 0
        started = False

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
                await _reject(send, 413, "The request body is too large; use createAssetUpload.")


def _is_multipart(scope: Scope) -> bool:
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    return bool(
        scope["method"] == "POST" and content_type.lower().startswith(b"multipart/form-data")
    )


async def _reject(send: Send, status: int, message: str) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}]})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body.encode()})
