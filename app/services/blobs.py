"""Stored bytes shared by assets: kept under a row lock, released when nothing points at them."""

from __future__ import annotations

import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.models import Asset, Blob
from app.storage.base import Storage


async def keep_blob(
    session: AsyncSession,
    storage: Storage,
    *,
    workspace_id: uuid.UUID,
    key: str,
    source: Path,
    sha256: str,
    size: int,
    mime_type: str,
) -> None:
    """Record ``key`` and put ``source`` there, holding the blob's lock (see ``release``)."""
    values = {
        "key": key,
        "workspace_id": workspace_id,
        "sha256": sha256,
        "size_bytes": size,
        "mime_type": mime_type,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(Blob) if dialect == "postgresql" else sqlite.insert(Blob)
    await session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["key"]))
    await session.execute(sa.select(col(Blob.key)).where(col(Blob.key) == key).with_for_update())
    await storage.put_file(key, source)


async def release_blobs(session: AsyncSession, storage: Storage, keys: set[str]) -> list[str]:
    """Delete the blobs among ``keys`` that no asset references any more; return them."""
    removed = []
    for key in sorted(keys):
        locked = sa.select(Blob).where(col(Blob.key) == key).with_for_update()
        blob = (await session.execute(locked)).scalar_one_or_none()
        if blob is None or await _referenced(session, key):
            continue
        await storage.delete(key)
        await session.delete(blob)
        removed.append(key)
    await session.flush()
    return removed


async def _referenced(session: AsyncSession, key: str) -> bool:
    statement = sa.select(col(Asset.id)).where(
        sa.or_(
            col(Asset.storage_key) == key,
            col(Asset.thumbnail_key) == key,
            col(Asset.waveform_key) == key,
            col(Asset.poster_key) == key,
        )
    )
    return (await session.execute(statement.limit(1))).first() is not None
