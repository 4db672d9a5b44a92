"""Generations: launching (validated, priced, idempotent), cancelling, and their outcomes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.actor import Actor
from app.engine.port import WorkEngine, generation_workflow_id
from app.errors import BadUserInputError, ConflictError
from app.generation.catalog import Availability, Catalog, GenericParams, ModelSpec
from app.generation.pricing import estimate
from app.models import Asset, Generation
from app.models.enums import (
    AssetKind,
    AssetStatus,
    GenerationKind,
    Role,
)
from app.services import budgets
from app.services import generation_lifecycle as lifecycle
from app.services.access import get_visible
from app.services.admission import Admit, admit_all
from app.services.events import generation_stream, record
from app.services.ledger import Owner, book_estimate
from app.services.placement import Placement

REFERENCE_KINDS = frozenset({AssetKind.IMAGE, AssetKind.VIDEO})
MAX_FPS = 60


@dataclass(frozen=True, slots=True)
class LaunchRequest:
    kind: GenerationKind
    placement: Placement
    params: GenericParams
    model: str | None = None
    reference_asset_id: uuid.UUID | None = None
    reference_generation_id: uuid.UUID | None = None
    idempotency_key: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


async def launch(
    session: AsyncSession,
    actor: Actor,
    catalog: Catalog,
    engine: WorkEngine,
    request: LaunchRequest,
    admit: Admit = admit_all,
) -> tuple[Generation, bool]:
    """The generation for this request and whether it is new (an idempotent repeat is not,
    and is not counted by ``admit``). A new one is checked against its campaign's budget and
    starts once the operation commits."""
    spec = _model(catalog, engine.provider_name, request)
    runner = catalog.availability(spec, engine.provider_name)
    existing = await _by_key(session, request.placement.workspace_id, request.idempotency_key)
    stored_input = await _stored_input(session, actor, spec, request)
    if existing is not None:
        if existing.input != stored_input or existing.model != spec.id:
            raise ConflictError(
                "This idempotencyKey was used for a different request.",
                fields={"idempotencyKey": "was used with other inputs"},
            )
        return existing, False
    await admit()
    charge = estimate(spec, request.params)
    await budgets.check(
        session,
        request.placement.campaign_id,
        charge.amount + _chained(catalog, spec, stored_input),
    )
    generation = await _create(session, actor, spec, request, stored_input, runner)
    lifecycle.start(session, engine, generation)
    return generation, True


def _chained(catalog: Catalog, spec: ModelSpec, stored_input: dict[str, Any]) -> Decimal:
    """What the start image a video without a reference will first generate costs."""
    if not stored_input.get("chain_image"):
        return Decimal(0)
    image = catalog.companion(spec, GenerationKind.IMAGE)  # as the engine will chain it
    return estimate(image, GenericParams.from_dict(stored_input.get("params", {}))).amount


def _model(catalog: Catalog, provider: str, request: LaunchRequest) -> ModelSpec:
    spec = (
        catalog.get(request.model) if request.model else catalog.default_for(provider, request.kind)
    )
    if spec.kind is not request.kind:
        raise BadUserInputError(
            f"{spec.id} makes {spec.kind.value}, not {request.kind.value}.",
            fields={"model": f"is not a {request.kind.value} model"},
        )
    if not catalog.availability(spec, provider).available:
        raise BadUserInputError(
            f"{spec.id} is not available here (the {provider} provider is active).",
            fields={"model": "is not available with the active provider"},
        )
    _check_params(spec, request.params)
    return spec


def _check_params(spec: ModelSpec, params: GenericParams) -> None:
    problems: dict[str, str] = {}
    if params.prompt is not None and len(params.prompt) > 2000:
        problems["prompt"] = "must be at most 2000 characters"
    if params.aspect_ratio and spec.aspect_ratios and params.aspect_ratio not in spec.aspect_ratios:
        problems["aspectRatio"] = f"must be one of {', '.join(spec.aspect_ratios)}"
    if params.duration is not None and not 0 < params.duration <= 120:
        problems["duration"] = "must be between 0 and 120 seconds"
    if params.fps is not None and not 1 <= params.fps <= MAX_FPS:  # frames to render offline
        problems["fps"] = f"must be between 1 and {MAX_FPS}"
    if problems:
        raise BadUserInputError("Invalid generation input.", fields=problems)


async def _stored_input(
    session: AsyncSession, actor: Actor, spec: ModelSpec, request: LaunchRequest
) -> dict[str, Any]:
    stored: dict[str, Any] = {"params": request.params.as_dict(), **request.extra}
    if request.reference_asset_id and request.reference_generation_id:
        raise BadUserInputError(
            "Give at most one reference.",
            fields={"referenceAssetId": "only one reference at a time"},
        )
    reference = await _reference_asset(session, actor, request)
    if reference is not None:
        stored["reference_asset_id"] = reference.hex
    elif spec.kind is GenerationKind.VIDEO:
        stored["chain_image"] = True  # no start image: an image generation comes first
    if not request.params.prompt and reference is None:
        raise BadUserInputError(
            "Give a prompt, a reference, or both.", fields={"prompt": "is required"}
        )
    return stored


async def _reference_asset(
    session: AsyncSession, actor: Actor, request: LaunchRequest
) -> uuid.UUID | None:
    asset_id = request.reference_asset_id
    if request.reference_generation_id is not None:
        source = await get_visible(
            session, actor, Generation, request.reference_generation_id, what="Generation"
        )
        if source.output_asset_id is None:
            raise BadUserInputError(
                "That generation has no output yet.",
                fields={"referenceGenerationId": "has not produced an asset yet"},
            )
        asset_id = source.output_asset_id
    if asset_id is None:
        return None
    asset = await get_visible(session, actor, Asset, asset_id, what="Asset")
    # A video stands in as an image by its poster frame (the engine extracts it once).
    if asset.kind not in REFERENCE_KINDS or asset.status is not AssetStatus.READY:
        raise BadUserInputError(
            "A reference must be a ready image or video.",
            fields={"referenceAssetId": "is not a ready image or video"},
        )
    if asset.workspace_id != request.placement.workspace_id:
        raise BadUserInputError(
            "The reference belongs to another workspace.", fields={"referenceAssetId": "elsewhere"}
        )
    return asset.id


async def _by_key(
    session: AsyncSession, workspace_id: uuid.UUID, key: str | None
) -> Generation | None:
    if not key:
        return None
    statement = sa.select(Generation).where(
        col(Generation.workspace_id) == workspace_id, col(Generation.idempotency_key) == key
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _create(
    session: AsyncSession,
    actor: Actor,
    spec: ModelSpec,
    request: LaunchRequest,
    stored_input: dict[str, Any],
    runner: Availability,
) -> Generation:
    charge = estimate(spec, request.params)
    generation = Generation(
        workspace_id=request.placement.workspace_id,
        client_id=request.placement.client_id,
        campaign_id=request.placement.campaign_id,
        created_by_id=actor.user_id,
        kind=spec.kind,
        model=spec.id,
        provider=runner.provider,
        simulated=runner.simulated,
        input=stored_input,
        idempotency_key=request.idempotency_key,
        estimated_cost=charge.amount,
    )
    session.add(generation)
    await session.flush()
    generation.workflow_id = generation_workflow_id(generation.id)
    book_estimate(
        session,
        Owner.of_generation(generation),
        charge,
        stage=spec.kind.value,
        model=spec.id,
        simulated=runner.simulated,
    )
    await record(
        session,
        workspace_id=generation.workspace_id,
        stream_id=generation_stream(generation.id),
        type="generation.queued",
        payload={"model": spec.id, "kind": spec.kind.value},
    )
    return generation


async def cancel(
    session: AsyncSession,
    actor: Actor,
    engine: WorkEngine | None,
    *,
    generation_id: uuid.UUID,
    now: datetime,
) -> Generation:
    """Cancel it, upstream too once this commits; a finished one stays as it is."""
    generation = await get_visible(
        session, actor, Generation, generation_id, what="Generation", for_update=True
    )
    actor.require(generation.workspace_id, Role.EDITOR)
    await lifecycle.cancelled(session, generation, "Canceled by a user.", now, engine)
    await session.flush()
    return generation
