"""The versioned model catalog shipped with adstudio: kinds, prices and input mappings.

Each model belongs to a provider. A provider may also *stand in* for another's models
(``stand_ins``): the offline local provider renders real media for Replicate's image, video
and music models, with their parameters, rules and prices, so that estimates, budgets and
stats work without an account. Such generations are marked simulated: nobody is charged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any

from app.errors import BadUserInputError
from app.models.enums import BillingBasis, GenerationKind

SIMULATED_FPS = 24  # a simulated video model that names no frame rate


@dataclass(frozen=True, slots=True)
class GenericParams:
    """What a caller asks for, in adstudio's words; each model maps them to its own inputs."""

    prompt: str | None = None
    reference_image: str | None = None
    aspect_ratio: str | None = None
    duration: float | None = None
    seed: int | None = None
    fps: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if getattr(self, k) is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GenericParams:
        return cls(**{k: data[k] for k in cls.__slots__ if k in data})


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    provider: str
    kind: GenerationKind
    billing: BillingBasis
    price: Decimal
    params: dict[str, str]
    defaults: dict[str, Any] = field(default_factory=dict)
    hardware: str | None = None
    hardware_rate: Decimal | None = None
    expected_seconds: Decimal | None = None
    aspect_ratios: tuple[str, ...] = ()
    durations: tuple[int, ...] = ()
    max_duration: int | None = None
    requires_reference: bool = False
    checked_at: str = ""

    def renders(self, duration: float | None) -> float:
        """The length the model renders for a wanted ``duration``: the shortest allowed one
        that covers it (a longer clip is cut to its scene; a shorter one would freeze), or the
        longest there is."""
        wanted = float(duration) if duration else float(self.durations[0] if self.durations else 5)
        if self.durations:
            covering = [d for d in self.durations if d >= wanted - 1e-6]
            return float(min(covering) if covering else max(self.durations))
        if self.max_duration is not None:
            return min(wanted, float(self.max_duration))
        return wanted

    def simulated_input(self, params: GenericParams) -> dict[str, Any]:
        """What a stand-in renders for this model, in adstudio's parameter names: the
        parameters the model takes, with the duration and frame rate it would produce."""
        inputs = {
            name: value
            for name, value in params.as_dict().items()
            if name in self.params or name == "aspect_ratio"
        }
        if self.kind in (GenerationKind.VIDEO, GenerationKind.AUDIO):
            inputs["duration"] = self.renders(params.duration)
        if self.kind is GenerationKind.VIDEO:
            fps = params.fps if "fps" in self.params else None
            inputs["fps"] = int(fps or self.defaults.get("fps") or SIMULATED_FPS)
        return inputs

    def provider_input(self, params: GenericParams) -> dict[str, Any]:
        """The model's own input names and values, defaults first; a duration is one the model
        renders (see ``renders``)."""
        inputs = dict(self.defaults)
        for generic, value in params.as_dict().items():
            name = self.params.get(generic)
            if name is None:
                continue
            if name.endswith("[]"):
                inputs[name[:-2]] = [value]
            else:
                inputs[name] = self._duration_input(value) if generic == "duration" else value
        return inputs

    def _duration_input(self, value: Any) -> Any:
        rendered = self.renders(float(value))
        return int(rendered) if self.durations else rendered


@dataclass(frozen=True, slots=True)
class StandIn:
    """The models of other providers a provider can run in their place (simulated)."""

    providers: frozenset[str]
    kinds: frozenset[GenerationKind]

    def covers(self, spec: ModelSpec) -> bool:
        return spec.provider in self.providers and spec.kind in self.kinds


@dataclass(frozen=True, slots=True)
class Availability:
    """Whether a model can be used with the active provider right now, whether that provider
    would only simulate it, and so which provider a generation of it runs on."""

    available: bool
    simulated: bool
    provider: str


@dataclass(frozen=True, slots=True)
class Catalog:
    version: str
    currency: str
    models: dict[str, ModelSpec]
    defaults: dict[str, dict[str, str]]
    stand_ins: dict[str, StandIn] = field(default_factory=dict)

    def get(self, model_id: str) -> ModelSpec:
        spec = self.models.get(model_id)
        if spec is None:
            raise BadUserInputError(
                f"Unknown model {model_id!r}.", fields={"model": "is not in the catalog"}
            )
        return spec

    def default_for(self, provider: str, kind: GenerationKind) -> ModelSpec:
        """The model used when none is named, with ``provider`` active: the default of a
        provider it stands in for (a real model with real prices), else its own."""
        return self.models[self._default_id(provider, kind)]

    def offers(self, provider: str, kind: GenerationKind) -> bool:
        """Whether the active provider has a default model of this kind."""
        return bool(self._default_id(provider, kind))

    def companion(self, spec: ModelSpec, kind: GenerationKind) -> ModelSpec:
        """The default ``kind`` model of ``spec``'s own provider (a video's start image)."""
        return self.models[self.defaults[spec.provider][kind.value]]

    def availability(self, spec: ModelSpec, provider: str | None) -> Availability:
        """Whether ``spec`` can run with ``provider`` active (None: no provider here)."""
        if provider == spec.provider:
            return Availability(True, False, provider)
        stand_in = self.stand_ins.get(provider or "")
        if provider is not None and stand_in is not None and stand_in.covers(spec):
            return Availability(True, True, provider)
        return Availability(False, False, spec.provider)

    def _default_id(self, provider: str, kind: GenerationKind) -> str:
        stand_in = self.stand_ins.get(provider)
        if stand_in is not None and kind in stand_in.kinds:
            for other in sorted(stand_in.providers):
                if kind.value in self.defaults.get(other, {}):
                    return self.defaults[other][kind.value]
        return self.defaults.get(provider, {}).get(kind.value, "")

    def of_kind(self, kind: GenerationKind | None) -> list[ModelSpec]:
        return [m for m in self.models.values() if kind is None or m.kind is kind]


@lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    raw = json.loads(resources.files("app.generation").joinpath("catalog.json").read_text())
    rates = {name: Decimal(rate) for name, rate in raw["hardware_usd_per_second"].items()}
    models = {entry["id"]: _spec(entry, rates) for entry in raw["models"]}
    stand_ins = {
        name: StandIn(frozenset(rule["for"]), frozenset(GenerationKind(k) for k in rule["kinds"]))
        for name, rule in raw.get("stand_ins", {}).items()
    }
    return Catalog(raw["version"], raw["currency"], models, raw["defaults"], stand_ins)


def _spec(entry: dict[str, Any], rates: dict[str, Decimal]) -> ModelSpec:
    hardware = entry.get("hardware")
    return ModelSpec(
        id=entry["id"],
        provider=entry["provider"],
        kind=GenerationKind(entry["kind"]),
        billing=BillingBasis(entry["billing"]),
        price=Decimal(entry.get("price", "0")),
        params=entry["params"],
        defaults=entry.get("defaults", {}),
        hardware=hardware,
        hardware_rate=rates[hardware] if hardware else None,
        expected_seconds=Decimal(entry["expected_seconds"])
        if "expected_seconds" in entry
        else None,
        aspect_ratios=tuple(entry.get("aspect_ratios", ())),
        durations=tuple(entry.get("durations", ())),
        max_duration=entry.get("max_duration"),
        requires_reference=entry.get("requires_reference", False),
        checked_at=entry.get("checked_at", ""),
    )
