"""Job workflows: storyboard (plan + one image per scene), render (scene videos + music +
composition), and a single scene's refresh. Each stage's generations run in parallel, each as
its own generation workflow (a child of the job's), so a crash re-attaches instead of re-paying.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from dbos import DBOS, SetWorkflowID
from dbos._error import DBOSAwaitedWorkflowCancelledError
from sqlalchemy.ext.asyncio import AsyncSession

from app.engine import job_steps
from app.engine.deps import current
from app.engine.generation_flow import generation_workflow
from app.engine.job_compose import compose_step
from app.engine.port import generation_workflow_id
from app.models import Generation, Job
from app.models.enums import GenerationStatus, JobStatus, SceneStatus
from app.services.jobs import lifecycle
from app.services.jobs.service import scenes_of


@DBOS.workflow(name="job_storyboard")
async def job_storyboard_workflow(job_id: str, feedback: str) -> str:
    with current().running():
        planner = await plan_model_step(job_id, feedback)
        if planner:
            await run_generations([planner])
        if not await plan_step(job_id, feedback, planner):
            return "stopped"
        images = await ensure_step(job_id, "image", "")
        await run_generations(images.values(), Parts(job_id, "image", images, first_step=2))
        return await storyboard_done_step(job_id, images)


@DBOS.workflow(name="job_render")
async def job_render_workflow(job_id: str) -> str:
    with current().running():
        videos = await ensure_step(job_id, "video", "")
        music = await ensure_step(job_id, "music", "")
        first = len(videos) + 2  # after the plan and one image per scene
        parts = Parts(job_id, "video", {**videos, **music}, first_step=first)
        await run_generations([*videos.values(), *music.values()], parts)
        if not await videos_done_step(job_id, videos, music):
            return "failed"
        return await compose_step(job_id)


@DBOS.workflow(name="job_scene")
async def job_scene_workflow(job_id: str, scene_id: str, recompose: bool) -> str:
    with current().running():
        image = await ensure_step(job_id, "image", scene_id)
        await run_generations(image.values(), Parts(job_id, "image", image))
        if not recompose:
            return await storyboard_done_step(job_id, image)
        if not await scene_image_step(job_id, image):
            return "failed"
        video = await ensure_step(job_id, "video", scene_id)
        await run_generations(video.values(), Parts(job_id, "video", video))
        if not await videos_done_step(job_id, video, {}):
            return "failed"
        return await compose_step(job_id)


@dataclass(frozen=True, slots=True)
class Parts:
    """A stage's generations as parts of the job ({scene id or "music": generation id}):
    each one that ends is announced, and moves the job's progress on from ``first_step``
    (a refresh of one scene leaves the step count as it is)."""

    job_id: str
    kind: str
    generations: dict[str, str]
    first_step: int | None = None

    def finished(self, generation_id: str) -> tuple[str, str, int | None]:
        keys = list(self.generations)
        index = list(self.generations.values()).index(generation_id)
        key = keys[index]
        kind = "music" if key == "music" else self.kind
        step = None if self.first_step is None else self.first_step + index
        return kind, key, step


async def run_generations(generation_ids: Iterable[str], parts: Parts | None = None) -> None:
    """Run generations side by side, each as a child workflow, until all have ended.

    A workflow numbers its steps in the order they are called, and a restart replays them by
    number: steps of several generations interleaved in one workflow would be called in
    another order on replay and be handed each other's results. A child workflow numbers its
    own, and the job only starts and awaits children, one after another in a fixed order.
    The child's id is its generation's, so a job started again re-attaches to it.
    """
    handles = []
    for generation_id in generation_ids:
        with SetWorkflowID(generation_workflow_id(uuid.UUID(generation_id))):
            started = await DBOS.start_workflow_async(generation_workflow, generation_id)
        handles.append((generation_id, started))
    for generation_id, handle in handles:
        # A cancelled generation's workflow may be cancelled too: the job's next step sees it.
        with contextlib.suppress(DBOSAwaitedWorkflowCancelledError):
            await handle.get_result()
        if parts is not None:
            kind, key, step = parts.finished(generation_id)
            await part_step(parts.job_id, kind, key, generation_id, step)


@DBOS.step(name="job_part")
async def part_step(job_id: str, kind: str, key: str, generation_id: str, step: int | None) -> None:
    """One part of the job ended (a scene's image or clip, the music): announced, counted."""
    async with current().runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        generation = await session.get(Generation, uuid.UUID(generation_id))
        if job is None or generation is None:
            return
        await lifecycle.part_finished(session, job, kind, key, generation.status, step)


@DBOS.step(name="job_plan_model")
async def plan_model_step(job_id: str, feedback: str) -> str:
    """With a hosted provider, the text generation that plans the storyboard ("" otherwise)."""
    async with current().runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        if job is None or (await scenes_of(session, job.id) and not feedback):
            return ""
        generation = await job_steps.ensure_plan_generation(session, job, feedback or None)
        return generation.hex if generation else ""


@DBOS.step(name="job_plan")
async def plan_step(job_id: str, feedback: str, planner: str) -> bool:
    async with current().runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        if job is None:
            return False
        if not await scenes_of(session, job.id) or feedback:
            text_generation = await session.get(Generation, uuid.UUID(planner)) if planner else None
            text = (text_generation.output or {}).get("text") if text_generation else None
            await job_steps.plan_scenes(session, job, feedback or None, text)
        count = len(await scenes_of(session, job.id))
        await lifecycle.move(
            session,
            job,
            JobStatus.STORYBOARD_PROCESSING,
            "storyboard",
            f"Planned {count} scenes; drawing their images.",
            "job.storyboard_planned",
            {"scenes": count},
            step=1,
        )
        return True


@DBOS.step(name="job_generations")
async def ensure_step(job_id: str, kind: str, scene_id: str) -> dict[str, str]:
    """Create (once) the generations of a stage: {scene id or "music": generation id}."""
    async with current().runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        if job is None:
            return {}
        if kind == "music":
            generation = await job_steps.ensure_generation(session, job, None, "music", 0)
            return {"music": generation.hex} if generation else {}
        scenes = await scenes_of(session, job.id)
        chosen = [s for s in scenes if not scene_id or s.id.hex == scene_id]
        result = {}
        for scene in chosen:
            round_ = job.refinement_count
            generation = await job_steps.ensure_generation(session, job, scene, kind, round_)
            if generation is not None:
                result[scene.id.hex] = generation.hex
                scene.status = (
                    SceneStatus.IMAGE_PROCESSING
                    if kind == "image"
                    else SceneStatus.VIDEO_PROCESSING
                )
        return result


@DBOS.step(name="job_storyboard_done")
async def storyboard_done_step(job_id: str, images: dict[str, str]) -> str:
    async with current().runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        if job is None:
            return "stopped"
        missing = await job_steps.attach(session, job, images, "image")
        scenes = await scenes_of(session, job.id)
        if missing or any(s.image_asset_id is None for s in scenes):
            await _fail(session, job, f"{len(missing) or 'Some'} scene image(s) could not be made.")
            return "failed"
        await lifecycle.move(
            session,
            job,
            JobStatus.STORYBOARD_READY,
            "review",
            "Storyboard ready for review.",
            "job.storyboard_ready",
            step=len(scenes) + 1,
        )
        return "ready"


@DBOS.step(name="job_scene_image")
async def scene_image_step(job_id: str, image: dict[str, str]) -> bool:
    async with current().runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        if job is None:
            return False
        if await job_steps.attach(session, job, image, "image"):
            await _fail(session, job, "The scene image could not be made.")
            return False
        return True


@DBOS.step(name="job_videos_done")
async def videos_done_step(job_id: str, videos: dict[str, str], music: dict[str, str]) -> bool:
    async with current().runtime.sessionmaker() as session, session.begin():
        job = await job_steps.locked_job(session, job_id)
        if job is None:
            return False
        missing = await job_steps.attach(session, job, videos, "video")
        if music:
            track = await session.get(Generation, uuid.UUID(music["music"]))
            if track is None or track.status is not GenerationStatus.SUCCEEDED:
                missing.append("music")
            else:
                job.music_asset_id = track.output_asset_id
        if missing:
            await _fail(session, job, f"{len(missing)} part(s) could not be rendered.")
            return False
        await lifecycle.move(
            session,
            job,
            JobStatus.VIDEO_PROCESSING,
            "composing",
            "Composing the final video.",
            "job.composing",
        )
        return True


async def _fail(session: AsyncSession, job: Job, message: str) -> None:
    await lifecycle.fail(session, job, "PROVIDER_ERROR", message)


PHASES = {
    "storyboard": job_storyboard_workflow,
    "render": job_render_workflow,
    "scene": job_scene_workflow,
}
