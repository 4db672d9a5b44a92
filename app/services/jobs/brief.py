"""The job brief, validated: what every planning, pricing and rendering decision reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from app.errors import BadUserInputError
from app.models.enums import AspectRatio

DURATIONS = (15, 30, 60)
RESOLUTIONS = ("480p", "720p", "1080p")


@dataclass(frozen=True, slots=True)
class Brief:
    client_id: uuid.UUID
    campaign_id: uuid.UUID | None
    product: str
    target_audience: str
    key_message: str
    call_to_action: str
    style: str
    tone: str | None = None
    visual_elements: tuple[str, ...] = ()
    music_style: str | None = None
    duration: int = 30
    aspect_ratio: AspectRatio = AspectRatio.LANDSCAPE
    resolution: str = "720p"
    scene_count: int | None = None
    models: dict[str, str] = field(default_factory=dict)  # image / video / music model ids

    def check(self) -> Brief:
        problems: dict[str, str] = {}
        for name in ("product", "target_audience", "key_message", "call_to_action", "style"):
            value = getattr(self, name)
            if not value or not value.strip():
                problems[_camel(name)] = "is required"
            elif len(value) > 500:
                problems[_camel(name)] = "must be at most 500 characters"
        if self.duration not in DURATIONS:
            problems["duration"] = "must be 15, 30 or 60"
        if self.resolution not in RESOLUTIONS:
            problems["resolution"] = f"must be one of {', '.join(RESOLUTIONS)}"
        if self.scene_count is not None and not 3 <= self.scene_count <= 7:
            problems["sceneCount"] = "must be between 3 and 7"
        if len(self.visual_elements) > 10:
            problems["visualElements"] = "at most 10"
        if problems:
            raise BadUserInputError("Invalid job brief.", fields=problems)
        return self

    @property
    def scenes(self) -> int:
        """3-7 scenes by duration (<=15 s: 3, <=30: 4, <=45: 5, <=60: 6) unless one is given."""
        if self.scene_count is not None:
            return self.scene_count
        for limit, count in ((15, 3), (30, 4), (45, 5), (60, 6)):
            if self.duration <= limit:
                return count
        return 7

    def as_stored(self) -> dict[str, Any]:
        return {"models": self.models, "scene_count": self.scene_count}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
