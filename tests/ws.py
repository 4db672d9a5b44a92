"""A graphql-transport-ws client over a real WebSocket (ASGI transport in tests)."""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import uvicorn
from httpx_ws import AsyncWebSocketSession, aconnect_ws
from httpx_ws.transport import ASGIWebSocketTransport
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from app.services.stream_readers import readers

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


@asynccontextmanager
async def served_in_process(app: Starlette, send_buffer: int | None = None) -> AsyncIterator[str]:
    """The app behind a real uvicorn server on a free loopback port (real TCP, real streaming
    HTTP and WebSockets). ``send_buffer`` caps the kernel send buffer of accepted sockets
    (they inherit the listening socket's)."""
    listener = socket.socket()
    if send_buffer is not None:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        listener.close()


def listening(hub: Any) -> int:
    """Subscribers waiting for the hub's hints: its own listeners, where a shared stream reader
    (one listener) stands for each of its followers."""
    shared = [r for r in readers() if r.listening and r.runtime.hub is hub]
    count: int = hub.listener_count
    return count - len(shared) + sum(len(r.followers) for r in shared)


async def until_listening(hub: Any, count: int = 1, timeout: float = 10) -> None:
    """Wait until ``count`` subscribers listen to the event hub. A follower "from now on" has
    read where now is once it listens: only then may a test write what it must receive."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while listening(hub) < count:
        assert loop.time() < deadline, f"{listening(hub)} of {count} listeners in {timeout} s"
        await asyncio.sleep(0.01)


async def tcp_session(url: str, token: str, **options: Any) -> ClientConnection:
    """A graphql-transport-ws session over real TCP (the ``websockets`` client), acknowledged;
    ``options`` go to ``connect``."""
    ws = await connect(url, subprotocols=["graphql-transport-ws"], **options)  # type: ignore[list-item]
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await ws.send(json.dumps(init))
    assert json.loads(await ws.recv())["type"] == "connection_ack"
    return ws


async def tcp_subscribe(ws: ClientConnection, sid: str, query: str, variables: Any) -> None:
    payload = {"query": query, "variables": variables}
    await ws.send(json.dumps({"id": sid, "type": "subscribe", "payload": payload}))
