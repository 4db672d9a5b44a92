"""The deterministic storyboard planner: scenes from the brief, the client's brand, feedback.

Every field of the brief shapes the result: product, audience, message and call to action in
the scripts; style, tone, visual elements and brand guidelines in every image prompt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models.enums import ShotType, Transition
from app.services.jobs.brief import Brief

ROLES = ["hook", "problem", "product", "benefit", "proof", "lifestyle", "call to action"]
SHOTS = {
    "hook": ShotType.WIDE,
    "problem": ShotType.MEDIUM,
    "product": ShotType.PRODUCT,
    "benefit": ShotType.CLOSE_UP,
    "proof": ShotType.MEDIUM,
    "lifestyle": ShotType.WIDE,
    "call to action": ShotType.PRODUCT,
}


@dataclass(frozen=True, slots=True)
class PlannedScene:
    number: int
    description: str
    script: str
    image_prompt: str
    duration: float
    shot_type: ShotType
    transition: Transition


def plan(
    brief: Brief, brand: dict[str, Any] | None, feedback: str | None = None
) -> list[PlannedScene]:
    count = brief.scenes
    roles = _roles(count)
    durations = split_duration(brief.duration, count)
    return [
        PlannedScene(
            number=index + 1,
            description=_description(brief, role),
            script=_script(brief, role),
            image_prompt=_prompt(brief, role, brand, feedback),
            duration=durations[index],
            shot_type=SHOTS[role],
            transition=Transition.FADE if index == 0 else _transition(brief, index),
        )
        for index, role in enumerate(roles)
    ]


def split_duration(total: int, count: int) -> list[float]:
    """Durations (to the tenth of a second) that add up exactly to ``total``."""
    tenths = total * 10
    base, extra = divmod(tenths, count)
    return [(base + (1 if index < extra else 0)) / 10 for index in range(count)]


def _roles(count: int) -> list[str]:
    middle = ROLES[1:-1][: count - 2]
    return [ROLES[0], *middle, ROLES[-1]]


def _transition(brief: Brief, index: int) -> Transition:
    calm = (brief.tone or "").lower() in {"calm", "elegant", "luxurious", "emotional", "warm"}
    return Transition.DISSOLVE if calm and index % 2 else Transition.CUT


def _description(brief: Brief, role: str) -> str:
    return {
        "hook": f"Open on {brief.target_audience} in a moment that grabs attention.",
        "problem": f"The everyday problem {brief.product} solves for {brief.target_audience}.",
        "product": f"{brief.product} revealed, hero framing.",
        "benefit": f"Close on the benefit: {brief.key_message}.",
        "proof": f"Proof that {brief.product} delivers: real use, real results.",
        "lifestyle": f"{brief.target_audience} enjoying life with {brief.product}.",
        "call to action": f"End card: {brief.call_to_action}.",
    }[role][:1000]


def _script(brief: Brief, role: str) -> str:
    return {
        "hook": f"{brief.target_audience}, this one's for you.",
        "problem": "Tired of settling for less?",
        "product": f"Meet {brief.product}.",
        "benefit": brief.key_message,
        "proof": f"{brief.product}: made to deliver.",
        "lifestyle": f"Life's better with {brief.product}.",
        "call to action": brief.call_to_action,
    }[role][:1000]


def _prompt(brief: Brief, role: str, brand: dict[str, Any] | None, feedback: str | None) -> str:
    parts = [_description(brief, role), f"{brief.style} style"]
    if brief.tone:
        parts.append(f"{brief.tone} mood")
    if brief.visual_elements:
        parts.append("featuring " + ", ".join(brief.visual_elements))
    parts.extend(_brand(brand))
    if feedback:
        parts.append(f"revised: {feedback}")
    parts.append("high quality, professional advertising photography")
    return ", ".join(parts)[:2000]


def _brand(brand: dict[str, Any] | None) -> list[str]:
    if not brand:
        return []
    parts = []
    if brand.get("colors"):
        parts.append("brand colors " + ", ".join(brand["colors"][:5]))
    if brand.get("tone"):
        parts.append(f"brand voice {brand['tone']}")
    if brand.get("restrictions"):
        parts.append("avoid " + "; ".join(brand["restrictions"][:5]))
    return parts
