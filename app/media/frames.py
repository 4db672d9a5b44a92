"""A video's representative frame: the first that is neither near-black nor blank.

Black leaders, fades from black and flat title cards (one colour, white flashes) are skipped.
The scan is bounded by frames, seconds and decoded pixels, all fixed from the stream's
headers before the first frame is decoded; when no frame qualifies the first one is used.
"""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np

MAX_SCAN_FRAMES = 120
MAX_SCAN_SECONDS = 5.0
MAX_SCAN_PIXELS = 250_000_000  # e.g. 120 frames of 1080p, 30 of 4K, 6 of 40 megapixels
DARK_LUMA = 24.0  # mean luma (0-255) below which a frame counts as black
FLAT_SPREAD = 6.0  # luma standard deviation below which a frame counts as blank
SAMPLE_SIDE = 64  # frames are judged on a small grey copy made by the decoder's scaler


@dataclass(frozen=True, slots=True)
class Look:
    """How a frame looks: its mean luma and the spread of its luma (0-255)."""

    luma: float
    spread: float

    @property
    def representative(self) -> bool:
        return self.luma >= DARK_LUMA and self.spread >= FLAT_SPREAD


def look(frame: av.VideoFrame) -> Look:
    grey = frame.reformat(width=SAMPLE_SIDE, height=SAMPLE_SIDE, format="gray").to_ndarray()
    values = grey.astype(np.float32)
    return Look(float(values.mean()), float(values.std()))


def scan_limit(width: int, height: int) -> int:
    """How many frames may be decoded looking for one, from the frame size alone."""
    return max(1, min(MAX_SCAN_FRAMES, MAX_SCAN_PIXELS // max(1, width * height)))


def representative_frame(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream
) -> av.VideoFrame | None:
    """The first representative frame within the bounds, else the first frame (None if the
    stream has no frame that decodes)."""
    context = stream.codec_context
    limit = scan_limit(context.width, context.height)
    first: av.VideoFrame | None = None
    for index, frame in enumerate(container.decode(stream)):
        if first is None:
            first = frame
        if look(frame).representative:
            return frame
        if index + 1 >= limit or _seconds(frame) - _seconds(first) >= MAX_SCAN_SECONDS:
            break
    return first


def _seconds(frame: av.VideoFrame) -> float:
    return float(frame.time) if frame.time is not None else 0.0
