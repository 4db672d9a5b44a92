"""The subscribers of ``bench.subscribers``: WebSocket clients in this process or spread over
several, so that receiving (framing, inflating, parsing) is not all queued on one core.

Each client stamps every arrival with the wall clock (``time.time()``: one clock for every
process on the machine). Processes count arrivals per sequence number in shared memory, so
the writer knows when an event has reached everyone without a message per delivery, and hand
back what each subscriber received once every subscription has completed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from typing import Any

from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

BATCH_TIMEOUT_SECONDS = 120.0  # one batch of connections, subscribed
PROTOCOL = Subprotocol("graphql-transport-ws")
SUBSCRIPTION = "subscription($j: ID!) { jobEvents(jobId: $j, afterSeq: 0) { seq type payload } }"


@dataclass(slots=True)
class Subscriber:
    """What one connection received: sequence numbers and the wall clock at each arrival."""

    index: int
    seqs: list[int] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    completed: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    url: str  # WebSocket URL
    token: str
    job_id: str  # global ID
    compression: bool


class Arrivals:
    """How many subscribers have received each sequence number (a plain list of counters, or
    one shared with the process that writes the events)."""

    def __init__(self, counts: Any) -> None:
        self.counts = counts

    def arrived(self, seq: int) -> None:
        if seq < len(self.counts):
            self.counts[seq] += 1


async def subscribe(subscriber: Subscriber, target: Target, arrivals: Arrivals) -> None:
    """One connection, one subscription, followed to ``complete``."""
    async with connect(
        target.url,
        subprotocols=[PROTOCOL],
        compression="deflate" if target.compression else None,
        open_timeout=BATCH_TIMEOUT_SECONDS,
        ping_interval=None,  # the server keeps the connection alive with graphql-ws pings
        max_queue=None,
    ) as ws:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {target.token}"}}
        await ws.send(json.dumps(init))
        ack = json.loads(await ws.recv())
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"subscriber {subscriber.index}: no connection_ack: {ack}")
        payload = {"query": SUBSCRIPTION, "variables": {"j": target.job_id}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        async for raw in ws:
            now = time.time()
            message = json.loads(raw)
            kind = message.get("type")
            if kind == "ping":
                await ws.send(json.dumps({"type": "pong"}))
            elif kind == "next":
                result = message["payload"]
                if result.get("errors"):
                    raise RuntimeError(f"subscriber {subscriber.index}: {result['errors']}")
                seq = int(result["data"]["jobEvents"]["seq"])
                subscriber.seqs.append(seq)
                subscriber.received_at.append(now)
                arrivals.arrived(seq)
            elif kind == "complete":
                subscriber.completed = True
                return
            elif kind != "pong":
                raise RuntimeError(f"subscriber {subscriber.index}: unexpected {message}")
    raise RuntimeError(f"subscriber {subscriber.index}: closed before complete")


class LocalClients:
    """Every subscriber as a task of this process."""

    def __init__(self, target: Target, total: int, seqs: int) -> None:
        self.target = target
        self.subscribers = [Subscriber(index) for index in range(total)]
        self.arrivals = Arrivals([0] * seqs)
        self.tasks: list[asyncio.Task[None]] = []

    def open(self, first: int, count: int) -> None:
        batch = self.subscribers[first : first + count]
        self.tasks += [asyncio.create_task(subscribe(s, self.target, self.arrivals)) for s in batch]

    def reached(self, seq: int, count: int) -> Callable[[], bool]:
        return lambda: self.arrivals.counts[seq] >= count

    def failure(self) -> BaseException | None:
        for task in self.tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None

    def done(self) -> bool:
        return all(task.done() for task in self.tasks)

    async def results(self) -> list[Subscriber]:
        for task in self.tasks:
            task.result()  # raise the first failure, if any
        return self.subscribers

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class ProcessClients:
    """The subscribers spread over ``processes`` child processes, round robin."""

    def __init__(self, target: Target, total: int, seqs: int, processes: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.total = total
        self.counts = [context.Array("l", seqs, lock=False) for _ in range(processes)]
        self.completed: list[Synchronized[int]] = [context.Value("l", 0) for _ in range(processes)]
        self.pipes: list[Connection] = []
        self.children: list[Any] = []
        for n in range(processes):
            ours, theirs = context.Pipe()
            child = context.Process(
                target=_child_main,
                args=(theirs, target, self.counts[n], self.completed[n]),
                daemon=True,
            )
            child.start()
            self.pipes.append(ours)
            self.children.append(child)
        self._failure: BaseException | None = None

    def open(self, first: int, count: int) -> None:
        shares: list[list[int]] = [[] for _ in self.pipes]
        for index in range(first, first + count):
            shares[index % len(self.pipes)].append(index)
        for pipe, share in zip(self.pipes, shares, strict=True):
            pipe.send(("open", share))

    def reached(self, seq: int, count: int) -> Callable[[], bool]:
        return lambda: sum(counts[seq] for counts in self.counts) >= count

    def failure(self) -> BaseException | None:
        for pipe in self.pipes:
            if self._failure is None and pipe.poll():
                kind, detail = pipe.recv()
                if kind == "failed":
                    self._failure = RuntimeError(f"a client process failed: {detail}")
        return self._failure

    def done(self) -> bool:
        return sum(value.value for value in self.completed) >= self.total

    async def results(self) -> list[Subscriber]:
        found: list[Subscriber] = []
        for pipe in self.pipes:
            pipe.send(("results", None))
        for pipe in self.pipes:
            kind, detail = await asyncio.to_thread(pipe.recv)
            if kind != "results":
                raise RuntimeError(f"a client process failed: {detail}")
            found += [Subscriber(i, seqs, at, completed) for i, seqs, at, completed in detail]
        return sorted(found, key=lambda subscriber: subscriber.index)

    async def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(BrokenPipeError, OSError):
                pipe.send(("stop", None))
        for child in self.children:
            await asyncio.to_thread(child.join, 10)
            if child.is_alive():
                child.kill()


def _child_main(pipe: Connection, target: Target, counts: Any, completed: Any) -> None:
    asyncio.run(_child(pipe, target, counts, completed))


async def _child(pipe: Connection, target: Target, counts: Any, completed: Any) -> None:
    """Open subscribers when told, count arrivals and completions, report on request."""
    arrivals = Arrivals(counts)
    subscribers: list[Subscriber] = []
    tasks: list[asyncio.Task[None]] = []

    def finished(task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            pipe.send(("failed", repr(task.exception())))
        else:
            completed.value += 1

    while True:
        kind, detail = await asyncio.to_thread(pipe.recv)
        if kind == "open":
            for index in detail:
                subscriber = Subscriber(index)
                subscribers.append(subscriber)
                task = asyncio.create_task(subscribe(subscriber, target, arrivals))
                task.add_done_callback(finished)
                tasks.append(task)
        elif kind == "results":
            rows = [(s.index, s.seqs, s.received_at, s.completed) for s in subscribers]
            pipe.send(("results", rows))
        else:
            break
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
