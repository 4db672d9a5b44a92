"""Check that the PostgreSQL and Redis servers named by the test URLs answer their protocols.

Prints one line per unreachable service and exits 1 if any is unreachable. Standard library only,
so it runs before the project is installed.
"""

from __future__ import annotations

import os
import socket
import sys
from urllib.parse import urlsplit

TIMEOUT = 3.0
SSL_REQUEST = (8).to_bytes(4, "big") + (80877103).to_bytes(4, "big")


def _address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def check_postgres(url: str) -> str | None:
    host, port = _address(url, 5432)
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as conn:
            conn.sendall(SSL_REQUEST)
            answer = conn.recv(1)
    except OSError as exc:
        return f"PostgreSQL at {host}:{port} is not reachable ({exc.strerror or exc})"
    if answer not in (b"S", b"N"):
        return f"PostgreSQL at {host}:{port} did not answer the PostgreSQL protocol"
    return None


def check_redis(url: str) -> str | None:
    host, port = _address(url, 6379)
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as conn:
            conn.sendall(b"PING\r\n")
            answer = conn.recv(64)
    except OSError as exc:
        return f"Redis at {host}:{port} is not reachable ({exc.strerror or exc})"
    if not answer.startswith((b"+PONG", b"-NOAUTH")):
        return f"Redis at {host}:{port} did not answer PING"
    return None


def main(argv: list[str]) -> int:
    problems = []
    if "--redis-only" not in argv:
        problems.append(check_postgres(os.environ.get("ADSTUDIO_TEST_POSTGRES_URL", "")))
    if "--postgres-only" not in argv:
        problems.append(check_redis(os.environ.get("ADSTUDIO_TEST_REDIS_URL", "")))
    failures = [p for p in problems if p]
    for failure in failures:
        print(f"ci: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
