"""Fetching a file from a URL without becoming a proxy into private networks (SSRF guard).

Only http(s); every address the host resolves to, at every redirect, must be public unless an
allow-list network admits it, and so must any IPv4 address an IPv6 one embeds (IPv4-mapped,
IPv4-compatible, 6to4, NAT64, Teredo). The connection itself goes through
:class:`GuardedBackend`, which resolves, checks and connects to the checked address in one
step, so a DNS answer that changes after the check (rebinding) cannot reach a private host.
Network failures are refusals with a reason, never errors.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from app.media.errors import MediaRejected

MAX_REDIRECTS = 3
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))


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

    def _admits(self, address: Address) -> bool:
        if any(address in network for network in self._allowed):
            return True
        public = address.is_global and not address.is_multicast
        return public and all(self._admits(inner) for inner in embedded_ipv4(address))

    async def public_address(self, host: str, port: int) -> str:
        """An address of ``host`` to connect to, once every address it has is checked."""
        addresses = await _resolve(host, port)
        for address in addresses:
            if not self._admits(address):
                raise MediaRejected(f"{host} is not a public address")
        return str(addresses[0])


def embedded_ipv4(address: Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (each must be public too)."""
    if isinstance(address, ipaddress.IPv4Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    value = int(address)
    if value >> 32 == 0 and value > 1:  # IPv4-compatible ::a.b.c.d
        found.append(ipaddress.IPv4Address(value))
    if any(address in net for net in NAT64):
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    return found


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connect only to addresses the guard admits, resolved and checked at connect time."""

    def __init__(self, guard: UrlGuard) -> None:
        self._guard = guard
        self._backend = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        address = await self._guard.public_address(host, port)
        return await self._backend.connect_tcp(
            address,
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        raise MediaRejected("only http and https URLs can be imported")

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


def _guarded_transport(guard: UrlGuard) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(retries=0)
    # httpx has no public hook for the network backend; its pool's attribute is the way in.
    transport._pool._network_backend = GuardedBackend(guard)
    return transport


async def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError):
        raise MediaRejected(f"{host} cannot be resolved") from None
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise MediaRejected(f"{host} cannot be resolved")
    return addresses


@asynccontextmanager
async def fetch(url: str, guard: UrlGuard, timeout_seconds: float) -> AsyncIterator[Fetched]:
    """GET ``url`` (following at most 3 redirects, each checked) with the body still unread.

    Network failures while connecting or reading (the caller reads inside the block) become
    a :class:`MediaRejected` with the reason.
    """
    try:
        async with _fetch(url, guard, timeout_seconds) as fetched:
            yield fetched
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError) as failure:
        raise MediaRejected(f"the file could not be fetched ({_network_reason(failure)})") from None


def _network_reason(failure: Exception) -> str:
    if isinstance(failure, httpx.TimeoutException):
        return "the server took too long"
    return type(failure).__name__


@asynccontextmanager
async def _fetch(url: str, guard: UrlGuard, timeout_seconds: float) -> AsyncIterator[Fetched]:
    transport = _guarded_transport(guard)
    async with httpx.AsyncClient(
        transport=transport, timeout=timeout_seconds, follow_redirects=False
    ) as client:
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
