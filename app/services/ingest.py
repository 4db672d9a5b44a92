"""One pipeline for every way bytes arrive: receive (checked while streaming), probe, store."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable

from sqlalchemy.ext.asyncio import AsyncSession

from app.media.intake import Intake, Received
from app.media.probe import Probe, probe_file
from app.media.rules import Declared, SizeCaps
from app.models import Asset
from app.services.assets import NewAsset, store_asset
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


async def ingest(
    session: AsyncSession,
    storage: Storage,
    caps: SizeCaps,
    *,
    actor_id: uuid.UUID | None,
    new: NewAsset,
    declared: Declared,
    chunks: AsyncIterable[bytes],
    existing: Asset | None = None,
) -> Asset:
    received, probe = await receive_and_probe(storage, caps, declared, chunks)
    try:
        return await store_asset(
            session, storage, actor_id, new, received, probe, existing=existing
        )
    finally:
        await asyncio.to_thread(received.path.unlink, True)
