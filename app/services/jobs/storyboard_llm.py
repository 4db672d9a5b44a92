"""Planning a storyboard with a hosted text model: the prompt, and strict validation of what
comes back (anything off — wrong count, unknown shot, durations that do not add up — is
refused, and the deterministic planner is used instead)."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from app.models.enums import ShotType, Transition
from app.services.jobs.brief import Brief
from app.services.jobs.storyboard import PlannedScene, split_duration


class _Scene(BaseModel):
    description: str = Field(min_length=1, max_length=1000)
    script: str = Field(min_length=1, max_length=1000)
    image_prompt: str = Field(alias="imagePrompt", min_length=1, max_length=2000)
    shot_type: ShotType = Field(alias="shotType")
    transition: Transition
    duration: float = Field(gt=0, le=60)


class _Storyboard(BaseModel):
    scenes: list[_Scene]


def prompt(brief: Brief, brand: dict[str, Any] | None, feedback: str | None) -> str:
    durations = split_duration(brief.duration, brief.scenes)
    lines = [
        f"Plan a {brief.duration}-second {brief.aspect_ratio.value} video ad as exactly "
        f"{brief.scenes} scenes lasting {', '.join(f'{d:g}' for d in durations)} seconds.",
        f"Product: {brief.product}. Audience: {brief.target_audience}.",
        f"Key message: {brief.key_message}. Call to action: {brief.call_to_action}.",
        f"Style: {brief.style}. Tone: {brief.tone or 'any'}. "
        f"Visual elements: {', '.join(brief.visual_elements) or 'none'}.",
    ]
    if brand:
        lines.append(f"Brand guidelines: {json.dumps(brand)[:800]}.")
    if feedback:
        lines.append(f"The previous storyboard was rejected: {feedback}")
    lines.append(
        'Answer with JSON only: {"scenes": [{"description", "script", "imagePrompt", '
        '"shotType": wide|medium|close-up|product, "transition": cut|fade|dissolve, '
        '"duration"}]}.'
    )
    return "\n".join(lines)


def parse(text: str, brief: Brief) -> list[PlannedScene] | None:
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
    durations = split_duration(brief.duration, brief.scenes)
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
        for index, s in enumerate(board.scenes)
    ]
