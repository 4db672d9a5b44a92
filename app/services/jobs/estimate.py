"""The dry run: what a job will cost, per stage, from its brief (nothing is stored)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from decimal import Decimal

from app.errors import BadUserInputError
from app.generation.catalog import Catalog, GenericParams, ModelSpec
from app.generation.pricing import MICRO, Charge, estimate, snap_duration
from app.models.enums import GenerationKind
from app.services.jobs.brief import Brief
from app.services.jobs.storyboard import split_duration

KIND_KEYS = {
    "image": GenerationKind.IMAGE,
    "video": GenerationKind.VIDEO,
    "music": GenerationKind.AUDIO,
}


@dataclass(frozen=True, slots=True)
class Line:
    stage: str
    model: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    cost: Decimal
    simulated: bool = False  # priced as the real model; a stand-in will run it, charging nobody


@dataclass(frozen=True, slots=True)
class JobEstimate:
    total: Decimal
    currency: str
    lines: list[Line]
    assumptions: list[str]
    valid_until: datetime

    @property
    def simulated(self) -> bool:
        return any(line.simulated for line in self.lines)


def job_models(brief: Brief, catalog: Catalog, provider: str) -> dict[str, ModelSpec]:
    """The image, video and music models: the brief's preferences, else the catalog's defaults."""
    chosen: dict[str, ModelSpec] = {}
    for key, kind in KIND_KEYS.items():
        model_id = brief.models.get(key)
        spec = catalog.get(model_id) if model_id else catalog.default_for(provider, kind)
        if spec.kind is not kind or not catalog.availability(spec, provider).available:
            raise BadUserInputError(
                f"{spec.id} cannot make the {key} here.",
                fields={f"modelPreferences.{key}": f"is not an available {kind.value} model"},
            )
        chosen[key] = spec
    return chosen


def estimate_job(brief: Brief, catalog: Catalog, provider: str, now: datetime) -> JobEstimate:
    models = job_models(brief, catalog, provider)
    scenes = split_duration(brief.duration, brief.scenes, models["video"].durations)
    image = estimate(models["image"], GenericParams(prompt="x"))
    videos = [estimate(models["video"], GenericParams(duration=d)) for d in scenes]
    music = estimate(models["music"], GenericParams(duration=float(brief.duration)))
    lines = [
        _line("storyboard images", models["image"], image, len(scenes)),
        _sum_line("scene videos", models["video"], videos),
        _line("music", models["music"], music, 1),
    ]
    lines = [_simulated(line, catalog, provider) for line in lines]
    total = sum((line.cost for line in lines), Decimal(0)).quantize(MICRO)
    assumptions = _assumptions(brief, models, scenes) + _simulation(lines)
    return JobEstimate(total, catalog.currency, lines, assumptions, _valid_until(now))


def _simulated(line: Line, catalog: Catalog, provider: str) -> Line:
    return replace(
        line, simulated=catalog.availability(catalog.get(line.model), provider).simulated
    )


def _simulation(lines: list[Line]) -> list[str]:
    models = sorted({line.model for line in lines if line.simulated})
    if not models:
        return []
    return [
        f"Simulated offline: {', '.join(models)} run on the local provider at the real models'"
        " prices, and nobody is charged (set a Replicate token to run them for real)."
    ]


def _line(stage: str, spec: ModelSpec, charge: Charge, times: int) -> Line:
    quantity = charge.quantity * times
    return Line(
        stage,
        spec.id,
        quantity,
        charge.unit,
        charge.unit_price,
        (charge.amount * times).quantize(MICRO),
    )


def _sum_line(stage: str, spec: ModelSpec, charges: list[Charge]) -> Line:
    quantity = sum((c.quantity for c in charges), Decimal(0))
    cost = sum((c.amount for c in charges), Decimal(0)).quantize(MICRO)
    return Line(stage, spec.id, quantity, charges[0].unit, charges[0].unit_price, cost)


def _assumptions(brief: Brief, models: dict[str, ModelSpec], scenes: list[float]) -> list[str]:
    video = models["video"]
    rendered = [snap_duration(video, d) for d in scenes]
    notes = [
        f"{len(scenes)} scenes, one image each; every refinement (regenerated scene, rejected "
        "storyboard) adds its own image cost.",
        f"Scene videos are billed as {video.id} renders them: "
        + ", ".join(f"{r:g} s" for r in rendered)
        + " (then trimmed to the storyboard).",
    ]
    if models["music"].expected_seconds is not None:
        notes.append(f"Music is billed by GPU time; {models['music'].expected_seconds} s assumed.")
    notes.append("Composition runs on adstudio and costs nothing.")
    return notes


def _valid_until(now: datetime) -> datetime:
    """Prices are held until the end of the day (UTC), to the second."""
    return (
        datetime.combine(now.date(), time(23, 59, 59), tzinfo=now.tzinfo)
        if now.tzinfo
        else (now + timedelta(hours=24))
    )
