"""What is inside a received file: dimensions, duration, pages, a poster frame, a waveform.

Runs in a worker thread (``probe_file``). Anything corrupt, truncated or dangerous raises
:class:`MediaRejected` with a reason, never an unexpected error.
"""

from __future__ import annotations

import asyncio
import io
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from app.media.errors import MediaRejected
from app.media.frames import representative_frame
from app.media.sniff import MediaType
from app.models.enums import AssetKind

# Checked from the file's headers before anything is decoded, and enforced by the decoders
# themselves (FFmpeg's max_pixels): 40 megapixels is above 8K, far above any ad creative.
MAX_PIXELS = 40_000_000
MAX_DURATION_SECONDS = 3 * 60 * 60
MAX_SAMPLE_RATE = 384_000
MAX_CHANNELS = 32
DECODER_OPTIONS = {"max_pixels": str(MAX_PIXELS)}
THUMBNAIL_SIZE = (640, 640)
POSTER_SIZE = (2048, 2048)  # a video's frame used as an image reference, at most this size
WAVEFORM_SIZE = (800, 160)


@dataclass(frozen=True, slots=True)
class Probe:
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    page_count: int | None = None
    thumbnail: bytes | None = None  # PNG
    waveform: bytes | None = None  # PNG


async def probe_file(path: Path, media: MediaType) -> Probe:
    return await asyncio.to_thread(probe, path, media)


def probe(path: Path, media: MediaType) -> Probe:
    try:
        if media.kind is AssetKind.IMAGE:
            return _image(path)
        if media.kind is AssetKind.VIDEO:
            return _video(path)
        if media.kind is AssetKind.AUDIO:
            return _audio(path)
        return _pdf(path)
    except MediaRejected:
        raise
    except (
        OSError,
        ValueError,
        av.FFmpegError,
        PdfReadError,
        UnidentifiedImageError,
        Image.DecompressionBombError,
        SyntaxError,
        IndexError,
        KeyError,
    ) as exc:
        raise MediaRejected(
            f"the {media.kind.value} is corrupt or truncated ({_short(exc)})"
        ) from None


def _short(exc: BaseException) -> str:
    """A reason without file paths: FFmpeg errors keep only their description."""
    if isinstance(exc, av.FFmpegError):
        return str(exc.strerror or "invalid data")
    return (str(exc).splitlines() or [type(exc).__name__])[0][:120] or type(exc).__name__


def _image(path: Path) -> Probe:
    try:
        image = Image.open(path)
    except Image.DecompressionBombError:
        raise MediaRejected(f"the image has more than {MAX_PIXELS:,} pixels") from None
    with image:
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise MediaRejected(
                f"the image is {width}x{height} pixels, above the limit of {MAX_PIXELS:,}"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    return Probe(width=width, height=height)


def _video(path: Path) -> Probe:
    with _video_stream(path) as (container, stream):
        width, height = stream.codec_context.width, stream.codec_context.height
        duration = _check_duration(_duration(container, stream))
        poster = _scaled(_poster_frame(container, stream), THUMBNAIL_SIZE)
    return Probe(width=width, height=height, duration=duration, thumbnail=_png(poster))


def poster_png(path: Path) -> bytes:
    """The video's poster frame (the one its thumbnail shows) as a PNG of at most
    ``POSTER_SIZE``, for use as an image reference. Checked like an upload first."""
    try:
        with _video_stream(path) as (container, stream):
            _check_duration(_duration(container, stream))
            poster = _scaled(_poster_frame(container, stream), POSTER_SIZE)
    except MediaRejected:
        raise
    except (OSError, ValueError, av.FFmpegError) as exc:
        raise MediaRejected(f"the video is corrupt or truncated ({_short(exc)})") from None
    out = io.BytesIO()
    poster.convert("RGB").save(out, format="PNG")
    return out.getvalue()


@contextmanager
def _video_stream(
    path: Path,
) -> Iterator[tuple[av.container.InputContainer, av.video.stream.VideoStream]]:
    """The file's first video stream, its frame size checked from the headers."""
    # The decoders refuse frames above the budget even while the container is being opened
    # (opening decodes a frame to learn the stream's parameters).
    with av.open(str(path), options=DECODER_OPTIONS) as container:
        if not container.streams.video:
            raise MediaRejected("the file has no video stream")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise MediaRejected("the video is in a format that cannot be decoded")
        _check_pixels(stream.codec_context.width, stream.codec_context.height)
        yield container, stream


def _poster_frame(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> av.VideoFrame:
    frame = representative_frame(container, stream)
    if frame is None:
        raise MediaRejected("the video has no frame that can be decoded")
    return frame


def _scaled(frame: av.VideoFrame, box: tuple[int, int]) -> Image.Image:
    """The frame fitted into ``box`` by the decoder's scaler (never full size in RGB)."""
    scale = min(1.0, box[0] / frame.width, box[1] / frame.height)
    width, height = max(2, int(frame.width * scale)), max(2, int(frame.height * scale))
    small = frame.reformat(width=width, height=height, format="rgb24")
    return small.to_image()  # type: ignore[no-untyped-call,no-any-return]


def _audio(path: Path) -> Probe:
    with av.open(str(path)) as container:
        if not container.streams.audio:
            raise MediaRejected("the file has no audio stream")
        stream = container.streams.audio[0]
        _check_audio(stream)
        duration = _check_duration(_duration(container, stream))
        peaks = _peaks(container, stream)
    if not peaks.size:
        raise MediaRejected("the audio has no samples that can be decoded")
    return Probe(duration=duration, waveform=_waveform_png(peaks))


def _pdf(path: Path) -> Probe:
    try:
        pages = len(PdfReader(path, strict=False).pages)
    except Exception as exc:
        raise MediaRejected(f"the PDF cannot be read ({_short(exc)})") from None
    if pages == 0:
        raise MediaRejected("the PDF has no pages")
    return Probe(page_count=pages)


def _duration(container: av.container.InputContainer, stream: av.stream.Stream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return round(float(stream.duration * stream.time_base), 3)
    if container.duration is not None:
        return round(container.duration / av.time_base, 3)
    return None


def _check_pixels(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise MediaRejected(
            f"the video frame size is unknown or above the limit of {MAX_PIXELS:,} pixels"
        )
    if width * height > MAX_PIXELS:
        raise MediaRejected(
            f"the video frame size {width}x{height} is above the limit of {MAX_PIXELS:,} pixels"
        )


def _check_duration(duration: float | None) -> float | None:
    if duration is not None and duration > MAX_DURATION_SECONDS:
        raise MediaRejected(f"the media lasts {duration:,.0f} s, above {MAX_DURATION_SECONDS:,} s")
    return duration


def _check_audio(stream: av.audio.AudioStream) -> None:
    if stream.codec_context is None:
        raise MediaRejected("the audio is in a format that cannot be decoded")
    rate, channels = stream.codec_context.sample_rate, stream.codec_context.channels
    if not 0 < rate <= MAX_SAMPLE_RATE:
        raise MediaRejected(f"the sample rate {rate} Hz is not acceptable")
    if not 0 < channels <= MAX_CHANNELS:
        raise MediaRejected(f"{channels} audio channels are not acceptable")


def _png(image: Image.Image) -> bytes:
    image.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    image.convert("RGB").save(out, format="PNG", optimize=True)
    return out.getvalue()


def _peaks(container: av.container.InputContainer, stream: av.audio.AudioStream) -> np.ndarray:
    """Peak amplitude per decoded frame (mono mix), in 0..1."""
    peaks: list[float] = []
    for frame in container.decode(stream):
        samples = frame.to_ndarray().astype(np.float64)
        if samples.size:
            scale = _full_scale(samples.dtype, frame.format.name)
            peaks.append(float(np.abs(samples).max()) / scale)
    clipped: np.ndarray = np.clip(np.asarray(peaks), 0.0, 1.0)
    return clipped


def _full_scale(dtype: np.dtype, sample_format: str) -> float:
    if sample_format.startswith(("flt", "dbl")):
        return 1.0
    bits = {"u8": 8, "s16": 16, "s32": 32, "s64": 64}.get(sample_format.rstrip("p"), 16)
    return float(2 ** (bits - 1))


def _waveform_png(peaks: np.ndarray) -> bytes:
    width, height = WAVEFORM_SIZE
    buckets = np.array_split(peaks, min(width // 2, len(peaks)))
    image = Image.new("RGB", WAVEFORM_SIZE, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    bar = width / len(buckets)
    middle = height / 2
    for index, bucket in enumerate(buckets):
        level = float(bucket.max()) if bucket.size else 0.0
        half = max(1.0, level * (middle - 4))
        x = index * bar
        draw.rectangle([x, middle - half, x + max(1.0, bar - 1), middle + half], fill=(60, 90, 200))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
