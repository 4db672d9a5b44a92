"""Real media files made on the spot: PNG, JPEG, MP4, WAV, MP3, PDF, and hostile ones."""

from __future__ import annotations

import io
import math
import struct
import wave
import zlib
from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np
from PIL import Image


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    return _image(width, height, color, "PNG")


def jpeg(width: int = 64, height: int = 48) -> bytes:
    return _image(width, height, (20, 120, 200), "JPEG")


def pdf(pages: int = 3) -> bytes:
    images = [Image.new("RGB", (100, 140), (255, 255, 255)) for _ in range(pages)]
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:])
    return out.getvalue()


def wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    frames = int(seconds * rate)
    samples = (np.sin(np.arange(frames) * 2 * math.pi * 440 / rate) * 12000).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.tobytes())
    return out.getvalue()


def mp3(seconds: float = 1.0, rate: int = 22050) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("libmp3lame", rate=rate, layout="mono")
        samples = np.sin(np.arange(int(seconds * rate)) * 2 * math.pi * 330 / rate) * 0.5
        frame = av.AudioFrame.from_ndarray(
            samples.astype(np.float32).reshape(1, -1), format="fltp", layout="mono"
        )
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def mp4(seconds: float = 1.0, width: int = 64, height: int = 48, fps: int = 10) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
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
    return out.getvalue()


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny PNG whose header claims a gigantic image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def _image(width: int, height: int, color: tuple[int, int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format=fmt)
    return out.getvalue()


def webp(width: int, height: int) -> bytes:
    """A real lossless WEBP; one colour, so even 49 megapixels take a few dozen bytes."""
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(
        out, format="WEBP", lossless=True, method=0
    )
    return out.getvalue()


def giant_frame_mov(side: int = 16_000) -> bytes:
    """A QuickTime file holding one ``side`` x ``side`` RGB PNG frame (a few hundred kB).

    The PNG is written row by row through zlib, so making it never holds the frame in memory;
    decoding it would need ``side * side * 3`` bytes (768 MB at 16,000).
    """

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    compressor = zlib.compressobj(1)
    row = b"\x00" * (1 + side * 3)
    idat = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    frame = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat)
    frame += chunk(b"IEND", b"")
    out = io.BytesIO()
    with av.open(out, "w", format="mov") as container:
        stream = container.add_stream("png", rate=1)
        stream.width = stream.height = side
        stream.pix_fmt = "rgb24"
        stream.time_base = Fraction(1, 1)
        packet = av.Packet(frame)
        packet.stream = stream
        packet.pts = packet.dts = 0
        packet.time_base = stream.time_base
        container.mux(packet)
    return out.getvalue()


def leader_mp4(
    leader: Sequence[tuple[int, int, int] | float],
    content_frames: int = 24,
    size: tuple[int, int] = (320, 180),
    fps: int = 24,
) -> bytes:
    """An H.264 MP4 that opens with ``leader`` and then shows ``content_frames`` of a picture
    (a gradient with a bright disc). A colour in the leader is one flat frame of it (black, a
    white flash, a title card's background); a number is the picture at that brightness (a
    fade from black is a rising run of them)."""
    width, height = size
    ramp = np.linspace(40, 220, width, dtype=np.float32)[None, :, None]
    picture = np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8).copy()
    yy, xx = np.ogrid[:height, :width]
    picture[(xx - width // 2) ** 2 + (yy - height // 2) ** 2 < (height // 4) ** 2] = (250, 60, 40)
    frames = [
        (picture * item).astype(np.uint8)
        if isinstance(item, float)
        else np.full((height, width, 3), item, np.uint8)
        for item in leader
    ]
    frames += [np.roll(picture, index * 2, axis=1) for index in range(content_frames)]
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.options = {"preset": "ultrafast"}
        for index, pixels in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


BLACK = (0, 0, 0)
WHITE = (255, 255, 255)


def fade_from_black(frames: int) -> list[tuple[int, int, int] | float]:
    """A fade from black over ``frames`` frames (the picture at rising brightness)."""
    return [index / frames for index in range(frames)]
