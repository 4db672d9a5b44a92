"""A generation's image reference, as its provider reads it: an image asset as it is; a video
asset by its poster frame, extracted once (PyAV) and kept beside the video as its ``poster``
variant, so the next generation from the same video reuses it."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from app.engine.deps import current
from app.generation.local_provider import STORAGE_SCHEME
from app.generation.provider import ProviderRejected
from app.media.errors import MediaRejected
from app.media.probe import poster_png
from app.models import Asset
from app.models.enums import AssetKind
from app.services.assets import keep_poster
from app.storage.base import Storage
from app.storage.links import Variant


async def reference_url(asset_hex: str) -> str:
    """Where the provider reads the reference: a storage key, or a signed link."""
    deps = current()
    async with deps.runtime.read_sessionmaker() as session:
        asset = await session.get(Asset, uuid.UUID(asset_hex))
    if asset is None or asset.storage_key is None:
        raise ProviderRejected("The reference asset is gone.")
    key, variant = asset.storage_key, Variant.ORIGINAL
    if asset.kind is AssetKind.VIDEO:
        key, variant = asset.poster_key or await _extract_poster(asset), Variant.POSTER
    if deps.provider.reads_storage:
        return STORAGE_SCHEME + key
    return deps.runtime.links.media_url(asset.id, variant, deps.now())


async def _extract_poster(asset: Asset) -> str:
    runtime = current().runtime
    assert asset.storage_key is not None
    spooled = runtime.storage.spool_dir() / f"poster-{uuid.uuid4().hex}"
    try:
        await _copy(runtime.storage, asset.storage_key, spooled)
        png = await asyncio.to_thread(poster_png, spooled)
    except MediaRejected as rejected:
        message = f"The reference video has no usable frame: {rejected.reason}."
        raise ProviderRejected(message) from None
    finally:
        await asyncio.to_thread(spooled.unlink, True)
    async with runtime.sessionmaker() as session, session.begin():
        key = await keep_poster(session, runtime.storage, asset.id, png)
    if key is None:
        raise ProviderRejected("The reference asset is gone.")
    return key


async def _copy(storage: Storage, key: str, target: Path) -> None:
    """The stored file, copied into the spool for the decoder (which needs a seekable file)."""
    handle = await asyncio.to_thread(target.open, "wb")
    try:
        async for chunk in storage.read(key):
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
