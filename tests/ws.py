"""A graphql-transport-ws client over a real WebSocket (ASGI transport in tests)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette

_ids = itertools.count(1)


def _connect(client: httpx.AsyncClient) -> AbstractAsyncContextManager[AsyncWebSocketSession]:
    return aconnect_ws("http://testserver/graphql", client, subprotocols=["graphql-transport-ws"])


@asynccontextmanager
async def ws_session(app: Starlette, token: str | None) -> AsyncIterator[AsyncWebSocketSession]:
    async with (
        httpx.AsyncClient(
            transport=ASGIWebSocketTransport(app), base_url="http://testserver"
        ) as client,
        _connect(client) as ws,
    ):
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send_json({"type": "connection_init", "payload": payload})
        ack = await ws.receive_json(timeout=10)
        assert ack["type"] == "connection_ack", ack
        yield ws


async def subscribe_all(
    ws: AsyncWebSocketSession, query: str, variables: dict[str, Any], timeout: float = 60
) -> list[dict[str, Any]]:
    """Every ``next`` payload until ``complete`` (an ``error`` message fails)."""
    sid = str(next(_ids))
    await ws.send_json(
        {"id": sid, "type": "subscribe", "payload": {"query": query, "variables": variables}}
    )
    received: list[dict[str, Any]] = []
    while True:
        message = await ws.receive_json(timeout=timeout)
        if message.get("id") != sid:
            continue
        if message["type"] == "next":
            received.append(message["payload"])
        elif message["type"] == "complete":
            return received
        else:
            raise AssertionError(message)
