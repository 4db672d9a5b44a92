"""Finishing a generation: its output copied into storage as an asset, its actual cost booked.

The rules (what each ending records and books) are the lifecycle service's; this module
moves the bytes and calls them.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from app.engine import records
from app.engine.deps import current
from app.media.errors import MediaRejected
from app.media.intake import Received
from app.media.probe import Probe
from app.media.rules import Declared
from app.models import Generation
from app.models.enums import GENERATION_FINAL, AssetKind, AssetSource, GenerationKind
from app.services import generation_lifecycle as lifecycle
from app.services.assets import NewAsset, store_asset
from app.services.ingest import receive_and_probe
from app.services.placement import Placement

KINDS = {"image": AssetKind.IMAGE, "video": AssetKind.VIDEO, "audio": AssetKind.AUDIO}


async def collect(generation_id: uuid.UUID, outcome: dict[str, Any]) -> str:
    status = outcome.get("status")
    if status == "succeeded" and outcome.get("outputs"):
        try:
            return await _succeed(generation_id, outcome)
        except MediaRejected as rejected:
            await records.fail(
                generation_id, "PROVIDER_ERROR", f"The output was unusable: {rejected.reason}"
            )
            return "failed"
    if status == "canceled":
        now = current().now()
        await records.apply(
            generation_id, lambda session, row: lifecycle.cancelled(session, row, "Canceled.", now)
        )
        return "canceled"
    code = outcome.get("code") or "PROVIDER_ERROR"
    await book_spent(generation_id, outcome)  # booked first: whoever sees it FAILED sees the cost
    await records.fail(
        generation_id, code, outcome.get("error") or "The provider returned no output."
    )
    return "failed"


async def _succeed(generation_id: uuid.UUID, outcome: dict[str, Any]) -> str:
    generation = await records.load(generation_id)
    if generation.status in GENERATION_FINAL:
        return generation.status.value
    if generation.kind is GenerationKind.TEXT:
        return await _finish(generation_id, outcome, None)
    url = outcome["outputs"][0]
    name = PurePosixPath(urlsplit(url).path).name or f"{generation.kind.value}-output"
    new = NewAsset(
        Placement(generation.workspace_id, generation.client_id, generation.campaign_id),
        name,
        [],
        AssetSource.GENERATED,
        url if url.startswith("http") else None,
    )
    runtime = current().runtime
    declared = Declared(name, KINDS.get(generation.kind.value))
    # Downloaded and probed before the transaction: no lock is held while bytes move.
    received, probe = await receive_and_probe(
        runtime.storage, runtime.caps, declared, current().provider.download(url)
    )
    try:
        return await _finish(generation_id, outcome, (new, received, probe))
    finally:
        await asyncio.to_thread(received.path.unlink, True)


async def _finish(
    generation_id: uuid.UUID,
    outcome: dict[str, Any],
    media: tuple[NewAsset, Received, Probe] | None,
) -> str:
    """Record the success (with the output stored as an asset, unless it is text)."""
    deps = current()
    runtime = deps.runtime

    async def succeed(session: AsyncSession, row: Generation) -> bool:
        if row.status in GENERATION_FINAL:
            return False
        asset_id = None
        if media is not None:
            new, received, probe = media
            storage = runtime.storage
            asset = await store_asset(session, storage, row.created_by_id, new, received, probe)
            asset_id = asset.id
        return await lifecycle.succeeded(
            session,
            row,
            deps.catalog.get(row.model),
            deps.now(),
            outputs=outcome["outputs"],
            predict_seconds=outcome.get("predict_seconds"),
            asset_id=asset_id,
        )

    return "succeeded" if await records.apply(generation_id, succeed) else "final"


async def book_spent(generation_id: uuid.UUID, outcome: dict[str, Any]) -> None:
    """Book what an upstream prediction cost though its generation did not succeed here."""
    catalog = current().catalog

    async def book(session: AsyncSession, row: Generation) -> bool:
        return await lifecycle.book_spent(
            session,
            row,
            catalog.get(row.model),
            succeeded_upstream=outcome.get("status") == "succeeded",
            outputs=outcome.get("outputs") or [],
            predict_seconds=outcome.get("predict_seconds"),
        )

    await records.apply(generation_id, book)
