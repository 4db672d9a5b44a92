"""Live fan-out: an event's result is built and encoded once, and shared by its subscribers.

Every subscriber of a stream receives the same stored events, and what a subscription's
selection makes of an event depends on nothing but the event, the selection and the variables
it uses. So the first subscriber to be sent an event executes the selection and encodes the
result; everyone else who asked for the same thing gets the very same data and bytes. Rights
are untouched by this: each subscriber's own checks still run before an event is handed to it.

The memo is per process and bounded (the oldest entries go first); a subscriber that falls
behind further than it remembers simply has its result built again.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from contextvars import ContextVar
from typing import Any

import orjson

CAPACITY = 4096  # results remembered: many events of many streams, each per selection


def encode(value: Any) -> str:
    """Compact JSON text; what orjson refuses (an integer past 64 bits) goes through json."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


class SharedData(dict[str, Any]):
    """A result's ``data`` as every subscriber receives it, with ``{"data": ...}`` already
    encoded: transports frame ``payload_text`` instead of encoding the result again."""

    __slots__ = ("payload_text",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.payload_text = encode({"data": data})


class SharedResults:
    """The memo: (event, selection) -> the shared data, with counters to show the sharing."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[Hashable, SharedData] = OrderedDict()
        self.executions = 0  # selections executed for a shareable event
        self.encodings = 0  # results encoded into wire text
        self.hits = 0  # results handed out again, without executing or encoding
        self.written = 0  # results written straight to a connection (``DirectSink``)

    def get(self, key: Hashable) -> SharedData | None:
        found = self._entries.get(key)
        if found is not None:
            self.hits += 1
            self._entries.move_to_end(key)
        return found

    def executed(self) -> None:
        self.executions += 1

    def keep(self, key: Hashable, data: dict[str, Any]) -> SharedData:
        shared = SharedData(data)
        self.encodings += 1
        self._entries[key] = shared
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return shared

    def clear(self) -> None:
        self._entries.clear()
        self.executions = self.encodings = self.hits = self.written = 0


shared_results = SharedResults()


def shared_payload(payload: Any) -> str | None:
    """The encoded text of a result payload that carries only shared data, else None."""
    if type(payload) is dict and len(payload) == 1:
        data = payload.get("data")
        if isinstance(data, SharedData):
            return data.payload_text
    return None


Write = Callable[[str], Awaitable[None]]


class DirectSink:
    """Where a live operation's shared ``Event`` results go straight to its connection.

    The transport makes one per operation. The executor tells it the operation's selection
    shape once it has executed a first event, and the transport marks it ``proven`` once it
    has sent a result of this operation as nothing but the shared data (no errors, no
    extensions: what is written here is then byte for byte what it would send). From then on,
    an event whose shared result is already in the memo is written as its encoded payload,
    without executing anything for this subscriber. ``send`` says False when it cannot (the
    caller then hands the event to the ordinary execution, which builds and keeps the shared
    result).
    """

    __slots__ = ("_write", "operation_id", "proven", "shape")

    def __init__(self, operation_id: str, write: Write) -> None:
        self.operation_id = operation_id
        self._write = write
        self.shape: Hashable | None = None
        self.proven = False

    async def send(self, event_id: Hashable) -> bool:
        shape = self.shape
        if shape is None or not self.proven:
            return False
        found = shared_results.get((event_id, shape))
        if found is None:
            return False
        shared_results.written += 1
        await self._write(found.payload_text)
        return True


current_sink: ContextVar[DirectSink | None] = ContextVar("current_sink", default=None)
