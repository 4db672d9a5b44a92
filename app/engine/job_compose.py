"""The composition step: the scene clips and the music made into the job's final MP4."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

from dbos import DBOS

from app.engine import job_steps
from app.engine.deps import current
from app.media.compose import Clip, compose, output_size
from app.media.intake import Received
from app.media.probe import Probe
from app.media.rules import Declared
from app.models import Asset
from app.models.enums import AssetKind, AssetSource
from app.services import ledger
from app.services.assets import NewAsset, store_asset
from app.services.ingest import receive_and_probe
from app.services.jobs import lifecycle
from app.services.jobs.service import scenes_of
from app.services.placement import Placement


@DBOS.step(name="job_compose", retries_allowed=True, max_attempts=2)
async def compose_step(job_id: str) -> str:
    runtime = current().runtime
    workdir = runtime.storage.spool_dir() / f"compose-{job_id}-{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        async with runtime.read_sessionmaker() as session:  # reads only: no lock while copying
            job = await job_steps.locked_job(session, job_id)
            if job is None:
                return "stopped"
            scenes = await scenes_of(session, job.id)
            clips = [
                Clip(
                    await _local(session, s.video_asset_id, workdir),
                    s.duration_seconds,
                    s.transition.value,
                )
                for s in scenes
            ]
            music = (
                await _local(session, job.music_asset_id, workdir) if job.music_asset_id else None
            )
            size = output_size(job.aspect_ratio.value, job.resolution)
        target = workdir / "final.mp4"
        await asyncio.to_thread(compose, clips, music, target, size)
        return await _finish(job_id, target)
    finally:
        await asyncio.to_thread(_remove, workdir)


async def _local(session: object, asset_id: uuid.UUID | None, workdir: Path) -> Path:
    asset = await session.get(Asset, asset_id) if asset_id else None  # type: ignore[attr-defined]
    if asset is None or asset.storage_key is None:
        raise RuntimeError("a scene has no rendered video")
    path = workdir / f"{asset.id.hex}.{asset.format or 'bin'}"
    with path.open("wb") as handle:
        async for chunk in current().runtime.storage.read(asset.storage_key):
            await asyncio.to_thread(handle.write, chunk)
    return path


async def _chunks(target: Path) -> AsyncIterator[bytes]:
    with target.open("rb") as handle:
        while block := await asyncio.to_thread(handle.read, 1024 * 1024):
            yield block


async def _finish(job_id: str, target: Path) -> str:
    runtime = current().runtime
    declared = Declared("final.mp4", AssetKind.VIDEO)
    received, probe = await receive_and_probe(
        runtime.storage, runtime.caps, declared, _chunks(target)
    )
    try:
        return await _complete(job_id, received, probe)
    finally:
        await asyncio.to_thread(received.path.unlink, True)


async def _complete(job_id: str, received: Received, probe: Probe) -> str:
    runtime = current().runtime
    async with runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        if job is None:
            return "stopped"
        new = NewAsset(
            Placement(job.workspace_id, job.client_id, job.campaign_id),
            f"{job.product[:60]}-ad.mp4",
            ["ad"],
            AssetSource.GENERATED,
        )
        asset = await store_asset(session, runtime.storage, job.created_by_id, new, received, probe)
        spent = await ledger.actual_total(session, job.id)
        await lifecycle.complete(session, job, asset.id, spent, current().now())
    return "completed"


def _remove(path: Path) -> None:
    for child in path.glob("*"):
        child.unlink(missing_ok=True)
    path.rmdir()
