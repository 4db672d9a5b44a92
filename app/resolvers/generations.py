"""Launching, cancelling and reading generations; the model catalog."""

from __future__ import annotations

import uuid

import strawberry

from app.errors import ServiceUnavailableError
from app.generation.catalog import GenericParams, load_catalog
from app.ids import expect_global_id
from app.models import Generation
from app.models.enums import GenerationKind, Role
from app.schema.context import Context, Info
from app.schema.extensions import mutation
from app.schema.types.generation import GenerationType, ModelType
from app.services import generations
from app.services.generations import LaunchRequest
from app.services.placement import place


@strawberry.input(description="Where the result goes; give a workspace, a client or a campaign.")
class GenerationTarget:
    workspace_id: strawberry.ID | None = None
    client_id: strawberry.ID | None = None
    campaign_id: strawberry.ID | None = None
    model: str | None = strawberry.field(
        default=None, description="Defaults to the catalog's choice."
    )
    idempotency_key: str | None = strawberry.field(
        default=None, description="The same key returns the same generation (max 128 chars)."
    )
    reference_asset_id: strawberry.ID | None = None
    reference_generation_id: strawberry.ID | None = None
    seed: int | None = None


@strawberry.input
class GenerateImageInput(GenerationTarget):
    prompt: str | None = None
    aspect_ratio: str | None = strawberry.field(default=None, description="e.g. 1:1, 16:9, 9:16")


@strawberry.input
class GenerateVideoInput(GenerationTarget):
    prompt: str | None = None
    aspect_ratio: str | None = None
    duration: float | None = strawberry.field(
        default=None, description="Seconds (snapped to the model)."
    )
    fps: int | None = None


@strawberry.input
class GenerateAudioInput(GenerationTarget):
    prompt: str | None = None
    duration: float | None = None


@strawberry.type
class GenerationPayload:
    generation: GenerationType


@strawberry.input
class CancelGenerationInput:
    id: strawberry.ID


RATE_SETTING = {
    GenerationKind.IMAGE: "image_rate_limit",
    GenerationKind.VIDEO: "video_rate_limit",
    GenerationKind.AUDIO: "audio_rate_limit",
}


def _maybe(value: strawberry.ID | None, type_name: str, field: str) -> uuid.UUID | None:
    return expect_global_id(value, type_name, field=field) if value else None


async def _launch(
    ctx: Context, kind: GenerationKind, data: GenerationTarget, params: GenericParams
) -> GenerationPayload:
    engine = ctx.runtime.work
    if engine is None:
        raise ServiceUnavailableError("Generations are not available on this server.")
    placement = await place(
        ctx.session,
        ctx.actor,
        workspace_id=_maybe(data.workspace_id, "Workspace", "workspaceId"),
        client_id=_maybe(data.client_id, "Client", "clientId"),
        campaign_id=_maybe(data.campaign_id, "Campaign", "campaignId"),
        minimum=Role.EDITOR,
    )
    request = LaunchRequest(
        kind=kind,
        placement=placement,
        params=params,
        model=data.model,
        reference_asset_id=_maybe(data.reference_asset_id, "Asset", "referenceAssetId"),
        reference_generation_id=_maybe(
            data.reference_generation_id, "Generation", "referenceGenerationId"
        ),
        idempotency_key=(data.idempotency_key or None) and data.idempotency_key[:128],
    )
    limit = getattr(ctx.settings, RATE_SETTING[kind])
    generation, _ = await generations.launch(
        ctx.session,
        ctx.actor,
        load_catalog(),
        engine,
        request,
        admit=lambda: ctx.runtime.limiter.hit(f"generate-{kind.value}", ctx.actor.user_id, limit),
    )
    return GenerationPayload(generation=GenerationType.from_model(generation))


@strawberry.type
class GenerationMutation:
    @mutation(description="Generate an image (EDITOR). Returns at once; watch its status.")
    async def generate_image(
        self, info: Info, input: GenerateImageInput
    ) -> GenerationPayload | None:
        params = GenericParams(
            prompt=input.prompt, aspect_ratio=input.aspect_ratio, seed=input.seed
        )
        return await _launch(info.context, GenerationKind.IMAGE, input, params)

    @mutation(description="Generate a video; without a reference image one is generated first.")
    async def generate_video(
        self, info: Info, input: GenerateVideoInput
    ) -> GenerationPayload | None:
        params = GenericParams(
            prompt=input.prompt,
            aspect_ratio=input.aspect_ratio,
            duration=input.duration,
            seed=input.seed,
            fps=input.fps,
        )
        return await _launch(info.context, GenerationKind.VIDEO, input, params)

    @mutation(description="Generate music or audio (EDITOR).")
    async def generate_audio(
        self, info: Info, input: GenerateAudioInput
    ) -> GenerationPayload | None:
        params = GenericParams(prompt=input.prompt, duration=input.duration, seed=input.seed)
        return await _launch(info.context, GenerationKind.AUDIO, input, params)

    @mutation(description="Cancel a generation, upstream too; a finished one is returned as it is.")
    async def cancel_generation(
        self, info: Info, input: CancelGenerationInput
    ) -> GenerationPayload | None:
        ctx = info.context
        generation = await generations.cancel(
            ctx.session,
            ctx.actor,
            ctx.runtime.work,
            generation_id=expect_global_id(input.id, "Generation"),
            now=ctx.now(),
        )
        return GenerationPayload(generation=GenerationType.from_model(generation))


@strawberry.type
class GenerationQuery:
    @strawberry.field(description="One generation by ID.")
    async def generation(self, info: Info, id: strawberry.ID) -> GenerationType | None:
        row: Generation | None = await info.context.loaders.generation.load(
            expect_global_id(id, "Generation")
        )
        if row is None:
            from app.errors import NotFoundError

            raise NotFoundError("Generation not found.")
        return GenerationType.from_model(row)

    @strawberry.field(
        description="The catalog's models with prices, and whether each can be used here now."
    )
    def models(self, info: Info, kind: GenerationKind | None = None) -> list[ModelType]:
        engine, catalog = info.context.runtime.work, load_catalog()
        provider = engine.provider_name if engine is not None else None
        return [
            ModelType.from_spec(spec, catalog.availability(spec, provider))
            for spec in catalog.of_kind(kind)
        ]
