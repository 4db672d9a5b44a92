"""The generation workflow: (chain a start image) -> submit -> wait -> collect.

Every provider call is a step. ``submit`` commits the prediction id to our table before any
waiting, and returns the recorded id when re-run, so a crash never pays twice.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import structlog
from dbos import DBOS

from app.engine import records
from app.engine.collect import collect
from app.engine.deps import current
from app.engine.give_up import failure_of, give_up_step, stop_and_book
from app.engine.reference import reference_url
from app.engine.upstream import (
    LAST_LOOK_SECONDS,
    outcome_of,
    poll_once,
    stop_upstream,
)
from app.generation.catalog import GenericParams
from app.generation.provider import (
    PredictionRequest,
    PredictionState,
    ProviderRejected,
    ProviderUnavailable,
)
from app.models import Generation
from app.models.enums import GENERATION_FINAL, GenerationKind, GenerationStatus
from app.services import generation_lifecycle as lifecycle

log = structlog.get_logger("app.engine")
WEBHOOK_PATH = "/webhooks/replicate"
CREATE_GRACE_SECONDS = 30.0


@DBOS.workflow(name="generation")
async def generation_workflow(generation_id: str) -> str:
    with current().running():
        try:
            return await _generation(generation_id)
        except Exception as error:
            # A stopping process or a cancelled workflow raises BaseException, not this.
            return await give_up_step(generation_id, *failure_of(error))


async def _generation(generation_id: str) -> str:
    child = await chain_image_step(generation_id)
    if child:
        try:
            await run_prediction(child)
        except Exception as error:
            await give_up_step(child, *failure_of(error))
        if not await adopt_reference_step(generation_id, child):
            return "failed"
    return await run_prediction(generation_id)


async def run_prediction(generation_id: str) -> str:
    prediction_id = await submit_step(generation_id)
    if not prediction_id:
        return "stopped"
    outcome = await wait_step(generation_id, prediction_id)
    return await collect_step(generation_id, outcome)


@DBOS.step(name="chain_image")
async def chain_image_step(generation_id: str) -> str:
    """A video without a start image gets an image generation first (created once)."""
    generation = await records.load(uuid.UUID(generation_id))
    if not generation.input.get("chain_image") or generation.status in GENERATION_FINAL:
        return ""
    if generation.input.get("child_generation_id"):
        return str(generation.input["child_generation_id"])
    return await _create_child(generation)


async def _create_child(parent: Generation) -> str:
    deps = current()
    spec = deps.catalog.companion(deps.catalog.get(parent.model), GenerationKind.IMAGE)
    runner = deps.catalog.availability(spec, deps.provider.name)
    params = GenericParams.from_dict(parent.input.get("params", {}))
    child_params = GenericParams(
        prompt=params.prompt, aspect_ratio=params.aspect_ratio, seed=params.seed
    )
    async with deps.runtime.sessionmaker() as session, session.begin():
        child = Generation(
            workspace_id=parent.workspace_id,
            client_id=parent.client_id,
            campaign_id=parent.campaign_id,
            job_id=parent.job_id,
            scene_id=parent.scene_id,
            created_by_id=parent.created_by_id,
            kind=GenerationKind.IMAGE,
            model=spec.id,
            provider=runner.provider,
            simulated=runner.simulated,
            input={"params": child_params.as_dict(), "parent_generation_id": parent.id.hex},
            workflow_id=parent.workflow_id,
        )
        session.add(child)
        await session.flush()
        row = await session.get(Generation, parent.id, with_for_update=True)
        assert row is not None
        row.input = {**row.input, "child_generation_id": child.id.hex}
    return child.id.hex


@DBOS.step(name="adopt_reference")
async def adopt_reference_step(generation_id: str, child_id: str) -> bool:
    child = await records.load(uuid.UUID(child_id))
    if child.output_asset_id is None:
        await records.fail(
            uuid.UUID(generation_id),
            "PROVIDER_ERROR",
            f"The start image could not be made: {child.error_message or 'no output'}",
        )
        return False
    parent = await records.load(uuid.UUID(generation_id))
    inputs = {**parent.input, "reference_asset_id": child.output_asset_id.hex}
    await records.update(parent.id, input=inputs)
    return True


@DBOS.step(
    name="submit",
    retries_allowed=True,
    max_attempts=6,
    interval_seconds=1.0,
    backoff_rate=2.0,
    should_retry=lambda error: isinstance(error, ProviderUnavailable),
)
async def submit_step(generation_id: str) -> str:
    generation = await records.load(uuid.UUID(generation_id))
    if generation.provider_prediction_id:
        return generation.provider_prediction_id  # re-attach: it was created before a crash
    if generation.status in GENERATION_FINAL:
        return ""
    provider = current().provider
    # An earlier attempt may have created a prediction whose answer was lost (a crash
    # during the call, a dropped connection, a 5xx after creating): adopt it, never pay twice.
    state = (
        await provider.find(generation.id.hex, generation.created_at)
        if generation.attempts
        else None
    )
    if state is None:
        # The intent is committed before the call, so a later attempt knows to look first.
        await records.update(generation.id, attempts=generation.attempts + 1)
        try:
            state = await _create(generation.id, await _request(generation))
        except ProviderRejected as rejected:
            await records.fail(generation.id, "PROVIDER_ERROR", rejected.message)
            return ""
    now, prediction_id = current().now(), state.id
    recorded = await records.apply(
        generation.id,
        lambda session, row: lifecycle.submitted(session, row, prediction_id, now),
    )
    if not recorded:  # canceled meanwhile: do not leave it running upstream
        await records.attach_prediction(generation.id, state.id)
        await stop_and_book(generation.id, state.id)
        return ""
    return state.id


async def _create(generation_id: uuid.UUID, request: PredictionRequest) -> PredictionState:
    """The create call, seen through even when the workflow is cancelled meanwhile: whatever
    it created is recorded and stopped upstream before the cancellation goes on."""
    deps = current()
    call = asyncio.ensure_future(deps.provider.submit(request))
    try:
        return await asyncio.shield(call)
    except asyncio.CancelledError:
        if not deps.stopping:  # a stopping process leaves it: the restart adopts it (find)
            await asyncio.shield(_stop_created(generation_id, call))
        raise


async def _stop_created(generation_id: uuid.UUID, call: asyncio.Future[PredictionState]) -> None:
    try:
        async with asyncio.timeout(CREATE_GRACE_SECONDS):
            state = await call
    except Exception:
        return
    await records.attach_prediction(generation_id, state.id)
    await stop_and_book(generation_id, state.id)


async def _request(generation: Generation) -> PredictionRequest:
    deps = current()
    spec = deps.catalog.get(generation.model)
    params = GenericParams.from_dict(generation.input.get("params", {}))
    reference = generation.input.get("reference_asset_id")
    if reference:
        params = GenericParams(
            **{**params.as_dict(), "reference_image": await reference_url(reference)}
        )
    webhook = _webhook_url(generation)
    # A stand-in renders the model's output in adstudio's terms, at the model's own length.
    inputs = spec.simulated_input(params) if generation.simulated else spec.provider_input(params)
    return PredictionRequest(spec.id, inputs, spec.kind.value, webhook, seed_key=generation.id.hex)


def _webhook_url(generation: Generation) -> str | None:
    settings = current().runtime.settings
    if not current().provider.calls_back:
        return None
    # Always sent: besides delivering results (when a secret is set), the URL is the marker
    # by which a prediction whose create answer was lost is found again (Provider.find).
    return f"{settings.public_base_url}{WEBHOOK_PATH}?generation={generation.id.hex}"


@DBOS.step(name="wait", retries_allowed=True, max_attempts=3, interval_seconds=2.0)
async def wait_step(generation_id: str, prediction_id: str) -> dict[str, Any]:
    """Poll (with backoff) until the prediction ends, a webhook says so, or the deadline passes."""
    deps = current()
    deadline = deps.elapsed() + deps.deadline_seconds
    delay = deps.poll_interval
    last_status = ""
    try:
        while deps.elapsed() < deadline:
            generation = await records.load(uuid.UUID(generation_id))
            if generation.status is GenerationStatus.CANCELED:
                await stop_and_book(generation.id, prediction_id)
                return {"status": "canceled"}
            state = _from_webhook(generation) or await poll_once(prediction_id)
            if state is not None and state.terminal:
                return outcome_of(state)
            if state is not None and state.status != last_status:
                last_status = state.status
                await _progress(generation, state)
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 5.0)
    except asyncio.CancelledError:
        # The workflow was cancelled: stop the prediction too. When this process is stopping
        # instead, leave it running upstream: the workflow re-attaches after the restart.
        if not deps.stopping:
            await asyncio.shield(stop_and_book(uuid.UUID(generation_id), prediction_id))
        raise
    last = await poll_once(
        prediction_id, LAST_LOOK_SECONDS
    )  # it may have finished while polls timed out
    if last is not None and last.terminal:
        return outcome_of(last)
    await stop_upstream(uuid.UUID(generation_id), prediction_id)
    return {
        "status": "failed",
        "error": "The generation took too long and was stopped.",
        "code": "TIMEOUT",
        "predict_seconds": last.predict_seconds if last is not None else None,
    }


def _from_webhook(generation: Generation) -> PredictionState | None:
    hooked = (generation.output or {}).get("webhook")
    if not hooked:
        return None
    return PredictionState(
        id=hooked["id"],
        status=hooked["status"],
        outputs=list(hooked.get("outputs", [])),
        predict_seconds=hooked.get("predict_seconds"),
        error=hooked.get("error"),
    )


async def _progress(generation: Generation, state: PredictionState) -> None:
    processing, progress, now = state.status == "processing", state.progress, current().now()
    await records.apply(
        generation.id,
        lambda session, row: lifecycle.running(session, row, processing, progress, now),
    )


@DBOS.step(
    name="collect",
    retries_allowed=True,
    max_attempts=5,
    interval_seconds=2.0,
    backoff_rate=2.0,
    should_retry=lambda error: isinstance(error, ProviderUnavailable),
)
async def collect_step(generation_id: str, outcome: dict[str, Any]) -> str:
    return await collect(uuid.UUID(generation_id), outcome)
