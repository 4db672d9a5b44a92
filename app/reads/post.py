"""Fields the database cannot write by itself, filled in one pass over the statement's result.

The statement leaves a marker object ``{"\\u0001": n, "v": [...]}`` where such a field goes: ``n``
numbers the field in the plan, ``v`` holds the stored values it needs. :func:`finish` replaces
each marker with what the resolver would have returned (signed links need the secret key and
the clock; JSON columns are reshaped the way the GraphQL types do).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app.ids import encode_global_id
from app.storage.links import MediaLinks, Variant

MARKER = "\x01"
READY = "ready"


@dataclass(frozen=True, slots=True)
class Finishing:
    """What the Python-side fields need: the link signer and the request's moment."""

    links: MediaLinks
    now: datetime


@dataclass(frozen=True, slots=True)
class Projection:
    """How one marked field is finished: the function and, for an object, its selection."""

    finish: Callable[..., Any]
    selection: Sequence[tuple[str, str]] | None  # (response key, field name); None: a scalar
    typename: str | None = None


def _link(variant: Variant) -> Callable[..., str | None]:
    def link(ctx: Finishing, row_id: str, status: str, key: str | None) -> str | None:
        if key is None or status != READY:
            return None
        return ctx.links.media_url(uuid.UUID(row_id), variant, ctx.now)

    return link


original_link = _link(Variant.ORIGINAL)
thumbnail_link = _link(Variant.THUMBNAIL)
waveform_link = _link(Variant.WAVEFORM)


def brand_guidelines(ctx: Finishing, data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {
        "colors": list(data.get("colors") or []),
        "fonts": list(data.get("fonts") or []),
        "tone": data.get("tone"),
        "restrictions": list(data.get("restrictions") or []),
        "examples": list(data.get("examples") or []),
    }


def campaign_brief(ctx: Finishing, data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {
        "objective": data.get("objective"),
        "targetAudience": data.get("target_audience"),
        "keyMessages": list(data.get("key_messages") or []),
        "notes": data.get("notes"),
    }


def job_progress(ctx: Finishing, data: dict[str, Any] | None) -> dict[str, Any]:
    p = data or {}
    return {
        "stage": p.get("stage", "queued"),
        "percent": float(p.get("percent", 0)),
        "message": p.get("message"),
        "currentStep": int(p.get("currentStep", 0)),
        "totalSteps": int(p.get("totalSteps", 0)),
    }


def generation_input(ctx: Finishing, stored: dict[str, Any]) -> dict[str, Any]:
    public = dict(stored.get("params", {}))
    if stored.get("reference_asset_id"):
        public["referenceAssetId"] = encode_global_id(
            "Asset", uuid.UUID(stored["reference_asset_id"])
        )
    return public


def finish(value: Any, projections: Sequence[Projection], ctx: Finishing) -> Any:
    """``value`` with every marker replaced (iteratively; the result is modified in place)."""
    holder = [value]
    stack: list[tuple[Any, Any]] = [(holder, 0)]
    while stack:
        container, key = stack.pop()
        item = container[key]
        if isinstance(item, dict):
            if MARKER in item:
                container[key] = _finished(item, projections, ctx)
                continue
            stack.extend((item, k) for k in item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
    return holder[0]


def _finished(marker: dict[str, Any], projections: Sequence[Projection], ctx: Finishing) -> Any:
    projection = projections[marker[MARKER]]
    value = projection.finish(ctx, *marker["v"])
    if projection.selection is None or value is None:
        return value
    return {
        key: projection.typename if name == "__typename" else value[name]
        for key, name in projection.selection
    }
