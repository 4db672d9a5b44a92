"""One reader per stream per process: each new page of a stream is read once, on the hub's
hint, and offered to every follower of that stream in this process.

The reader holds the stream's only hub listener and its position (``tail``: everything up to
it has been read and offered). A follower keeps what is its own:

- its position: it takes only events after the last one it handed on (nothing repeats), and
  reads the store itself for whatever it was not offered (nothing is lost: a late joiner, a
  resumer with an older ``afterSeq``, a follower whose inbox was full);
- its bounded inbox: a follower whose inbox stays full for the grace, taking nothing, has
  overflowed. It is dropped from the reader at once and its next page is
  ``SUBSCRIBER_TOO_SLOW`` with ``afterSeq``, the last event it handed on;
- the rights re-check its caller gives, run once per wake-up before anything is handed on.

When the stream has finished, the reader reads what is left, ends every follower (each first
catches up to the reader's last position) and stops; the next follower starts a new reader.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from dataclasses import dataclass

from app.errors import SubscriberTooSlowError
from app.events.hub import Hints
from app.models import JobEvent
from app.runtime import Runtime
from app.services.buffering import Bounds, Guard

PAGE = 500
Read = Callable[[int, int], Awaitable[list[JobEvent]]]  # events after a position, at most n


@dataclass(frozen=True)
class Spec:
    """What a reader follows; readers with the same ``key`` (in one runtime) are one."""

    key: Hashable
    stream: str  # the hub's name for the stream
    read: Read
    position: Callable[[JobEvent], int]
    finished: Callable[[], Awaitable[bool]] | None = None  # None: the stream never ends
    heartbeat: float = 25.0  # seconds without a hint before everyone re-checks anyway


_readers: dict[tuple[int, Hashable], StreamReader] = {}


class Follower:
    """One subscriber of a shared reader: its position, its inbox and its end."""

    def __init__(self, reader: StreamReader, after: int, bounds: Bounds) -> None:
        self.reader = reader
        self.position = after  # the last event handed on
        self.bounds = bounds
        self._pages: deque[tuple[int, list[JobEvent]]] = deque()
        self._held = 0  # events in the inbox
        self._taken = 0  # pages taken so far (the grace watches this)
        self._arrived: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._behind = True  # it may lack what was read before it joined
        self._overflowed = False
        self._ended = False
        self._error: BaseException | None = None

    def offer(self, after: int, events: list[JobEvent]) -> None:
        """The page of the stream after ``after`` (run by the reader: no waiting here)."""
        room = self.bounds.capacity - self._held
        if len(events) > room:
            events = events[: max(room, 0)]  # the rest is read from the store if it catches up
            self._behind = True
            self._full()
        if not events and self._pages:
            return  # a re-check is already due before the next page
        self._pages.append((after, events))
        self._held += len(events)
        self._wake()

    def end(self) -> None:
        self._ended = True
        self._wake()

    def fail(self, error: BaseException) -> None:
        self._error = error
        self._wake()

    def _wake(self) -> None:
        if self._arrived is not None and not self._arrived.done():
            self._arrived.set_result(None)

    def _full(self) -> None:
        if self._timer is None and self.bounds.grace is not None and not self._overflowed:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_later(self.bounds.grace, self._check, self._taken)

    def _check(self, taken: int) -> None:
        """The grace is over: a follower that is still full and took nothing overflows."""
        self._timer = None
        if self._taken != taken:
            if self._held >= self.bounds.capacity:
                self._full()  # it is moving, only slowly: another grace
            return
        self._overflowed = True
        self._pages.clear()  # dropped at once: the subscriber resumes from the store
        self._held = 0
        self.reader.leave(self)
        self._wake()

    async def take(self) -> tuple[int, list[JobEvent]] | None:
        """The next page to hand on, or None at the stream's end."""
        while True:
            if self._overflowed:
                raise SubscriberTooSlowError(
                    "This subscriber fell too far behind; subscribe again with `afterSeq`.",
                    afterSeq=self.position,
                )
            if self._error is not None:
                raise self._error
            if self._pages:
                after, events = self._pages.popleft()
                self._held -= len(events)
                self._taken += 1
                return after, events
            if self._behind:
                self._behind = False
                return self.reader.tail, []  # not offered everything: read what is missing
            if self._ended:
                return None
            self._arrived = asyncio.get_running_loop().create_future()
            try:
                await self._arrived
            finally:
                self._arrived = None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.reader.leave(self)


class StreamReader:
    """The one reader of a stream in this process, alive while it has followers."""

    def __init__(self, runtime: Runtime, spec: Spec, tail: int) -> None:
        self.runtime = runtime
        self.spec = spec
        self.tail = tail  # read after here next; everything before it has been offered
        self.reads = 0
        self.followers: set[Follower] = set()
        self.listening = False  # its hub listener is registered
        self._key = (id(runtime), spec.key)
        self._task: asyncio.Task[None] | None = None

    def join(self, after: int, bounds: Bounds) -> Follower:
        follower = Follower(self, after, bounds)
        self.followers.add(follower)
        if self._task is None:
            self._task = self.runtime.spawn(self._run())
        return follower

    def leave(self, follower: Follower) -> None:
        self.followers.discard(follower)
        if not self.followers:
            self._retire()
            if self._task is not None:
                self._task.cancel()

    def _retire(self) -> None:
        if _readers.get(self._key) is self:
            del _readers[self._key]

    async def _run(self) -> None:
        try:
            async with self.runtime.hub.listen(self.spec.stream) as hints:
                self.listening = True
                await self._follow(hints)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            self._retire()
            for follower in list(self.followers):
                follower.fail(error)

    async def _follow(self, hints: Hints) -> None:
        woken = True  # the first read is offered even when empty: joiners re-check at once
        while True:
            if len(await self._read(woken)) == PAGE:
                woken = False
                continue  # more may be waiting: no need for a hint
            if self.spec.finished is not None and await self.spec.finished():
                while len(await self._read(False)) == PAGE:
                    pass  # anything written meanwhile
                self._retire()
                for follower in list(self.followers):
                    follower.end()
                return
            await hints.wait(self.spec.heartbeat)
            woken = True

    async def _read(self, woken: bool) -> list[JobEvent]:
        after = self.tail
        events = await self.spec.read(after, PAGE)
        self.reads += 1
        if events:
            self.tail = self.spec.position(events[-1])
        if events or woken:
            for follower in list(self.followers):
                follower.offer(after, events)
        return events


def reader_for(runtime: Runtime, spec: Spec, after: int) -> StreamReader:
    """This process's reader of the stream, started by its first follower."""
    key = (id(runtime), spec.key)
    reader = _readers.get(key)
    if reader is None:
        reader = _readers[key] = StreamReader(runtime, spec, after)
    return reader


async def follow_shared(
    runtime: Runtime, spec: Spec, *, guard: Guard, after: int, bounds: Bounds
) -> AsyncIterator[list[JobEvent]]:
    """The stream's events after ``after``, page by page and in order, through this process's
    reader of the stream; ``guard`` runs at every wake-up, before anything is handed on."""
    follower = reader_for(runtime, spec, after).join(after, bounds)
    position = spec.position
    try:
        while (item := await follower.take()) is not None:
            after, events = item
            await guard()
            while after > follower.position:  # a gap: what this follower was not offered
                missed = await spec.read(follower.position, PAGE)
                if not missed:
                    break
                follower.position = position(missed[-1])
                yield missed
            if events and position(events[0]) <= follower.position:
                events = [event for event in events if position(event) > follower.position]
            if events:
                follower.position = position(events[-1])
                yield events
    finally:
        follower.close()


def readers() -> list[StreamReader]:
    """The readers alive in this process (for counts and tests)."""
    return list(_readers.values())


def follower_count() -> int:
    return sum(len(reader.followers) for reader in _readers.values())
