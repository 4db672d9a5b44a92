"""The offline provider renders each output once, however many polls ask, across restarts."""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from app.generation import local_media
from app.generation.local_provider import LocalProvider
from app.generation.provider import PredictionRequest
from app.storage.local import LocalStorage

VIDEO = PredictionRequest(
    "local/video", {"prompt": "waves", "duration": 1, "aspect_ratio": "16:9"}, "video", None
)


class SlowRenders:
    """The real video renderer, held at a gate the test opens, counting its calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.gate = threading.Event()
        self._render = local_media.video

    def __call__(self, *args: Any) -> bytes:
        self.calls += 1
        assert self.gate.wait(10), "the render was never let through"
        return self._render(*args)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> SlowRenders:
    slow = SlowRenders()
    monkeypatch.setattr(local_media, "video", slow)
    return slow


async def test_polls_that_give_up_leave_the_one_render_running_for_the_next(
    tmp_path: Path, renders: SlowRenders
) -> None:
    provider = LocalProvider(LocalStorage(tmp_path), latency=0)
    prediction = await provider.submit(VIDEO)
    for _ in range(3):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(provider.get(prediction.id), 0.05)
    renders.gate.set()
    state = await asyncio.wait_for(provider.get(prediction.id), 10)
    assert (state.status, renders.calls) == ("succeeded", 1)
    await provider.aclose()


async def test_an_output_rendered_before_a_restart_is_not_rendered_again(
    tmp_path: Path, renders: SlowRenders
) -> None:
    renders.gate.set()
    first = LocalProvider(LocalStorage(tmp_path), latency=0)
    prediction = await first.submit(VIDEO)
    before = await first.get(prediction.id)
    await first.aclose()
    again = LocalProvider(LocalStorage(tmp_path), latency=0)
    after = await again.get(prediction.id)
    assert (after.status, after.outputs) == ("succeeded", before.outputs)
    assert renders.calls == 1
    await again.aclose()


@pytest.mark.parametrize(("seconds", "fps"), [(10, 24), (5, 12)])
def test_every_frame_of_a_video_moves_whatever_its_frame_rate(seconds: int, fps: int) -> None:
    start = local_media.image("Fizz Cola, bold pop art", "9:16", "seed")
    data = local_media.video(seconds, fps, "9:16", "seed", start)
    with av.open(io.BytesIO(data), "r") as container:
        frames = [f.to_ndarray(format="gray").astype(np.int16) for f in container.decode(video=0)]
    assert len(frames) == seconds * fps
    changes = [float(np.abs(b - a).mean()) for a, b in itertools.pairwise(frames)]
    assert min(changes) > 0.5  # no two frames alike: nothing that looks frozen
