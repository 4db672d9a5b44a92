"""Composing an ad: scene clips joined with transitions, fitted to the aspect ratio, with the
music mixed in, written as one H.264/AAC MP4 (PyAV). Frames stream through; nothing is held
whole in memory."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

FPS = 24
AUDIO_RATE = 44100
TRANSITION_SECONDS = 0.5
SIZES = {
    ("16:9", "720p"): (1280, 720),
    ("9:16", "720p"): (720, 1280),
    ("1:1", "720p"): (720, 720),
    ("16:9", "480p"): (854, 480),
    ("9:16", "480p"): (480, 854),
    ("1:1", "480p"): (480, 480),
    ("16:9", "1080p"): (1920, 1080),
    ("9:16", "1080p"): (1080, 1920),
    ("1:1", "1080p"): (1080, 1080),
}


@dataclass(frozen=True, slots=True)
class Clip:
    path: Path
    duration: float
    transition: str = "cut"  # how this clip enters: cut | fade | dissolve


def output_size(aspect_ratio: str, resolution: str) -> tuple[int, int]:
    return SIZES.get((aspect_ratio, resolution), SIZES.get((aspect_ratio, "720p"), (1280, 720)))


def compose(clips: list[Clip], music: Path | None, target: Path, size: tuple[int, int]) -> float:
    """Write the ad to ``target``; returns its duration in seconds."""
    total = sum(clip.duration for clip in clips)
    with av.open(str(target), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = size[0], size[1], "yuv420p"
        video.time_base = Fraction(1, FPS)
        video.options = {"preset": "ultrafast", "crf": "26"}
        audio = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
        for index, image in enumerate(_frames(clips, size)):
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = index
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        _write_audio(out, audio, music, total)
    return total


def frame_counts(durations: list[float]) -> list[int]:
    """Frames per clip, each cut at its scene's end on the frame grid: they add up to the
    whole ad's length, so rounding never adds or drops a frame overall."""
    counts, start = [], 0.0
    for duration in durations:
        counts.append(round((start + duration) * FPS) - round(start * FPS))
        start += duration
    return counts


def _frames(clips: list[Clip], size: tuple[int, int]) -> Iterator[Image.Image]:
    previous: Image.Image | None = None
    black = Image.new("RGB", size)
    for clip, count in zip(clips, frame_counts([c.duration for c in clips]), strict=True):
        blend = min(round(TRANSITION_SECONDS * FPS), count)
        last = black
        for index, frame in enumerate(_clip_frames(clip, size, count)):
            last = frame
            yield _transition(clip.transition, previous, frame, index, blend, black)
        previous = last


def _transition(
    kind: str,
    previous: Image.Image | None,
    frame: Image.Image,
    index: int,
    blend: int,
    black: Image.Image,
) -> Image.Image:
    if previous is None or kind == "cut" or index >= blend:
        return frame
    t = (index + 1) / (blend + 1)
    if kind == "dissolve":
        return Image.blend(previous, frame, t)
    return Image.blend(black, frame, t)  # fade: in from black


def _clip_frames(clip: Clip, size: tuple[int, int], count: int) -> Iterator[Image.Image]:
    """Exactly ``count`` frames: the clip resampled to FPS and cut there. Each output frame
    shows the source frame on screen at its time, so every source frame keeps its own length
    (clips are rendered at least as long as their scene; a short one has its last frame held).
    """
    produced = 0
    current: av.VideoFrame | None = None  # the source frame on screen
    image: Image.Image | None = None  # it, fitted once it is first shown
    with av.open(str(clip.path)) as source:
        stream = source.streams.video[0]
        base = stream.time_base
        for decoded in source.decode(stream):
            starts = float(decoded.pts * base) if decoded.pts is not None and base else 0.0
            while current is not None and produced < count and produced / FPS < starts - 1e-6:
                image = image or _fit(current.to_image(), size)  # type: ignore[no-untyped-call]
                yield image
                produced += 1
            if produced >= count:
                return
            current, image = decoded, None
    if current is not None:
        image = image or _fit(current.to_image(), size)  # type: ignore[no-untyped-call]
    filler = image or Image.new("RGB", size)
    for _ in range(count - produced):
        yield filler


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale to fit inside ``size`` and pad the rest with black (letterbox or pillarbox)."""
    width, height = size
    scale = min(width / image.width, height / image.height)
    fitted = image.convert("RGB").resize(
        (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    )
    if fitted.size == size:
        return fitted
    canvas = Image.new("RGB", size)
    canvas.paste(fitted, ((width - fitted.width) // 2, (height - fitted.height) // 2))
    return canvas


def _write_audio(
    out: av.container.OutputContainer,
    stream: av.audio.AudioStream,
    music: Path | None,
    total: float,
) -> None:
    samples = _music_samples(music, total)
    frame_size = stream.codec_context.frame_size or 1024
    for start in range(0, samples.shape[1], frame_size):
        chunk = np.ascontiguousarray(samples[:, start : start + frame_size])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def _music_samples(music: Path | None, total: float) -> np.ndarray:
    """Stereo samples for exactly ``total`` seconds: the music trimmed or padded, faded out."""
    length = round(total * AUDIO_RATE)
    mixed = np.zeros((2, length), dtype=np.float32)
    if music is not None:
        decoded = _decode_audio(music)[:, :length]
        mixed[:, : decoded.shape[1]] = decoded
    fade = min(length, AUDIO_RATE)
    mixed[:, length - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return mixed


def _decode_audio(path: Path) -> np.ndarray:
    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
    parts: list[np.ndarray] = []
    with av.open(str(path)) as source:
        for frame in source.decode(audio=0):
            for converted in resampler.resample(frame):
                parts.append(converted.to_ndarray())
    for converted in resampler.resample(None):
        parts.append(converted.to_ndarray())
    if not parts:
        return np.zeros((2, 0), dtype=np.float32)
    return np.concatenate(parts, axis=1).astype(np.float32) * 0.8
