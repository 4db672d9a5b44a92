"""How one process tells the others that users' credentials changed.

In-process (no Redis): every change is already made here, so there is nothing to send. With
several processes and no Redis, a revocation takes effect at once where it was made and, on
the others, when their entries reach the cache's TTL (``ADSTUDIO_CREDENTIAL_CACHE_SECONDS``,
which 0 turns off).

Redis: one script increments a counter and publishes ``"<generation> <user hex>,..."`` on a
channel, so messages carry consecutive numbers. A subscriber that sees a gap, or polls the
counter (every second at most) and finds it ahead of what it applied, has lost a message and
clears its whole cache; while it is not subscribed its cache serves nothing. A publisher waits
(briefly) until its own subscriber has received the message, by which time Redis has written
it to every subscriber: a reply never runs ahead of the revocation it reports.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

log = structlog.get_logger("app.auth.invalidation")
CHANNEL = "adstudio:credentials:changed"
COUNTER = "adstudio:credentials:generation"
POLL_SECONDS = 1.0
RETRY_SECONDS = 0.5
ECHO_SECONDS = 0.5
# Atomic, so the numbers on the channel are consecutive and in order.
PUBLISH = """
local generation = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], generation .. ' ' .. ARGV[2])
return generation
"""

Forget = Callable[[Iterable[uuid.UUID]], None]
Reset = Callable[[], None]


class InvalidationFeed(Protocol):
    @property
    def live(self) -> bool:
        """True while every invalidation made elsewhere is being received."""
        ...

    async def start(self, forget: Forget, reset: Reset) -> None: ...

    async def publish(self, user_ids: frozenset[uuid.UUID]) -> None: ...

    async def stop(self) -> None: ...


class LocalFeed:
    """One process: invalidations are applied where they are made."""

    live = True

    async def start(self, forget: Forget, reset: Reset) -> None:
        return None

    async def publish(self, user_ids: frozenset[uuid.UUID]) -> None:
        return None

    async def stop(self) -> None:
        return None


class RedisFeed:
    def __init__(self, url: str, poll_seconds: float = POLL_SECONDS) -> None:
        self._redis: Redis = Redis.from_url(url, socket_connect_timeout=2.0)
        self._poll = poll_seconds
        self._live = False
        self._applied = 0
        self._echoes: list[tuple[int, asyncio.Future[None]]] = []
        self._task: asyncio.Task[None] | None = None
        self._forget: Forget = _ignore
        self._reset: Reset = _nothing

    @property
    def live(self) -> bool:
        return self._live

    async def start(self, forget: Forget, reset: Reset) -> None:
        self._forget, self._reset = forget, reset
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._redis.aclose()

    async def publish(self, user_ids: frozenset[uuid.UUID]) -> None:
        users = ",".join(sorted(user.hex for user in user_ids))
        try:
            generation = int(await self._redis.eval(PUBLISH, 1, COUNTER, CHANNEL, users))
        except (RedisError, OSError) as error:
            log.warning("a credential change was not announced", reason=type(error).__name__)
            return
        await self._echo(generation)

    async def _echo(self, generation: int) -> None:
        if not self._live or self._applied >= generation:
            return
        echo = asyncio.get_running_loop().create_future()
        entry = (generation, echo)
        self._echoes.append(entry)
        try:
            await asyncio.wait_for(echo, ECHO_SECONDS)
        except TimeoutError:
            log.warning("a credential change was not echoed", generation=generation)
        finally:
            if entry in self._echoes:
                self._echoes.remove(entry)

    async def _listen(self) -> None:
        while True:
            try:
                await self._subscribed()
            except (RedisError, OSError, ValueError) as error:
                log.warning("credential changes are not being received", reason=str(error))
            finally:
                self._live = False
                self._reset()
            await asyncio.sleep(RETRY_SECONDS)

    async def _subscribed(self) -> None:
        async with self._redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            while await pubsub.get_message(timeout=5.0) is None:
                pass  # the confirmation: from here on no message is missed
            self._applied = await self._counter()
            self._reset()
            self._live = True
            while True:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=self._poll
                )
                if message is None:
                    await self._check_counter()
                elif message.get("type") == "message":
                    self._apply(message["data"])

    async def _counter(self) -> int:
        return int(await self._redis.get(COUNTER) or 0)

    async def _check_counter(self) -> None:
        current = await self._counter()
        if current > self._applied:  # a message was lost (or is in flight): start again
            self._reset()
            self._advance(current)

    def _apply(self, data: Any) -> None:
        text = data.decode() if isinstance(data, bytes) else str(data)
        number, _, users = text.partition(" ")
        generation = int(number)
        if generation > self._applied + 1:
            self._reset()  # a gap: what was between is lost
        self._forget(uuid.UUID(hex=user) for user in users.split(",") if user)
        self._advance(generation)

    def _advance(self, generation: int) -> None:
        self._applied = max(self._applied, generation)
        waiting = []
        for wanted, echo in self._echoes:
            if wanted <= self._applied:
                if not echo.done():
                    echo.set_result(None)
            else:
                waiting.append((wanted, echo))
        self._echoes = waiting


def _ignore(_users: Iterable[uuid.UUID]) -> None:
    return None


def _nothing() -> None:
    return None
