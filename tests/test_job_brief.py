"""The brief in the ad: scene lengths the video model renders, the key message at every scene
count, and the brand's and campaign's guidelines in the prompts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.generation.catalog import GenericParams, load_catalog
from app.generation.pricing import estimate
from app.models.enums import AspectRatio
from app.services.jobs.brief import Brief
from app.services.jobs.estimate import estimate_job
from app.services.jobs.storyboard import Setting, plan, split_duration
from app.services.jobs.storyboard_llm import parse

SEEDANCE = "bytedance/seedance-1-lite"
NOW = datetime(2026, 12, 3, tzinfo=UTC)
BRAND = {
    "colors": ["#E10600"],
    "fonts": ["Futura Bold"],
    "tone": "cheeky",
    "examples": ["the 2019 summer spot"],
    "restrictions": ["no alcohol"],
}
CAMPAIGN = {
    "objective": "win back lapsed students",
    "target_audience": "first-year students",
    "key_messages": ["half the sugar"],
    "notes": "shot on campus",
}


def _brief(duration: int = 30, scenes: int | None = None, video: str | None = None) -> Brief:
    return Brief(
        client_id=None,  # type: ignore[arg-type]
        campaign_id=None,
        product="Fizz Cola",
        target_audience="students",
        key_message="Zero sugar, all fizz",
        call_to_action="Grab one today",
        style="bold pop art",
        tone="playful",
        visual_elements=("bubbles",),
        music_style="synth",
        duration=duration,
        aspect_ratio=AspectRatio.PORTRAIT,
        resolution="480p",
        scene_count=scenes,
        models={"video": video} if video else {},
    )


class TestDurations:
    def test_a_scene_is_rendered_at_least_as_long_as_it_lasts(self) -> None:
        spec = load_catalog().get(SEEDANCE)
        assert spec.renders(7.5) == 10.0
        assert spec.renders(5.0) == 5.0
        assert spec.renders(12.0) == 10.0  # the longest there is
        assert spec.provider_input(GenericParams(duration=7.5))["duration"] == 10

    def test_the_estimate_bills_what_is_rendered(self) -> None:
        spec = load_catalog().get(SEEDANCE)
        assert estimate(spec, GenericParams(duration=7.5)).quantity == Decimal(10)

    @pytest.mark.parametrize(
        ("total", "count", "expected"),
        [(15, 3, [5.0, 5.0, 5.0]), (30, 4, [5.0, 10.0, 10.0, 5.0]), (60, 6, [10.0] * 6)],
    )
    def test_scenes_take_lengths_the_model_renders(
        self, total: int, count: int, expected: list[float]
    ) -> None:
        assert split_duration(total, count, (5, 10)) == expected

    def test_without_a_mix_the_split_is_even_and_clips_are_cut(self) -> None:
        assert split_duration(15, 4, (5, 10)) == [3.8, 3.8, 3.7, 3.7]

    @given(
        st.sampled_from([15, 30, 60]),
        st.integers(3, 7),
        st.sets(st.integers(1, 15), max_size=6),
    )
    def test_scenes_always_add_up_to_the_ad(
        self, total: int, count: int, renderable: set[int]
    ) -> None:
        durations = split_duration(total, count, tuple(sorted(renderable)))
        assert len(durations) == count
        assert sum(durations) == pytest.approx(total)
        assert all(d > 0 for d in durations)
        fits = [d for d in durations if d in renderable]
        assert len(fits) in (0, count)  # a renderable mix, or an even split

    def test_a_30_second_job_is_estimated_with_renderable_scenes(self) -> None:
        priced = estimate_job(_brief(30, video=SEEDANCE), load_catalog(), "replicate", NOW)
        videos = next(line for line in priced.lines if line.stage == "scene videos")
        assert videos.quantity == Decimal(30)  # 5 + 10 + 10 + 5 rendered seconds


class TestTheBriefIsInTheAd:
    @pytest.mark.parametrize("duration", [15, 30, 60])
    @pytest.mark.parametrize("scenes", [None, 3, 4, 5, 6, 7])
    def test_the_key_message_is_in_a_scene_at_every_count(
        self, duration: int, scenes: int | None
    ) -> None:
        planned = plan(_brief(duration, scenes), Setting())
        assert len(planned) == _brief(duration, scenes).scenes
        assert any("Zero sugar, all fizz" in s.image_prompt for s in planned)
        assert any("Zero sugar, all fizz" in s.script for s in planned)

    def test_brand_and_campaign_shape_every_prompt(self) -> None:
        planned = plan(_brief(30), Setting(brand=BRAND, campaign=CAMPAIGN))
        for scene in planned:
            for phrase in ("#E10600", "cheeky", "the 2019 summer spot", "no alcohol"):
                assert phrase in scene.image_prompt
            for phrase in ("win back lapsed students", "half the sugar", "shot on campus"):
                assert phrase in scene.image_prompt
        assert any("Futura Bold" in scene.image_prompt for scene in planned)

    def test_a_model_plan_without_the_key_message_gets_it(self) -> None:
        scene = {
            "description": "A can on a desk",
            "script": "Fizz.",
            "imagePrompt": "a can",
            "shotType": "product",
            "transition": "cut",
            "duration": 5,
        }
        text = json.dumps({"scenes": [scene] * 3})
        planned = parse(text, _brief(15), Setting(renderable=(5, 10)))
        assert planned is not None
        assert [s.duration for s in planned] == [5.0, 5.0, 5.0]
        assert "Zero sugar, all fizz" in planned[1].script
