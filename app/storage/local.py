"""Storage on the local filesystem: atomic renames, chunked reads off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

CHUNK = 256 * 1024


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._spool = self.root / ".spool"
        self._spool.mkdir(parents=True, exist_ok=True)

    def spool_dir(self) -> Path:
        return self._spool

    def path(self, key: str) -> Path:
        target = (self.root / key).resolve()
        if not target.is_relative_to(self.root) or target.is_relative_to(self._spool):
            raise ValueError(f"invalid storage key {key!r}")
        return target

    async def put_file(self, key: str, source: Path) -> None:
        await asyncio.to_thread(self._put_file, self.path(key), source)

    def _put_file(self, target: Path, source: Path) -> None:
        if target.exists():
            source.unlink(missing_ok=True)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(source, target)
        except OSError:  # another volume: copy beside the target, then rename
            staging = target.with_name(f".{uuid.uuid4().hex}.part")
            shutil.copyfile(source, staging)
            os.replace(staging, target)
            source.unlink(missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self.path(key).is_file)

    async def size(self, key: str) -> int:
        return (await asyncio.to_thread(self.path(key).stat)).st_size

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self.path(key).open, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                size = CHUNK if remaining is None else min(CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, self.path(key))

    def _delete(self, target: Path) -> None:
        target.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # tidy empty shard folders; fine if not empty
            target.parent.rmdir()
