"""One pipeline for every way bytes arrive: received (checked while streaming) and probed,
before any transaction opens; ``store_asset`` then keeps them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable

from app.media.intake import Intake, Received
from app.media.probe import Probe, probe_file
from app.media.rules import Declared, SizeCaps
from app.storage.base import Storage


async def receive_and_probe(
    storage: Storage, caps: SizeCaps, declared: Declared, chunks: AsyncIterable[bytes]
) -> tuple[Received, Probe]:
    """A spooled, type-checked and probed file; on any failure nothing is left behind."""
    received = await Intake(storage.spool_dir(), declared, caps).receive(chunks)
    try:
        return received, await probe_file(received.path, received.media)
    except BaseException:
        await asyncio.to_thread(received.path.unlink, True)
        raise
