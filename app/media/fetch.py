"""Fetching a file from a URL without becoming a proxy into private networks (SSRF guard).

Only http(s); every address the host resolves to, at every redirect, must be public unless an
allow-list network admits it. (A DNS answer that changes between the check and the connection
is not covered; deployments that need that guarantee should route imports through an egress
proxy.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlsplit

import httpx

from app.media.errors import MediaRejected

MAX_REDIRECTS = 3
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Fetched:
    response: httpx.Response
    filename: str
    mime: str | None
    size: int | None


class UrlGuard:
    def __init__(self, allowed: Sequence[str]) -> None:
        self._allowed: list[Network] = [ipaddress.ip_network(n, strict=False) for n in allowed]

    async def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MediaRejected("only http and https URLs can be imported")
        if parts.username or parts.password:
            raise MediaRejected("URLs with credentials cannot be imported")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        for address in await _resolve(parts.hostname, port):
            if not self._admits(address):
                raise MediaRejected(f"{parts.hostname} is not a public address")

    def _admits(self, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if any(address in network for network in self._allowed):
            return True
        return address.is_global and not address.is_multicast


async def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise MediaRejected(f"{host} cannot be resolved") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


@asynccontextmanager
async def fetch(url: str, guard: UrlGuard, timeout_seconds: float) -> AsyncIterator[Fetched]:
    """GET ``url`` (following at most 3 redirects, each checked) with the body still unread."""
    async with httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            await guard.check(url)
            request = client.build_request("GET", url)
            response = await client.send(request, stream=True)
            if response.is_redirect and "location" in response.headers:
                await response.aclose()
                url = urljoin(url, response.headers["location"])
                continue
            try:
                if response.status_code != 200:
                    raise MediaRejected(f"the server answered {response.status_code}")
                yield _describe(url, response)
            finally:
                await response.aclose()
            return
    raise MediaRejected("too many redirects")


def _describe(url: str, response: httpx.Response) -> Fetched:
    length = response.headers.get("content-length")
    name = PurePosixPath(urlsplit(url).path).name or "imported"
    return Fetched(
        response=response,
        filename=name,
        mime=response.headers.get("content-type"),
        size=int(length) if length and length.isdigit() else None,
    )
