"""A request id for every HTTP request: accepted from ``X-Request-ID`` when sane, else made."""

from __future__ import annotations

import itertools
import os
import re
import secrets

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-request-id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(scope: Scope) -> str:
    return str(scope.get("state", {}).get("request_id", ""))


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        request_id = _incoming(scope) or _next_id()
        scope.setdefault("state", {})["request_id"] = request_id
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((HEADER, encoded))
            await send(message)

        # A WebSocket's frames go straight out: only an HTTP reply carries the header.
        sender = send_with_id if scope["type"] == "http" else send
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            await self.app(scope, receive, sender)


_PROCESS = [secrets.token_hex(8)]  # this process's random half (renewed in a forked child)
_COUNTER = itertools.count()
os.register_at_fork(after_in_child=lambda: _PROCESS.__setitem__(0, secrets.token_hex(8)))


def _next_id() -> str:
    """32 hex digits, unique: this process's random half and a count (a random id per request
    would cost a system call each; request ids correlate logs, they guard nothing)."""
    return f"{_PROCESS[0]}{next(_COUNTER) & 0xFFFF_FFFF_FFFF_FFFF:016x}"


def _incoming(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == HEADER:
            text = value.decode("latin-1")
            return text if _SANE.match(text) else None
    return None
