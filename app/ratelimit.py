"""Rate limits through one shared limiter (the ``limits`` library), per user or any other key.

Memory storage in the embedded default; Redis when ``ADSTUDIO_REDIS_URL`` is set, so every
server process counts against the same windows.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio import ConnectionPool

from app.errors import RateLimitedError


class RateLimiter:
    def __init__(self, storage: Storage, pool: ConnectionPool | None = None) -> None:
        self._storage = storage
        self._pool = pool
        self._limiter = MovingWindowRateLimiter(storage)

    @classmethod
    def from_url(cls, redis_url: str | None) -> RateLimiter:
        if not redis_url:
            return cls(MemoryStorage())
        pool = ConnectionPool.from_url(redis_url)
        scheme, _, rest = redis_url.partition("://")
        storage = RedisStorage(
            f"async+{scheme}://{rest}",
            implementation="redispy",
            connection_pool=pool,  # type: ignore[arg-type]  # passed through to redis-py
        )
        return cls(storage, pool)

    async def close(self) -> None:
        # The memory storage expires windows in a task of its own: stop it with the app, or it
        # may run on into a closing event loop and fail there.
        timer = getattr(self._storage, "timer", None)
        if isinstance(timer, asyncio.Task) and not timer.done():
            timer.cancel()
            await asyncio.gather(timer, return_exceptions=True)
        if self._pool is not None:
            await self._pool.aclose()

    async def hit(
        self, action: str, key: uuid.UUID | str, limit: str, *, what: str | None = None
    ) -> None:
        """Count one ``action`` by ``key`` (a user, an address...); RATE_LIMITED past ``limit``.

        The error carries ``retryAfter``: seconds until the window admits the next attempt.
        """
        item = parse(limit)
        name = key.hex if isinstance(key, uuid.UUID) else key
        if await self._limiter.hit(item, action, name):
            return
        raise RateLimitedError(
            f"Too many {what or action + ' requests'}: the limit is {limit}.",
            retryAfter=await self._retry_after(item, action, name),
        )

    async def _retry_after(self, item: RateLimitItem, action: str, name: str) -> int:
        stats = await self._limiter.get_window_stats(item, action, name)
        return max(1, math.ceil(stats.reset_time - time.time()))
