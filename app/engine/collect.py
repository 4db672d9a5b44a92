"""Finishing a generation: its output copied into storage as an asset, its actual cost booked."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.engine import records
from app.engine.deps import current
from app.generation.catalog import GenericParams
from app.generation.pricing import actual
from app.media.errors import MediaRejected
from app.media.intake import Received
from app.media.probe import Probe
from app.media.rules import Declared
from app.models import CostEntry, Generation
from app.models.base import utcnow
from app.models.enums import (
    GENERATION_FINAL,
    AssetKind,
    AssetSource,
    CostKind,
    GenerationKind,
    GenerationStatus,
)
from app.services.assets import NewAsset, store_asset
from app.services.events import generation_stream, record
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
        await records.update(
            generation_id,
            "generation.canceled",
            None,
            status=GenerationStatus.CANCELED,
            error_code="CANCELED",
            error_message="Canceled.",
            completed_at=utcnow(),
        )
        return "canceled"
    code = outcome.get("code") or "PROVIDER_ERROR"
    await records.fail(
        generation_id, code, outcome.get("error") or "The provider returned no output."
    )
    await _book_failed_run(generation_id, outcome)
    return "failed"


async def _succeed(generation_id: uuid.UUID, outcome: dict[str, Any]) -> str:
    deps = current()
    generation = await records.load(generation_id)
    if generation.status in GENERATION_FINAL:
        return generation.status.value
    if generation.kind is GenerationKind.TEXT:
        return await _succeed_text(generation_id, outcome)
    url = outcome["outputs"][0]
    name = PurePosixPath(urlsplit(url).path).name or f"{generation.kind.value}-output"
    new = NewAsset(
        Placement(generation.workspace_id, generation.client_id, generation.campaign_id),
        name,
        [],
        AssetSource.GENERATED,
        url if url.startswith("http") else None,
    )
    runtime = deps.runtime
    declared = Declared(name, KINDS.get(generation.kind.value))
    # Downloaded and probed before the transaction: no lock is held while bytes move.
    received, probe = await receive_and_probe(
        runtime.storage, runtime.caps, declared, deps.provider.download(url)
    )
    try:
        return await _store(generation_id, new, received, probe, outcome)
    finally:
        await asyncio.to_thread(received.path.unlink, True)


async def _store(
    generation_id: uuid.UUID,
    new: NewAsset,
    received: Received,
    probe: Probe,
    outcome: dict[str, Any],
) -> str:
    runtime = current().runtime
    async with runtime.sessionmaker() as session, session.begin():
        row = await session.get(Generation, generation_id, with_for_update=True)
        if row is None or row.status in GENERATION_FINAL:
            return "final"
        asset = await store_asset(session, runtime.storage, row.created_by_id, new, received, probe)
        await _book(session, row, outcome)
        row.output_asset_id, row.status, row.completed_at = (
            asset.id,
            GenerationStatus.SUCCEEDED,
            utcnow(),
        )
        row.output = {**(row.output or {}), "urls": outcome["outputs"]}
        row.predict_time_seconds = outcome.get("predict_seconds")
        await record(
            session,
            workspace_id=row.workspace_id,
            stream_id=generation_stream(row.id),
            type="generation.succeeded",
            payload={"status": "succeeded", "assetId": asset.id.hex, "cost": str(row.cost)},
        )
    return "succeeded"


async def _succeed_text(generation_id: uuid.UUID, outcome: dict[str, Any]) -> str:
    """Text output (tokens) is kept on the generation itself; there is no asset."""
    async with current().runtime.sessionmaker() as session, session.begin():
        row = await session.get(Generation, generation_id, with_for_update=True)
        if row is None or row.status in GENERATION_FINAL:
            return "final"
        await _book(session, row, outcome)
        row.output = {**(row.output or {}), "text": "".join(outcome["outputs"])[:20000]}
        row.status, row.completed_at = GenerationStatus.SUCCEEDED, utcnow()
        row.predict_time_seconds = outcome.get("predict_seconds")
        await record(
            session,
            workspace_id=row.workspace_id,
            stream_id=generation_stream(row.id),
            type="generation.succeeded",
            payload={"status": "succeeded"},
        )
    return "succeeded"


async def _book(session: AsyncSession, row: Generation, outcome: dict[str, Any]) -> None:
    """The actual charge, once per generation (a unique row guards retries)."""
    spec = current().catalog.get(row.model)
    params = GenericParams.from_dict(row.input.get("params", {}))
    charge = actual(
        spec,
        params,
        predict_seconds=outcome.get("predict_seconds"),
        outputs=len(outcome.get("outputs") or []),
    )
    row.cost = charge.amount
    exists = await session.scalar(
        sa.select(sa.func.count())
        .select_from(CostEntry)
        .where(col(CostEntry.generation_id) == row.id, col(CostEntry.kind) == CostKind.ACTUAL)
    )
    if exists:
        return
    session.add(
        CostEntry(
            workspace_id=row.workspace_id,
            client_id=row.client_id,
            campaign_id=row.campaign_id,
            job_id=row.job_id,
            generation_id=row.id,
            kind=CostKind.ACTUAL,
            basis=charge.basis,
            stage=row.kind.value,
            model=row.model,
            quantity=charge.quantity,
            unit_price=charge.unit_price,
            amount=charge.amount,
        )
    )


async def book_spent(generation_id: uuid.UUID, outcome: dict[str, Any]) -> None:
    """Book what an upstream prediction cost though its generation failed on our side.

    A prediction that succeeded was charged in full (per output or per second); one that
    failed or was cancelled, for the GPU time it used.
    """
    if outcome.get("status") != "succeeded":
        await _book_failed_run(generation_id, outcome)
        return
    async with current().runtime.sessionmaker() as session, session.begin():
        row = await session.get(Generation, generation_id, with_for_update=True)
        if row is not None:
            await _book(session, row, outcome)


async def _book_failed_run(generation_id: uuid.UUID, outcome: dict[str, Any]) -> None:
    """GPU-billed models charge for the time a failed run used."""
    if not outcome.get("predict_seconds"):
        return
    spec = current().catalog.get((await records.load(generation_id)).model)
    if spec.hardware_rate is None:
        return
    async with current().runtime.sessionmaker() as session, session.begin():
        row = await session.get(Generation, generation_id)
        if row is not None:
            await _book(session, row, {**outcome, "outputs": []})
