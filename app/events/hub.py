"""EventHub adapters. An announcement only says "stream X has news"; subscribers then read the
stored events (the truth) after their last sequence number, so a lost hint costs latency, never
an event."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol

import structlog

log = structlog.get_logger("app.events")
CHANNEL = "adstudio_events"


class Hints:
    """A subscriber's mailbox: one pending wake-up at most (hints are idempotent)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def wake(self) -> None:
        self._event.set()

    async def wait(self, seconds: float) -> bool:
        """True when woken, False on timeout (then the caller re-reads anyway)."""
        try:
            # Not wait_for: on this Python it can swallow a cancel that arrives with the hint.
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            return False
        finally:
            self._event.clear()
        return True


class EventHub(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, streams: set[str]) -> None: ...

    def listen(self, stream: str) -> contextlib.AbstractAsyncContextManager[Hints]: ...


class LocalHub:
    """In-process fan-out: the embedded default, and the local end of the distributed hubs."""

    def __init__(self) -> None:
        self._listeners: dict[str, set[Hints]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.wake_all()

    async def publish(self, streams: set[str]) -> None:
        self.deliver(streams)

    def deliver(self, streams: set[str]) -> None:
        for stream in streams:
            for hints in list(self._listeners.get(stream, ())):
                hints.wake()

    def wake_all(self) -> None:
        for listeners in list(self._listeners.values()):
            for hints in list(listeners):
                hints.wake()

    @property
    def listener_count(self) -> int:
        return sum(len(v) for v in self._listeners.values())

    @asynccontextmanager
    async def listen(self, stream: str) -> AsyncIterator[Hints]:
        hints = Hints()
        self._listeners[stream].add(hints)
        try:
            yield hints
        finally:
            self._listeners[stream].discard(hints)
            if not self._listeners[stream]:
                del self._listeners[stream]


class RedisHub(LocalHub):
    """Redis pub/sub between processes; reconnects, and wakes everyone after a reconnect."""

    def __init__(self, url: str) -> None:
        super().__init__()
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(_forever(self._listen_once, "redis"))

    async def stop(self) -> None:
        await _cancel(self._task)
        await self._redis.aclose()
        await super().stop()

    async def publish(self, streams: set[str]) -> None:
        self.deliver(streams)
        for stream in streams:
            await self._redis.publish(CHANNEL, stream)

    async def _listen_once(self) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            self.wake_all()  # whatever was missed while (re)connecting gets re-read
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self.deliver({_text(message["data"])})


class PostgresHub(LocalHub):
    """PostgreSQL LISTEN/NOTIFY between processes (no Redis needed)."""

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self._dsn = dsn
        self._task: asyncio.Task[None] | None = None
        self._publisher: Any = None
        self._publishing = asyncio.Lock()  # one publisher connection, used by one at a time
        self._stopped = False

    async def start(self) -> None:
        self._task = asyncio.create_task(_forever(self._listen_once, "postgres"))

    def is_stopped(self) -> bool:
        return self._stopped

    async def stop(self) -> None:
        self._stopped = True
        await _cancel(self._task)
        async with self._publishing:
            if self._publisher is not None:
                await self._publisher.close()
                self._publisher = None
        await super().stop()

    async def publish(self, streams: set[str]) -> None:
        import asyncpg  # type: ignore[import-untyped]

        self.deliver(streams)
        # Announcements after concurrent commits arrive together: without the lock, two would
        # each open a publisher (one left unclosed) or run statements on one at the same time.
        async with self._publishing:
            if self.is_stopped():
                return
            if self._publisher is None or self._publisher.is_closed():
                self._publisher = await asyncpg.connect(self._dsn)
                if self.is_stopped():  # stopped while connecting: do not leave it open
                    await self._publisher.close()
                    self._publisher = None
                    return
            for stream in streams:
                await self._publisher.execute("SELECT pg_notify($1, $2)", CHANNEL, stream)

    async def _listen_once(self) -> None:
        import asyncpg

        connection = await _connect_or_close(asyncpg.connect(self._dsn))
        closed = asyncio.Event()
        connection.add_termination_listener(lambda _c: closed.set())
        try:
            await connection.add_listener(
                CHANNEL, lambda _c, _p, _ch, payload: self.deliver({payload})
            )
            self.wake_all()
            await closed.wait()
        finally:
            await connection.close()


async def _connect_or_close(connecting: Any) -> Any:
    """Connect; if cancelled meanwhile, close the connection once it arrives (no leak)."""
    task = asyncio.ensure_future(connecting)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            await (await task).close()
        raise


async def _forever(once: Callable[[], Any], name: str) -> None:
    delay = 0.5
    while True:
        try:
            await once()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("event hub connection lost; reconnecting", hub=name, error=str(error))
        await asyncio.sleep(delay)
        delay = min(delay * 2, 10.0)


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _text(data: Any) -> str:
    return data.decode() if isinstance(data, bytes) else str(data)
