"""A small closed-loop HTTP/1.1 load generator, run in its own process.

``--connections`` workers each keep one connection alive and send the same POST again as soon
as the previous response has been read. After ``--warmup`` seconds, requests completed during
the next ``--seconds`` are measured (throughput is completions per second); the CPU time of
``--pid`` (the server) is read from ``/proc`` at both ends of that window, and with
``--database-name`` so is the CPU of that PostgreSQL database's backends (``bench/dbcpu.py``).
With ``--requests N`` the measured part is N requests instead of a time window: the warm-up
runs first and finishes, then the N requests are sent and CPU is read before the first and after
the last. The result is one JSON object on standard output.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import orjson

from bench.dbcpu import DatabaseCpu
from bench.procs import cpu_seconds


@dataclass
class Window:
    start: float
    end: float
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    response_bytes: int = 0
    remaining: int | None = None  # requests still to send (``--requests``), else None


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_seconds: float
    cpu_ms_per_request: float
    mean_response_bytes: float
    database_cpu_seconds: float = 0.0
    database_cpu_ms_per_request: float = 0.0


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, int]:
    """Read one response; return (status, body length). Handles Content-Length and chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        length = int(headers["content-length"])
        await reader.readexactly(length)
        return status, length
    if headers.get("transfer-encoding", "").lower() == "chunked":
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            total += size
            if size == 0:
                return status, total
    raise RuntimeError("response without Content-Length or chunked encoding")


async def _worker(host: str, port: int, request: bytes, window: Window) -> None:
    reader, writer = await asyncio.open_connection(host, port, limit=2**20)
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            sent = time.perf_counter()
            if sent >= window.end:
                return
            if window.remaining is not None:
                if window.remaining <= 0:
                    return
                window.remaining -= 1
            writer.write(request)
            status, length = await _read_response(reader)
            done = time.perf_counter()
            if window.start <= done <= window.end:
                window.latencies.append(done - sent)
                window.response_bytes += length
                if status != 200:
                    window.errors += 1
    finally:
        writer.close()


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def _request(url: str, body: bytes, headers: list[str]) -> tuple[str, int, bytes]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {host}:{port}",
        "Content-Type: application/json",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return host, port, ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _drive(host: str, port: int, request: bytes, connections: int, window: Window) -> None:
    """Run the workers until they stop by themselves (window's end, or no requests left)."""
    workers = [
        asyncio.create_task(_worker(host, port, request, window)) for _ in range(connections)
    ]
    _done, pending = await asyncio.wait(workers, timeout=window_timeout(window))
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in workers:
        if not task.cancelled() and task.exception() is not None:
            raise RuntimeError(f"load worker failed: {task.exception()!r}")


def window_timeout(window: Window) -> float:
    if window.remaining is not None:
        return 600.0
    # Requests in flight at the window's end are waited for (not counted), so that the next run
    # does not start on a busy server.
    return max(0.0, window.end - time.perf_counter()) + 120.0


@dataclass(frozen=True, slots=True)
class Meters:
    pid: int
    database: DatabaseCpu | None

    def start(self) -> float:
        if self.database is not None:
            self.database.start()
        return cpu_seconds(self.pid)

    def stop(self, started: float) -> tuple[float, float]:
        """(server CPU seconds, database CPU seconds) since ``start``."""
        used = cpu_seconds(self.pid) - started
        if self.database is None:
            return used, 0.0
        self.database.sample()
        return used, self.database.seconds()


async def run(
    url: str, body: bytes, headers: list[str], connections: int, seconds: float, warmup: float,
    pid: int, database: str | None = None, requests: int | None = None,
) -> LoadResult:  # fmt: skip
    host, port, request = _request(url, body, headers)
    meters = Meters(pid, DatabaseCpu(database) if database else None)
    sampler = asyncio.create_task(meters.database.run()) if meters.database else None
    try:
        if requests is None:
            window, used, elapsed = await _timed(
                host, port, request, connections, seconds, warmup, meters
            )
        else:
            window, used, elapsed = await _counted(
                host, port, request, connections, requests, warmup, meters
            )
    finally:
        if sampler is not None:
            sampler.cancel()
    return _result(window, used, elapsed)


async def _timed(
    host: str, port: int, request: bytes, connections: int, seconds: float, warmup: float,
    meters: Meters,
) -> tuple[Window, tuple[float, float], float]:  # fmt: skip
    now = time.perf_counter()
    window = Window(start=now + warmup, end=now + warmup + seconds)
    driving = asyncio.create_task(_drive(host, port, request, connections, window))
    await asyncio.sleep(max(0.0, window.start - time.perf_counter()))
    started = meters.start()
    await asyncio.sleep(max(0.0, window.end - time.perf_counter()))
    used = meters.stop(started)
    # Workers stop sending at the window's end; requests still in flight are not counted.
    await driving
    return window, used, seconds


async def _counted(
    host: str, port: int, request: bytes, connections: int, requests: int, warmup: float,
    meters: Meters,
) -> tuple[Window, tuple[float, float], float]:  # fmt: skip
    now = time.perf_counter()
    await _drive(host, port, request, connections, Window(start=now, end=now + warmup))
    started_at = time.perf_counter()
    window = Window(start=started_at, end=float("inf"), remaining=requests)
    started = meters.start()
    await _drive(host, port, request, connections, window)
    used = meters.stop(started)
    return window, used, time.perf_counter() - started_at


def _result(window: Window, used: tuple[float, float], seconds: float) -> LoadResult:
    count = len(window.latencies)
    server, database = used
    return LoadResult(
        requests=count,
        errors=window.errors,
        seconds=seconds,
        requests_per_second=count / seconds,
        p50_ms=_percentile(window.latencies, 0.50) * 1000,
        p99_ms=_percentile(window.latencies, 0.99) * 1000,
        server_cpu_seconds=server,
        cpu_ms_per_request=server * 1000 / count if count else float("nan"),
        mean_response_bytes=window.response_bytes / count if count else 0.0,
        database_cpu_seconds=database,
        database_cpu_ms_per_request=database * 1000 / count if count else float("nan"),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True, help="the POST body (JSON)")
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--pid", type=int, required=True, help="server process to measure")
    parser.add_argument("--database-name", help="PostgreSQL database whose backends to measure")
    parser.add_argument("--requests", type=int, help="measure this many requests, not seconds")
    args = parser.parse_args()
    with open(args.body_file, "rb") as body_file:
        body = body_file.read()
    result = asyncio.run(
        run(
            args.url, body, args.header, args.connections, args.seconds, args.warmup, args.pid,
            args.database_name, args.requests,
        )
    )  # fmt: skip
    sys.stdout.write(orjson.dumps(asdict(result)).decode() + "\n")


if __name__ == "__main__":
    main()
