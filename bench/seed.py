"""Seed the dashboard workload: one owner, 20 clients x 10 campaigns x 20 assets, some spend.

Rows are inserted in bulk through SQLAlchemy Core, with the models' own defaults, and every
row gets a distinct ``created_at`` so "newest first" pages are deterministic; the tables are
analyzed at the end, so every server's planner sees the same statistics from the start.
Assets are what an upload leaves behind: READY images whose bytes are real PNG files,
content-addressed (the 20 frames are shared by every campaign, one blob each), written to the
media root when given.
"""

from __future__ import annotations

import hashlib
import io
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from PIL import Image
from sqlmodel import SQLModel

from app.auth.passwords import Passwords
from app.db import create_engine
from app.models import (
    Asset,
    Blob,
    Campaign,
    Client,
    CostEntry,
    Job,
    Membership,
    User,
    Workspace,
)
from app.models.enums import (
    AssetKind,
    AssetSource,
    AssetStatus,
    BillingBasis,
    CampaignStatus,
    CostKind,
    JobStatus,
    Role,
)
from app.storage.base import content_key

CLIENTS = 20
CAMPAIGNS_PER_CLIENT = 10
# The reference workload lists each campaign's first 5 of 20 assets.
ASSETS_PER_CAMPAIGN = 20
FRAME_SIZE = (1280, 720)
# Cheap Argon2 parameters; the servers are started with the same ones (see bench/dashboard.py).
ARGON2_TIME_COST = 1
ARGON2_MEMORY_KIB = 1024
EPOCH = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_STATUSES = list(CampaignStatus)


@dataclass(frozen=True, slots=True)
class Frame:
    """One stored PNG: its bytes and where they live."""

    data: bytes
    sha256: str
    key: str


@dataclass(frozen=True, slots=True)
class Seeded:
    workspace_id: uuid.UUID
    email: str
    password: str
    clients: int
    campaigns: int
    assets: int
    jobs: int
    cost_entries: int


def _row(instance: SQLModel) -> dict[str, Any]:
    """A table row with every Python-side default filled in (Core inserts skip them)."""
    return instance.model_dump()


def _at(step: int) -> datetime:
    """A distinct timestamp per step, with microseconds so ISO strings keep their fraction."""
    return EPOCH + timedelta(seconds=step * 37, microseconds=(step * 7919) % 1_000_000)


async def seed(
    database_url: str, media_root: Path | None = None, *, clients: int = CLIENTS
) -> Seeded:
    """Insert the workload (``clients`` clients); with ``media_root`` (the server's) also write
    the frames' bytes."""
    suffix = secrets.token_hex(4)
    email = f"bench-{suffix}@example.com"
    password = secrets.token_urlsafe(18)
    passwords = Passwords(time_cost=ARGON2_TIME_COST, memory_cost_kib=ARGON2_MEMORY_KIB)
    user = User(email=email, name="Bench Owner", password_hash=await passwords.hash(password))
    workspace = Workspace(name="Bench Agency", slug=f"bench-agency-{suffix}")
    membership = Membership(workspace_id=workspace.id, user_id=user.id, role=Role.OWNER)
    frames = _frames(workspace.id)
    client_rows, campaigns, assets = _catalogue(workspace.id, user.id, frames, clients)
    jobs, costs = _spend(workspace.id, campaigns)
    blobs = [_blob(workspace.id, frame) for frame in frames]
    if media_root is not None:
        for frame in frames:
            target = media_root / frame.key
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(frame.data)

    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            for model, rows in (
                (User, [_row(user)]),
                (Workspace, [_row(workspace)]),
                (Membership, [_row(membership)]),
                (Client, client_rows),
                (Campaign, campaigns),
                (Blob, blobs),
                (Asset, assets),
                (Job, jobs),
                (CostEntry, costs),
            ):
                await connection.execute(sa.insert(model), rows)
        async with engine.connect() as connection:
            # Fresh statistics for every planner that reads these tables, at once: otherwise
            # autovacuum analyzes them at some moment of the run, and plans change mid-way.
            await connection.execute(sa.text("ANALYZE"))
            await connection.commit()
    finally:
        await engine.dispose()
    return Seeded(
        workspace.id, email, password, len(client_rows), len(campaigns), len(assets),
        len(jobs), len(costs),
    )  # fmt: skip


def _frames(workspace_id: uuid.UUID) -> list[Frame]:
    """ASSETS_PER_CAMPAIGN distinct PNGs, keyed the way storage keys uploaded content."""
    frames = []
    for index in range(ASSETS_PER_CAMPAIGN):
        out = io.BytesIO()
        Image.new("RGB", FRAME_SIZE, (12 * index, 90, 240 - 12 * index)).save(out, format="PNG")
        data = out.getvalue()
        sha256 = hashlib.sha256(data).hexdigest()
        frames.append(Frame(data, sha256, content_key(workspace_id.hex, sha256, ".png")))
    return frames


def _blob(workspace_id: uuid.UUID, frame: Frame) -> dict[str, Any]:
    blob = Blob(
        key=frame.key,
        workspace_id=workspace_id,
        sha256=frame.sha256,
        size_bytes=len(frame.data),
        mime_type="image/png",
        created_at=EPOCH,
    )
    return _row(blob)


def _catalogue(
    workspace_id: uuid.UUID, user_id: uuid.UUID, frames: list[Frame], count: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    clients: list[dict[str, Any]] = []
    campaigns: list[dict[str, Any]] = []
    assets: list[dict[str, Any]] = []
    step = 0
    for c in range(count):
        step += 1
        client = Client(
            workspace_id=workspace_id,
            created_by_id=user_id,
            name=f"Client {c:02d}",
            description=None if c % 4 == 3 else f"Retail brand number {c}, spring line.",
            brand_guidelines={"colors": ["#112233"], "tone": "warm"},
            created_at=_at(step),
            updated_at=_at(step),
        )
        clients.append(_row(client))
        for k in range(CAMPAIGNS_PER_CLIENT):
            step += 1
            campaign = Campaign(
                workspace_id=workspace_id,
                client_id=client.id,
                created_by_id=user_id,
                name=f"Campaign {c:02d}-{k:02d}",
                goal="Launch the spring collection to first-time buyers.",
                status=_STATUSES[(c + k) % len(_STATUSES)],
                brief={"objective": "awareness", "key_messages": ["new", "spring"]},
                budget=Decimal("1500.00") if k % 2 == 0 else None,
                created_at=_at(step),
                updated_at=_at(step),
            )
            campaigns.append(_row(campaign))
            for a, frame in enumerate(frames):
                step += 1
                asset = Asset(
                    workspace_id=workspace_id,
                    client_id=client.id,
                    campaign_id=campaign.id,
                    created_by_id=user_id,
                    kind=AssetKind.IMAGE,
                    source=AssetSource.UPLOADED,
                    status=AssetStatus.READY,
                    name=f"frame-{a:02d}.png",
                    mime_type="image/png",
                    format="png",
                    size_bytes=len(frame.data),
                    sha256=frame.sha256,
                    storage_key=frame.key,
                    width=FRAME_SIZE[0],
                    height=FRAME_SIZE[1],
                    tags=["bench"],
                    created_at=_at(step),
                    updated_at=_at(step),
                )
                assets.append(_row(asset))
    return clients, campaigns, assets


def _spend(
    workspace_id: uuid.UUID, campaigns: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Completed (and a few failed) jobs with actual ledger entries on every third campaign."""
    jobs: list[dict[str, Any]] = []
    costs: list[dict[str, Any]] = []
    for index, campaign in enumerate(campaigns[::3]):
        for attempt in range(2):
            status = JobStatus.FAILED if (index + attempt) % 5 == 4 else JobStatus.COMPLETED
            amount = Decimal("0.035") * (attempt + 1) + Decimal("0.000225") * index
            job = Job(
                workspace_id=workspace_id,
                client_id=campaign["client_id"],
                campaign_id=campaign["id"],
                product="Spring jacket",
                target_audience="first-time buyers",
                key_message="Light, warm, yours.",
                call_to_action="Shop now",
                style="bright",
                duration_seconds=30,
                status=status,
                actual_cost=amount,
                completed_at=_at(10_000 + index) if status is JobStatus.COMPLETED else None,
            )
            jobs.append(_row(job))
            entry = CostEntry(
                workspace_id=workspace_id,
                client_id=campaign["client_id"],
                campaign_id=campaign["id"],
                job_id=job.id,
                kind=CostKind.ACTUAL,
                basis=BillingBasis.PER_IMAGE,
                stage="storyboard",
                model="bench/image-model",
                quantity=Decimal(1),
                unit_price=amount,
                amount=amount,
            )
            costs.append(_row(entry))
    return jobs, costs
