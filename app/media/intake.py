"""Receiving a file: spooled to disk chunk by chunk, hashed, sniffed and size-capped as it
arrives, so an oversized or mistyped body is cut off early and leaves nothing behind."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.media.errors import MediaRejected
from app.media.rules import Declared, SizeCaps, check_declared
from app.media.sniff import SNIFF_BYTES, MediaType, sniff


@dataclass(frozen=True, slots=True)
class Received:
    """A complete, type-checked file waiting in the spool."""

    path: Path
    media: MediaType
    size: int
    sha256: str


class Intake:
    """One file being received. Use ``receive`` or ``feed`` + ``finish``; ``discard`` on error."""

    def __init__(self, spool_dir: Path, declared: Declared, caps: SizeCaps) -> None:
        self.declared = declared
        self.caps = caps
        self.path = spool_dir / f"upload-{uuid.uuid4().hex}"
        self._file: BinaryIO | None = None
        self._hash = hashlib.sha256()
        self._head = b""
        self._media: MediaType | None = None
        self._limit = (
            min(caps.largest, declared.size) if declared.size is not None else caps.largest
        )
        self.size = 0

    async def receive(self, chunks: AsyncIterable[bytes]) -> Received:
        iterator = aiter(chunks)
        try:
            async for chunk in iterator:
                await self.feed(chunk)
            return await self.finish()
        except BaseException:
            await self.discard()
            raise
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:  # stop the source early (and let it release its resources)
                await close()

    async def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.size += len(chunk)
        if self.size > self._limit:
            raise MediaRejected(self._too_large())
        if self._media is None:
            self._head += chunk[: SNIFF_BYTES - len(self._head)]
            if len(self._head) >= SNIFF_BYTES:
                self._decide()
        self._hash.update(chunk)
        if self._file is None:
            self._file = await asyncio.to_thread(self.path.open, "wb")
        await asyncio.to_thread(self._file.write, chunk)

    async def finish(self) -> Received:
        if self._media is None:
            self._decide()
        assert self._media is not None
        if self.declared.size is not None and self.size != self.declared.size:
            raise MediaRejected(f"{self.size} bytes arrived but {self.declared.size} were declared")
        await self._close()
        return Received(self.path, self._media, self.size, self._hash.hexdigest())

    async def discard(self) -> None:
        await self._close()
        await asyncio.to_thread(self.path.unlink, True)

    async def _close(self) -> None:
        if self._file is not None:
            await asyncio.to_thread(self._file.close)
            self._file = None

    def _decide(self) -> None:
        if self.size == 0:
            raise MediaRejected("the file is empty")
        self._media = check_declared(sniff(self._head), self._head, self.declared)
        self._limit = min(self._limit, self.caps.for_kind(self._media.kind))
        if self.size > self._limit:
            raise MediaRejected(self._too_large())

    def _too_large(self) -> str:
        if self.declared.size is not None and self.size > self.declared.size:
            return f"more bytes arrived than the {self.declared.size} declared"
        kind = self._media.kind.value if self._media else "file"
        return f"the {kind} is larger than the limit of {self._limit // (1024 * 1024)} MB"
