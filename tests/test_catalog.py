"""The catalog's rules for which model runs where, and what a stand-in renders for it."""

from __future__ import annotations

import pytest

from app.generation.catalog import Availability, GenericParams, load_catalog
from app.models.enums import GenerationKind

CATALOG = load_catalog()


class TestAvailability:
    @pytest.mark.parametrize(
        ("model", "provider", "expected"),
        [
            ("bytedance/seedance-1-lite", "replicate", Availability(True, False, "replicate")),
            ("bytedance/seedance-1-lite", "local", Availability(True, True, "local")),
            ("meta/musicgen", "local", Availability(True, True, "local")),
            ("meta/meta-llama-3-8b-instruct", "local", Availability(False, False, "replicate")),
            ("adstudio/local-video", "local", Availability(True, False, "local")),
            ("adstudio/local-video", "replicate", Availability(False, False, "local")),
            ("black-forest-labs/flux-schnell", None, Availability(False, False, "replicate")),
        ],
    )
    def test_a_model_runs_on_its_provider_or_a_stand_in(
        self, model: str, provider: str | None, expected: Availability
    ) -> None:
        assert CATALOG.availability(CATALOG.get(model), provider) == expected

    def test_offline_defaults_are_the_real_models(self) -> None:
        defaults = {
            kind: CATALOG.default_for("local", kind).id
            for kind in GenerationKind
            if CATALOG.offers("local", kind)
        }
        assert defaults == {
            GenerationKind.IMAGE: "black-forest-labs/flux-schnell",
            GenerationKind.VIDEO: "bytedance/seedance-1-lite",
            GenerationKind.AUDIO: "meta/musicgen",
        }
        assert not CATALOG.offers("local", GenerationKind.TEXT)  # no stand-in for text

    def test_a_start_image_comes_from_the_video_models_own_provider(self) -> None:
        image = GenerationKind.IMAGE
        seedance, local = (
            CATALOG.get("bytedance/seedance-1-lite"),
            CATALOG.get("adstudio/local-video"),
        )
        assert CATALOG.companion(seedance, image).id == "black-forest-labs/flux-schnell"
        assert CATALOG.companion(local, image).id == "adstudio/local-image"


class TestSimulatedInput:
    def test_a_video_is_rendered_at_the_models_duration_and_frame_rate(self) -> None:
        spec = CATALOG.get("bytedance/seedance-1-lite")
        params = GenericParams(prompt="x", duration=8, aspect_ratio="9:16", seed=3)
        assert spec.simulated_input(params) == {
            "prompt": "x",
            "aspect_ratio": "9:16",
            "seed": 3,
            "duration": 10.0,
            "fps": 24,
        }

    def test_inputs_the_model_ignores_are_ignored(self) -> None:
        flux = CATALOG.get("black-forest-labs/flux-schnell")
        assert flux.simulated_input(GenericParams(prompt="x", reference_image="ref")) == {
            "prompt": "x"
        }
        riffusion = CATALOG.get("riffusion/riffusion")
        assert riffusion.simulated_input(GenericParams(prompt="x", duration=30)) == {
            "prompt": "x",
            "duration": 5.0,  # the longest it makes
        }
