"""Assets, jobs with scenes, generations and ledger rows of one client, in every shape.

Each builder walks a shared serial number through the enums, so that consecutive rows cover
every combination (kind x status x source for assets) across the dataset.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.models import Asset, CostEntry, Generation, Job, Scene
from app.models.enums import (
    AspectRatio,
    AssetKind,
    AssetSource,
    AssetStatus,
    BillingBasis,
    CostKind,
    GenerationKind,
    GenerationStatus,
    JobStatus,
    SceneStatus,
    ShotType,
    Transition,
)
from tests.read_ops.rows import Rows

if TYPE_CHECKING:
    from tests.read_ops.dataset import Dataset

Row = dict[str, Any]
Owner = tuple[Row, Row, list[Row]]  # workspace, client, its campaigns
MIME = {
    AssetKind.IMAGE: ("image/png", "png"),
    AssetKind.VIDEO: ("video/mp4", "mp4"),
    AssetKind.AUDIO: ("audio/mpeg", "mp3"),
    AssetKind.DOCUMENT: ("application/pdf", "pdf"),
}
TAGS: list[list[str]] = [[], ["hero"], ["hero", "summer"], ["b-roll"]]
MODELS = {
    GenerationKind.IMAGE: "black-forest-labs/flux-schnell",
    GenerationKind.VIDEO: "google/veo-3",
    GenerationKind.AUDIO: "meta/musicgen",
    GenerationKind.TEXT: "x/text",
}
COSTS = [None, Decimal("0.003"), Decimal("1.5"), Decimal("0.000225"), Decimal("12.345678")]


def _pick(items: list[Row], n: int) -> Row | None:
    return items[n % len(items)] if items else None


def add_assets(rows: Rows, data: Dataset, bucket: str, owner: Owner) -> list[Row]:
    space, client, campaigns = owner
    assets = []
    for i in range(6):
        n = rows.serial("asset")
        kind = list(AssetKind)[n % 4]
        status = list(AssetStatus)[(n // 4) % 4]
        campaign = None if i % 3 == 2 else _pick(campaigns, i)
        asset = rows.add(
            Asset,
            tie=i == 3,
            **_asset_values(n, kind, status),
            workspace_id=space["id"],
            client_id=None if i == 5 else client["id"],
            campaign_id=campaign["id"] if campaign else None,
            source=list(AssetSource)[(n // 16) % 3],
        )
        data.note(bucket, "Asset", asset)
        assets.append(asset)
    return assets


def _asset_values(n: int, kind: AssetKind, status: AssetStatus) -> Row:
    mime, extension = MIME[kind]
    stored = status is not AssetStatus.PENDING
    sized = kind in {AssetKind.IMAGE, AssetKind.VIDEO} and n % 5 != 4
    timed = kind in {AssetKind.VIDEO, AssetKind.AUDIO} and n % 3 != 2
    return {
        "kind": kind,
        "status": status,
        "status_reason": "Not a real file." if status is AssetStatus.REJECTED else None,
        "name": f"file-{n % 5}.{extension}",  # names repeat, to tie on them
        "mime_type": mime if stored else None,
        "format": extension if stored else None,
        "size_bytes": 1000 + n * 17 if stored else None,
        "sha256": f"{n:064x}" if stored else None,
        "storage_key": f"media/{n:04d}.{extension}" if stored else None,
        "width": 640 + n if sized else None,
        "height": 360 + n if sized else None,
        "duration_seconds": 1.5 + n / 8 if timed else None,
        "page_count": n % 7 if kind is AssetKind.DOCUMENT and n % 2 else None,
        "thumbnail_key": f"thumbs/{n}.png" if n % 2 == 0 else None,
        "waveform_key": f"waves/{n}.png" if kind is AssetKind.AUDIO and n % 3 else None,
        "tags": TAGS[n % 4],
    }


def add_jobs(rows: Rows, data: Dataset, bucket: str, owner: Owner, assets: list[Row]) -> list[Row]:
    space, client, campaigns = owner
    videos = [a for a in assets if a["kind"] is AssetKind.VIDEO]
    audios = [a for a in assets if a["kind"] is AssetKind.AUDIO]
    jobs = []
    for i in range(3):
        n = rows.serial("job")
        status = list(JobStatus)[n % 7]
        done = status is JobStatus.COMPLETED
        campaign = _pick(campaigns, i) if i != 2 else None
        final, music = _pick(videos, n), _pick(audios, n)
        job = rows.add(
            Job,
            tie=i == 1,
            **_job_values(n, status),
            workspace_id=space["id"],
            client_id=client["id"],
            campaign_id=campaign["id"] if campaign else None,
            final_video_asset_id=final["id"] if done and final else None,
            music_asset_id=music["id"] if done and music else None,
        )
        data.note(bucket, "Job", job)
        jobs.append(job)
        _scenes(rows, data, bucket, job, n, assets)
        _ledger(rows, (space, client, campaign), job, None, COSTS[n % 5], n)
    return jobs


def _job_values(n: int, status: JobStatus) -> Row:
    progress = {"stage": "rendering", "percent": 42.5, "message": "Scene 2 of 4",
                "currentStep": 2, "totalSteps": 4}  # fmt: skip
    return {
        "status": status,
        "product": f"Jacket {n % 3}",
        "target_audience": "first-time buyers",
        "key_message": "Light, warm, yours.",
        "call_to_action": "Shop now",
        "style": "bright",
        "tone": None if n % 2 else "calm",
        "visual_elements": ["snow", "city"] if n % 3 else [],
        "music_style": None if n % 4 == 1 else "lo-fi",
        "duration_seconds": [15, 30, 60][n % 3],
        "aspect_ratio": list(AspectRatio)[n % 3],
        "resolution": "1080p" if n % 2 else "720p",
        "progress": progress if n % 2 else {},
        "approved": n % 3 == 0,
        "approved_at": None,
        "refinement_count": n % 3,
        "feedback": "More snow." if n % 4 == 0 else None,
        "estimated_cost": COSTS[(n + 1) % 5],
        "actual_cost": COSTS[n % 5] or Decimal(0),
        "error_code": "PROVIDER_ERROR" if status is JobStatus.FAILED else None,
        "error_message": "The model failed." if status is JobStatus.FAILED else None,
    }


def _scenes(rows: Rows, data: Dataset, bucket: str, job: Row, n: int, assets: list[Row]) -> None:
    images = [a for a in assets if a["kind"] is AssetKind.IMAGE]
    videos = [a for a in assets if a["kind"] is AssetKind.VIDEO]
    for number in range(1, n % 4 + 1):
        m = rows.serial("scene")
        image, video = _pick(images, m), _pick(videos, m)
        scene = rows.add(
            Scene,
            job_id=job["id"],
            number=number,
            description=f"Scene {number}: the city at dawn",
            script=None if m % 2 else "We open on a skyline.",
            image_prompt="a skyline at dawn, 35mm",
            duration_seconds=2.5 + m % 3,
            shot_type=list(ShotType)[m % 4],
            transition=list(Transition)[m % 3],
            status=list(SceneStatus)[m % 7],
            image_asset_id=image["id"] if image and m % 3 else None,
            video_asset_id=video["id"] if video and m % 2 else None,
            error_message="Timed out." if m % 7 == 5 else None,
        )
        data.note(bucket, "Scene", scene)
        job.setdefault("scene_rows", []).append(scene)


def add_generations(
    rows: Rows, data: Dataset, bucket: str, owner: Owner, assets: list[Row], jobs: list[Row]
) -> None:
    space, client, campaigns = owner
    for i in range(5):
        n = rows.serial("generation")
        kind = list(GenerationKind)[n % 4]
        job = _pick(jobs, i) if i % 2 == 0 else None
        scene = _pick(job.get("scene_rows", []), n) if job else None
        campaign = _pick(campaigns, i) if i != 4 else None
        chained = None
        if kind is GenerationKind.VIDEO and n % 3 != 2:  # a start image chained first
            chained = _generation(rows, data, bucket, owner, GenerationKind.IMAGE, n + 1, assets)
        row = _generation(rows, data, bucket, owner, kind, n, assets, chained=chained, extra={
            "client_id": None if i == 3 else client["id"],
            "campaign_id": campaign["id"] if campaign else None,
            "job_id": job["id"] if job else None,
            "scene_id": scene["id"] if scene else None,
        })  # fmt: skip
        _ledger(rows, (space, client, campaign), job, row, row["cost"], n)
    for job in jobs:
        job.pop("scene_rows", None)


def _generation(
    rows: Rows,
    data: Dataset,
    bucket: str,
    owner: Owner,
    kind: GenerationKind,
    n: int,
    assets: list[Row],
    *,
    chained: Row | None = None,
    extra: Row | None = None,
) -> Row:
    status = list(GenerationStatus)[(n // 4) % 6]
    succeeded = status is GenerationStatus.SUCCEEDED
    output = _pick([a for a in assets if a["kind"].value == kind.value], n)
    stored: Row = {"params": {"prompt": f"jacket {n}", "aspect_ratio": "16:9", "seed": n}}
    if n % 4 == 1 and assets:
        stored["reference_asset_id"] = str(assets[n % len(assets)]["id"])
    if chained is not None:
        stored["child_generation_id"] = chained["id"].hex
    elif kind is GenerationKind.VIDEO:  # a chain whose first link is gone
        stored["child_generation_id"] = rows.uuid().hex
    failed = status is GenerationStatus.FAILED
    row = rows.add(Generation, tie=n % 5 == 0, **{
        "workspace_id": owner[0]["id"], "kind": kind, "model": MODELS[kind],
        "provider": "local" if n % 3 == 0 else "replicate", "simulated": n % 3 == 0,
        "input": stored, "status": status,
        "provider_prediction_id": f"pred-{n}" if n % 2 else None,
        "output_asset_id": output["id"] if succeeded and output else None,
        "estimated_cost": COSTS[(n + 2) % 5], "cost": COSTS[n % 5] if n % 6 else None,
        "error_code": "E_MODEL" if failed else None,
        "error_message": "It failed." if failed else None,
        "submitted_at": rows.moment(tie=True) if n % 2 else None,
        "started_at": rows.moment(tie=True) if n % 4 == 1 else None,
        "completed_at": rows.moment(tie=True) if succeeded or failed else None,
        "predict_time_seconds": 3.25 + n if succeeded else None,
        **(extra or {"client_id": owner[1]["id"]}),
    })  # fmt: skip
    data.note(bucket, "Generation", row)
    return row


def _ledger(
    rows: Rows,
    owner: tuple[Row, Row, Row | None],
    job: Row | None,
    generation: Row | None,
    amount: Decimal | None,
    n: int,
) -> None:
    if amount is None:
        return
    space, client, campaign = owner
    for kind in (CostKind.ACTUAL, CostKind.ESTIMATE) if n % 2 else (CostKind.ACTUAL,):
        rows.add(
            CostEntry,
            workspace_id=space["id"],
            client_id=client["id"],
            campaign_id=campaign["id"] if campaign else None,
            job_id=job["id"] if job else None,
            generation_id=generation["id"] if generation else None,
            kind=kind,
            basis=BillingBasis.PER_IMAGE,
            stage="scene_image",
            model="black-forest-labs/flux-schnell",
            quantity=Decimal(1),
            unit_price=amount,
            amount=amount,
            simulated=n % 3 == 0,
        )
