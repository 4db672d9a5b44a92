"""Planning a storyboard with a hosted text model: the prompt, and strict validation of what
comes back (anything off — wrong count, unknown shot, durations that do not add up — is
refused, and the deterministic planner is used instead)."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field, ValidationError

from app.models.enums import ShotType, Transition
from app.services.jobs.brief import Brief
from app.services.jobs.storyboard import PlannedScene, Setting, split_duration


class _Scene(BaseModel):
    description: str = Field(min_length=1, max_length=1000)
    script: str = Field(min_length=1, max_length=1000)
    image_prompt: str = Field(alias="imagePrompt", min_length=1, max_length=2000)
    shot_type: ShotType = Field(alias="shotType")
    transition: Transition
    duration: float = Field(gt=0, le=60)


class _Storyboard(BaseModel):
    scenes: list[_Scene]


def prompt(brief: Brief, setting: Setting) -> str:
    durations = split_duration(brief.duration, brief.scenes, setting.renderable)
    lines = [
        f"Plan a {brief.duration}-second {brief.aspect_ratio.value} video ad as exactly "
        f"{brief.scenes} scenes lasting {', '.join(f'{d:g}' for d in durations)} seconds.",
        f"Product: {brief.product}. Audience: {brief.target_audience}.",
        f"Key message: {brief.key_message}. Call to action: {brief.call_to_action}.",
        f"Style: {brief.style}. Tone: {brief.tone or 'any'}. "
        f"Visual elements: {', '.join(brief.visual_elements) or 'none'}.",
    ]
    if setting.brand:
        lines.append(f"Brand guidelines: {json.dumps(dict(setting.brand))[:800]}.")
    if setting.campaign:
        lines.append(f"Campaign brief: {json.dumps(dict(setting.campaign))[:800]}.")
    lines.append("At least one scene must state the key message.")
    if setting.feedback:
        lines.append(f"The previous storyboard was rejected: {setting.feedback}")
    lines.append(
        'Answer with JSON only: {"scenes": [{"description", "script", "imagePrompt", '
        '"shotType": wide|medium|close-up|product, "transition": cut|fade|dissolve, '
        '"duration"}]}.'
    )
    return "\n".join(lines)


def parse(text: str, brief: Brief, setting: Setting) -> list[PlannedScene] | None:
    """The model's storyboard if it is exactly what was asked for, else None."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        board = _Storyboard.model_validate(json.loads(text[start : end + 1]))
    except (ValueError, ValidationError):
        return None
    if len(board.scenes) != brief.scenes:
        return None
    if abs(sum(s.duration for s in board.scenes) - brief.duration) > 0.5:
        return None
    scenes = _with_message(board.scenes, brief.key_message)
    durations = split_duration(brief.duration, brief.scenes, setting.renderable)
    return [
        PlannedScene(
            index + 1,
            s.description,
            s.script,
            s.image_prompt,
            durations[index],
            s.shot_type,
            Transition.FADE if index == 0 else s.transition,
        )
        for index, s in enumerate(scenes)
    ]


def _with_message(scenes: list[_Scene], message: str) -> list[_Scene]:
    """The model's scenes, the key message said in the one before the end if none says it."""
    wanted = message.strip().lower()
    if any(wanted in f"{s.description} {s.script} {s.image_prompt}".lower() for s in scenes):
        return scenes
    index = max(len(scenes) - 2, 0)
    carrier = scenes[index]
    spoken = carrier.model_copy(
        update={
            "script": f"{carrier.script} {message.strip()}"[:1000],
            "description": f"{carrier.description} {message.strip()}"[:1000],
        }
    )
    return [*scenes[:index], spoken, *scenes[index + 1 :]]
