"""A tiny real HTTP server on loopback that serves given bytes (for URL imports)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Files:
    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[str] = []
        self.trickle: dict[str, float] = {}  # path -> seconds between 1-byte writes
        self.cut: set[str] = set()  # paths whose answer stops halfway

    def slow(self, path: str, body: bytes, pause: float) -> None:
        self.add(path, body)
        self.trickle[path] = pause

    def broken(self, path: str, body: bytes) -> None:
        self.add(path, body)
        self.cut.add(path)

    def add(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.routes[path] = (200, {"Content-Type": content_type}, body)

    def redirect(self, path: str, location: str) -> None:
        self.routes[path] = (302, {"Location": location}, b"")


@contextmanager
def serving(files: Files) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            files.requests.append(self.path)
            status, headers, body = files.routes.get(self.path, (404, {}, b"missing"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.path in files.cut:
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.connection.shutdown(2)
                return
            pause = files.trickle.get(self.path)
            if pause is None:
                self.wfile.write(body)
                return
            for index in range(len(body)):
                try:
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(pause)

        def log_message(self, *_args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
