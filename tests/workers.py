"""What keeps test processes apart when the suite runs in several at once (pytest-xdist).

Each worker gets its own slice of TCP ports, its own Redis database and its own names; per-test
databases and temporary directories are already unique (the process id is in their names, and
every worker has its own base temporary directory).
"""

from __future__ import annotations

import atexit
import os
import random
import re
import socket
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

# The heaviest tests (several server and worker processes, or thousands of connections) run
# one after another on a single worker, never two at once: together they would hold ~90 of
# PostgreSQL's default 100 connections and starve each other's processes of the 2 cores the
# suite is tuned for. The other worker meanwhile runs the rest.
HEAVY = pytest.mark.xdist_group("heavy")
PORT_SLICE = 400  # ports per worker; a test uses a handful, a slice is walked round and round
PORT_SLICES = 25  # the serial run and 24 workers; more workers share slices round-robin
HELD_PORTS = 32  # ports held at once; the oldest is let go (its server has long bound it)
REDIS_DATABASES = 16  # Redis's default "databases"


def worker_id() -> str:
    """``gw0``, ``gw1``... under pytest-xdist; ``main`` in a serial run."""
    return os.environ.get("PYTEST_XDIST_WORKER") or "main"


def worker_number() -> int:
    """0 in a serial run, 1 + the worker's index under pytest-xdist."""
    match = re.fullmatch(r"gw(\d+)", worker_id())
    return 1 + int(match[1]) if match else 0


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _port_range() -> range | None:
    """This worker's ports: below the kernel's ephemeral range, so that no port the kernel
    hands out (for an outgoing connection, or a ``bind(0)`` anywhere) is ever one of them,
    and disjoint from every other worker's."""
    top = _ephemeral_low()
    bottom = top - PORT_SLICE * PORT_SLICES
    if bottom < 10000:
        return None
    start = bottom + PORT_SLICE * (worker_number() % PORT_SLICES)
    return range(start, start + PORT_SLICE)


_ports = _port_range()
_next_port = random.randrange(PORT_SLICE)  # another run at the same time starts elsewhere


def _reserve(port: int) -> bool:
    """Take ``port`` if no socket holds it, and hold it: bound, never listening, so that no
    other probe like this one (of this run or of another run of the suite beside it) can take
    it, while the server it is for, which sets SO_REUSEADDR, can still bind it and listen."""
    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", port))  # no SO_REUSEADDR: a lingering connection also counts
    except OSError:
        probe.close()
        return False
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    _held.append(probe)
    while len(_held) > HELD_PORTS:
        _held.popleft().close()
    return True


def _let_go() -> None:
    while _held:
        _held.popleft().close()


_held: deque[socket.socket] = deque()
atexit.register(_let_go)


def free_port() -> int:
    """A loopback port no socket holds, and no other worker of this run will hand out.

    Unlike a port the kernel picks for ``bind(0)`` and which the caller closes, it cannot be
    taken between this call and the moment a server process binds it. Nothing listens on it
    until then: a connection to it is refused."""
    global _next_port  # noqa: PLW0603
    if _ports is None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            return int(probe.getsockname()[1])
    for _ in range(len(_ports)):
        port = _ports[_next_port % len(_ports)]
        _next_port += 1
        if _reserve(port):
            return port
    raise RuntimeError(f"no free port in {_ports}")


def redis_url(url: str) -> str:
    """``url`` on this worker's own Redis database (``/N``), so that counters such as the rate
    limits' never mix between workers. (Pub/sub channels span databases; what travels on
    them names streams by random IDs, so a message from another worker wakes nobody.)"""
    number = worker_number()
    parts = urlsplit(url)
    if number == 0 or parts.scheme not in {"redis", "rediss"}:
        return url
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(base + number) % REDIS_DATABASES}"))
