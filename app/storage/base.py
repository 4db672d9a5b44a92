"""The Storage port: content kept under opaque keys, written atomically, read by ranges."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol


class Storage(Protocol):
    """Where asset bytes live. Keys are chosen by the caller (content-addressed)."""

    def spool_dir(self) -> Path:
        """A local directory for files being received, on the same volume when possible."""
        ...

    async def put_file(self, key: str, source: Path) -> None:
        """Move ``source`` to ``key`` atomically; if ``key`` exists already, drop ``source``."""
        ...

    async def exists(self, key: str) -> bool: ...

    async def size(self, key: str) -> int: ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Bytes ``start`` to ``end`` inclusive (``None``: to the end), in chunks."""
        ...

    async def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key is not an error."""
        ...


def content_key(namespace: str, sha256: str, suffix: str = "") -> str:
    """``namespace/ab/abcdef…`` — content-addressed within a namespace (a workspace)."""
    return f"{namespace}/{sha256[:2]}/{sha256}{suffix}"
