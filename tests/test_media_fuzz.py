"""Damaged media of every kind is a coded rejection, never a crash of the parser behind it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.media.errors import MediaRejected
from app.media.probe import probe
from app.media.sniff import SNIFF_BYTES, sniff
from tests import media_files as mf

SAMPLES = {
    "png": mf.png(),
    "jpeg": mf.jpeg(),
    "webp": mf.webp(32, 24),
    "pdf": mf.pdf(),
    "mp4": mf.mp4(seconds=0.3),
    "wav": mf.wav(seconds=0.2),
}


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    """The original, truncated or with bytes overwritten past its magic bytes."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(16, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        data = data[: draw(st.integers(16, len(data)))]
    return bytes(data)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_damaged_files_are_probed_or_rejected(kind: str, tmp_path: Path) -> None:
    path = tmp_path / f"sample.{kind}"

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(damaged(SAMPLES[kind]))
    def check(data: bytes) -> None:
        media = sniff(data[:SNIFF_BYTES])
        if media is None:
            return  # refused before probing, by its magic bytes
        path.write_bytes(data)
        reason = "probed"
        try:
            probe(path, media)
        except MediaRejected as rejected:
            reason = rejected.reason
        assert reason

    check()
