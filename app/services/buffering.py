"""A bounded buffer between reading a stream and sending it to one subscriber.

Reading runs ahead in a task of its own, at most ``capacity`` events ahead of the sender. A
subscriber that takes nothing for ``grace`` seconds while its buffer is full has overflowed:
the buffer is dropped at once (its memory, its hub listener and its read loop with it) and
the subscriber's next result is ``SUBSCRIBER_TOO_SLOW`` with ``afterSeq``, the position of the
last event it was given, so it resumes where it stopped without losing one. Nobody else waits
for it: reads are shared, never the sending.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Generic, TypeVar

from app.errors import SubscriberTooSlowError

T = TypeVar("T")
Guard = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Bounds:
    capacity: int  # events read ahead of the sender, at most
    grace: float | None  # seconds a full buffer waits for the sender; None: wait as long


class _End:
    pass


class _Overflow:
    pass


END, OVERFLOW = _End(), _Overflow()
Item = list[T] | BaseException | _End | _Overflow


class _Overflowed(Exception):
    pass


Room = Callable[[], Awaitable[int]]
Source = Callable[[Room], AsyncGenerator[list[T], None]]


class _Buffer(Generic[T]):
    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self._items: deque[Item[T]] = deque()
        self._size = 0
        self._arrived = asyncio.Event()
        self._taken = asyncio.Event()

    def push(self, item: Item[T]) -> None:
        if isinstance(item, list):
            if not item and self._items and isinstance(self._items[-1], list):
                return  # a re-check is already due before the next send
            self._size += len(item)
        self._items.append(item)
        self._arrived.set()

    async def room(self) -> int:
        """How many events may be read now; waits while the buffer is full, and overflows
        when the sender takes nothing for the grace."""
        while self._size >= self.bounds.capacity:
            self._taken.clear()
            try:
                async with asyncio.timeout(self.bounds.grace):  # wait_for can swallow a cancel
                    await self._taken.wait()
            except TimeoutError:
                raise _Overflowed from None
        return self.bounds.capacity - self._size

    async def take(self) -> Item[T]:
        while not self._items:
            self._arrived.clear()
            await self._arrived.wait()
        item = self._items.popleft()
        if isinstance(item, list):
            self._size -= len(item)
        self._taken.set()
        return item

    async def fill(self, source: Source[T]) -> None:
        try:
            async with aclosing(source(self.room)) as pages:
                async for page in pages:
                    self.push(page)
            self.push(END)
        except asyncio.CancelledError:
            raise
        except _Overflowed:
            self._items.clear()  # dropped at once: the subscriber resumes from the store
            self._size = 0
            self.push(OVERFLOW)
        except Exception as error:
            self.push(error)


async def buffered(
    source: Source[T],
    *,
    bounds: Bounds,
    guard: Guard,
    position: Callable[[T], int],
    after: int,
) -> AsyncIterator[T]:
    """The events of the pages ``source`` reads, one by one. The source asks ``room`` how many
    it may read before each read; ``guard`` runs before each page is sent (an empty page asks
    for that check alone)."""
    buffer: _Buffer[T] = _Buffer(bounds)
    reader = asyncio.create_task(buffer.fill(source))
    last = after
    try:
        while True:
            item = await buffer.take()
            if isinstance(item, _End):
                return
            if isinstance(item, _Overflow):
                raise SubscriberTooSlowError(
                    "This subscriber fell too far behind; subscribe again with `afterSeq`.",
                    afterSeq=last,
                )
            if isinstance(item, BaseException):
                raise item
            await guard()
            for event in item:
                last = position(event)
                yield event
    finally:
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
