"""A large, valid MP4 written to disk without holding it in memory.

A short real video is encoded with PyAV, then an ISO-BMFF ``free`` box (a header and zero
bytes) is appended in chunks until the file has the requested size. Demuxers skip ``free``
boxes, so the file still opens, probes and decodes as the short video.
"""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

CHUNK = 1024 * 1024
_SMALL_BOX_LIMIT = 0xFFFF_FFFF  # larger boxes need the 64-bit "largesize" header


def write_small_mp4(path: Path, seconds: float = 2.0, width: int = 320, height: int = 180) -> None:
    """A short MPEG-4 Part 2 video (10 frames per second) with a changing colour."""
    fps = 10
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for index in range(int(seconds * fps)):
            shade = (index * 25) % 255
            image = Image.new("RGB", (width, height), (shade, 80, 255 - shade))
            frame = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def free_box_header(box_size: int) -> bytes:
    """The header of a ``free`` box of ``box_size`` bytes in all (header included)."""
    if box_size <= _SMALL_BOX_LIMIT:
        return struct.pack(">I4s", box_size, b"free")
    return struct.pack(">I4sQ", 1, b"free", box_size)


def write_padded_mp4(path: Path, size: int) -> None:
    """Write a valid MP4 of exactly ``size`` bytes to ``path``, ``CHUNK`` bytes at a time."""
    write_small_mp4(path)
    video = path.stat().st_size
    box_size = size - video
    header = free_box_header(box_size)
    if box_size < len(header):
        raise ValueError(f"{size} bytes is too small: the video alone takes {video}")
    zeros = bytes(CHUNK)
    with path.open("ab") as out:
        out.write(header)
        remaining = box_size - len(header)
        while remaining > 0:
            step = min(CHUNK, remaining)
            out.write(zeros if step == CHUNK else zeros[:step])
            remaining -= step
