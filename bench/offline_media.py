"""What offline media costs: the local provider's renders of simulated models, and poster frames.

    .venv/bin/python -m bench.offline_media [--repeat N]

Prints the median wall time of each, in one process (one core), on files made on the spot.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from fractions import Fraction
from functools import partial
from pathlib import Path

import av
import numpy as np

from app.generation import local_media
from app.media.probe import poster_png, probe
from app.media.sniff import sniff

FPS = 24
SIZE = (1920, 1080)


def leader_video(path: Path, black_seconds: float, seconds: float) -> None:
    """A 1080p H.264 file: ``black_seconds`` of black, then a moving gradient."""
    width, height = SIZE
    ramp = np.linspace(40, 220, width, dtype=np.uint8)[None, :, None]
    picture = np.broadcast_to(ramp, (height, width, 3)).copy()
    black = np.zeros_like(picture)
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.options = {"preset": "ultrafast"}
        for index in range(round(seconds * FPS)):
            pixels = black if index < black_seconds * FPS else np.roll(picture, index * 8, axis=1)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def timed(label: str, work: Callable[[], object], repeat: int) -> None:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    print(f"{label:<58} {statistics.median(times) * 1000:8.0f} ms")


def renders(repeat: int) -> None:
    timed(
        "image, 16:9 (flux-schnell simulated)", partial(local_media.image, "x", "16:9", "s"), repeat
    )
    for seconds, fps in ((5, 24), (10, 24), (5, 12)):
        render = partial(local_media.video, seconds, fps, "16:9", "s")
        timed(f"video {seconds} s at {fps} fps, 640x360", render, repeat)
    timed("music 30 s (musicgen simulated)", partial(local_media.music, 30.0, "s"), repeat)


def posters(folder: Path, repeat: int) -> None:
    for black in (0.0, 2.0, 10.0):
        path = folder / f"leader-{black:g}.mp4"
        leader_video(path, black, 10.0 if black < 10 else 12.0)
        media = sniff(path.read_bytes()[:64])
        assert media is not None
        timed(
            f"probe 1080p, {black:g} s black leader (thumbnail)",
            partial(probe, path, media),
            repeat,
        )
        timed(
            f"full-size poster 1080p, {black:g} s black leader", partial(poster_png, path), repeat
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    renders(repeat)
    with tempfile.TemporaryDirectory() as folder:
        posters(Path(folder), repeat)


if __name__ == "__main__":
    main()
