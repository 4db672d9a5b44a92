"""Real media made offline and deterministically from the inputs (images, MP4 video, music)."""

from __future__ import annotations

import hashlib
import io
import math
import textwrap
import wave
from fractions import Fraction

import av
import numpy as np
from PIL import Image, ImageDraw

IMAGE_SIZES = {
    "1:1": (768, 768),
    "16:9": (1024, 576),
    "9:16": (576, 1024),
    "4:3": (960, 720),
    "3:4": (720, 960),
}
VIDEO_SIZES = {"1:1": (480, 480), "16:9": (640, 360), "9:16": (360, 640)}
SAMPLE_RATE = 22050
MOTES = 36


def _palette(seed: str) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(seed.encode()).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 15, 3)]


def image(prompt: str, aspect_ratio: str, seed: str, reference: bytes | None = None) -> bytes:
    """A PNG in the requested aspect ratio: a seeded gradient, shapes, and the prompt."""
    size = IMAGE_SIZES.get(aspect_ratio, IMAGE_SIZES["1:1"])
    canvas = _scene(size, _palette(seed + prompt))
    if reference is not None:
        with Image.open(io.BytesIO(reference)) as ref:
            canvas = Image.blend(canvas, ref.convert("RGB").resize(size), 0.6)
    draw = ImageDraw.Draw(canvas)
    lines = textwrap.wrap(prompt or "adstudio", width=max(20, size[0] // 18))[:6]
    draw.multiline_text((24, 24), "\n".join(lines), fill=(255, 255, 255), spacing=6)
    out = io.BytesIO()
    canvas.save(out, format="PNG")
    return out.getvalue()


def _scene(size: tuple[int, int], colors: list[tuple[int, int, int]]) -> Image.Image:
    width, height = size
    top, bottom = np.array(colors[0], float), np.array(colors[1], float)
    ramp = np.linspace(0.0, 1.0, height)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).repeat(width, axis=1).astype(np.uint8)
    canvas = Image.fromarray(pixels, "RGB")
    draw = ImageDraw.Draw(canvas)
    for index, color in enumerate(colors[2:]):
        radius = min(size) // (4 + index)
        cx, cy = (width * (index + 1)) // 4, height // 2 + (index - 1) * radius // 2
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=color)
    return canvas


def video(
    duration: float, fps: int, aspect_ratio: str, seed: str, start_image: bytes | None = None
) -> bytes:
    """An H.264 MP4 of ``duration`` seconds that pans across the start image (or a seeded one)."""
    width, height = VIDEO_SIZES.get(aspect_ratio, VIDEO_SIZES["16:9"])
    source = _start_frame(start_image, seed, (int(width * 1.25), int(height * 1.25)))
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"preset": "ultrafast", "crf": "28"}
        frames = max(1, round(duration * fps))
        motes = _motes(seed, (width, height))
        for index in range(frames):
            picture = _pan(source, index / frames, (width, height))
            _float(picture, motes, index / fps)
            frame = av.VideoFrame.from_image(picture)  # type: ignore[no-untyped-call]
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def _start_frame(start_image: bytes | None, seed: str, size: tuple[int, int]) -> Image.Image:
    if start_image is None:
        return _scene(size, _palette(seed))
    with Image.open(io.BytesIO(start_image)) as ref:
        return ref.convert("RGB").resize(size)


def _pan(source: Image.Image, t: float, size: tuple[int, int]) -> Image.Image:
    width, height = size
    x = int((source.width - width) * t)
    y = int((source.height - height) * (0.5 + 0.5 * math.sin(t * math.pi)) / 2)
    frame = source.crop((x, y, x + width, y + height))
    draw = ImageDraw.Draw(frame)
    box = int(width * 0.1)
    bx = int((width - box) * t)
    draw.rectangle([bx, height - box - 10, bx + box, height - 10], outline=(255, 255, 255), width=3)
    return frame


def _motes(seed: str, size: tuple[int, int]) -> np.ndarray:
    """Seeded bubbles that rise through every video: x, y (0-1), radius (px), speed (px/s).

    They move the same number of pixels per second at any frame rate, so consecutive frames
    always differ visibly (a slow pan alone barely changes a frame at 24 fps)."""
    rng = np.random.default_rng(int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16))
    scale = min(size) / 360
    return np.column_stack(
        [
            rng.random(MOTES),
            rng.random(MOTES),
            rng.uniform(5, 12, MOTES) * scale,
            rng.uniform(50, 110, MOTES) * scale,
        ]
    )


def _float(frame: Image.Image, motes: np.ndarray, seconds: float) -> None:
    draw = ImageDraw.Draw(frame)
    width, height = frame.size
    for x, y, radius, speed in motes:
        cx = x * width
        cy = (y * height - speed * seconds) % (height + 2 * radius) - radius
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=(250, 250, 240))


def music(duration: float, seed: str) -> bytes:
    """A WAV track of ``duration`` seconds: a seeded four-chord progression with a soft pulse."""
    total = int(duration * SAMPLE_RATE)
    time = np.arange(total) / SAMPLE_RATE
    roots = [220.0 * 2 ** (s / 12) for s in _progression(seed)]
    bar = max(duration / len(roots), 0.5)
    chord = np.array([roots[min(int(t / bar), len(roots) - 1)] for t in time[:: SAMPLE_RATE // 10]])
    freqs = np.repeat(chord, SAMPLE_RATE // 10)[:total]
    freqs = np.pad(freqs, (0, total - len(freqs)), mode="edge")
    phase = 2 * np.pi * np.cumsum(freqs) / SAMPLE_RATE
    tone = np.sin(phase) + 0.5 * np.sin(phase * 1.25) + 0.4 * np.sin(phase * 1.5)
    pulse = 0.6 + 0.4 * (np.sin(2 * np.pi * 2 * time) > 0)
    fade = np.minimum(1.0, np.minimum(time, duration - time) / 0.05 + 1e-9)
    samples = (tone * pulse * np.clip(fade, 0, 1) * 6000).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(SAMPLE_RATE)
        writer.writeframes(samples.tobytes())
    return out.getvalue()


def _progression(seed: str) -> list[int]:
    options = [[0, 5, 7, 3], [0, 7, 9, 5], [0, 3, 5, 7], [0, 8, 3, 10]]
    return options[hashlib.sha256(seed.encode()).digest()[0] % len(options)]
