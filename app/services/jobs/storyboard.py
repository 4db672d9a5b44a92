"""The deterministic storyboard planner: scenes from the brief, the client's brand, the
campaign's brief, feedback, and the lengths the video model renders.

Every field of the brief shapes the result: product, audience, message and call to action in
the scripts (the key message has a scene of its own at every scene count); style, tone,
visual elements, the brand's guidelines (colors, fonts, voice, examples, restrictions) and
the campaign's objective, audience, key messages and notes in every image prompt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement
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
class Setting:
    """What surrounds the brief: the client's brand, the campaign's brief, a reviewer's
    feedback, and the clip lengths the chosen video model renders."""

    brand: Mapping[str, Any] | None = None
    campaign: Mapping[str, Any] | None = None
    feedback: str | None = None
    renderable: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PlannedScene:
    number: int
    description: str
    script: str
    image_prompt: str
    duration: float
    shot_type: ShotType
    transition: Transition


def plan(brief: Brief, setting: Setting) -> list[PlannedScene]:
    count = brief.scenes
    roles = _roles(count)
    durations = split_duration(brief.duration, count, setting.renderable)
    return [
        PlannedScene(
            number=index + 1,
            description=_description(brief, role),
            script=_script(brief, role),
            image_prompt=_prompt(brief, role, setting),
            duration=durations[index],
            shot_type=SHOTS[role],
            transition=Transition.FADE if index == 0 else _transition(brief, index),
        )
        for index, role in enumerate(roles)
    ]


def split_duration(total: int, count: int, renderable: Sequence[int] = ()) -> list[float]:
    """Scene durations that add up exactly to ``total``.

    With the video model's ``renderable`` lengths, the most even mix of them that adds up, so
    every clip is rendered at its scene's length; shorter scenes open and close the ad. When
    no mix adds up (or the model takes any length), an even split to the tenth of a second:
    each clip is then rendered a little longer and cut to its scene.
    """
    fitted = _renderable_mix(total, count, renderable)
    if fitted is not None:
        return fitted
    tenths = total * 10
    base, extra = divmod(tenths, count)
    return [(base + (1 if index < extra else 0)) / 10 for index in range(count)]


def _renderable_mix(total: int, count: int, renderable: Sequence[int]) -> list[float] | None:
    mixes = [
        mix
        for mix in combinations_with_replacement(sorted(set(renderable)), count)
        if sum(mix) == total
    ]
    if not mixes:
        return None
    best = min(mixes, key=lambda mix: (max(mix) - min(mix), sum(d * d for d in mix)))
    ordered = sorted(best)  # the two shortest at the ends, the longer ones in between
    arranged = [ordered[0], *ordered[2:], ordered[1]] if count > 1 else ordered
    return [float(d) for d in arranged]


MIDDLE_PRIORITY = ["benefit", "product", "problem", "proof", "lifestyle"]  # the message first


def _roles(count: int) -> list[str]:
    """The hook, the call to action, and between them the middle roles the count allows (the
    benefit, which carries the key message, always), in story order."""
    chosen = set(MIDDLE_PRIORITY[: max(count - 2, 1)])
    middle = [role for role in ROLES[1:-1] if role in chosen]
    return [ROLES[0], *middle, ROLES[-1]][:count] if count >= 3 else ["benefit", ROLES[-1]][:count]


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


def _prompt(brief: Brief, role: str, setting: Setting) -> str:
    parts = [_description(brief, role), f"{brief.style} style"]
    if brief.tone:
        parts.append(f"{brief.tone} mood")
    if brief.visual_elements:
        parts.append("featuring " + ", ".join(brief.visual_elements))
    parts.extend(brand_notes(setting.brand, role))
    parts.extend(campaign_notes(setting.campaign))
    if setting.feedback:
        parts.append(f"revised: {setting.feedback}")
    parts.append("high quality, professional advertising photography")
    return ", ".join(parts)[:2000]


def brand_notes(brand: Mapping[str, Any] | None, role: str = "") -> list[str]:
    """The brand's guidelines as prompt phrases (its fonts where the ad shows text)."""
    if not brand:
        return []
    parts = []
    if brand.get("colors"):
        parts.append("brand colors " + ", ".join(brand["colors"][:5]))
    if brand.get("fonts") and role in ("", "call to action", "benefit"):
        parts.append("on-screen text set in " + " or ".join(brand["fonts"][:3]))
    if brand.get("tone"):
        parts.append(f"brand voice {brand['tone']}")
    if brand.get("examples"):
        parts.append("in the spirit of " + "; ".join(brand["examples"][:3]))
    if brand.get("restrictions"):
        parts.append("avoid " + "; ".join(brand["restrictions"][:5]))
    return parts


def campaign_notes(campaign: Mapping[str, Any] | None) -> list[str]:
    """The campaign's brief as prompt phrases."""
    if not campaign:
        return []
    parts = []
    if campaign.get("objective"):
        parts.append(f"campaign goal: {campaign['objective']}")
    if campaign.get("target_audience"):
        parts.append(f"for {campaign['target_audience']}")
    if campaign.get("key_messages"):
        parts.append("conveying " + "; ".join(campaign["key_messages"][:3]))
    if campaign.get("notes"):
        parts.append(str(campaign["notes"]))
    return parts
