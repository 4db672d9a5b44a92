"""Poster frames skip black and blank frames, within a bounded scan, on real H.264 videos."""

from __future__ import annotations

import io
from pathlib import Path

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from app.media import frames
from app.media.probe import POSTER_SIZE, poster_png, probe
from app.media.sniff import sniff
from tests import media_files as mf
from tests.graphql import Account, upload

FPS = 24


def _probe_poster(tmp_path: Path, video: bytes) -> np.ndarray:
    path = tmp_path / "video.mp4"
    path.write_bytes(video)
    media = sniff(video[:64])
    assert media is not None
    thumbnail = probe(path, media).thumbnail
    assert thumbnail is not None
    return _pixels(thumbnail)


def _pixels(png: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(png)) as image:
        return np.asarray(image.convert("L"), dtype=np.float32)


def _is_the_picture(pixels: np.ndarray) -> bool:
    """The test picture: a left-to-right gradient (40 to 220) with a disc in the middle."""
    return bool(pixels.mean() > 90 and pixels.std() > 30)


class TestPosterFrames:
    def test_a_black_leader_is_skipped(self, tmp_path: Path) -> None:
        video = mf.leader_mp4([mf.BLACK] * 12)
        assert _is_the_picture(_probe_poster(tmp_path, video))

    def test_a_fade_from_black_gives_the_first_frame_bright_enough(self, tmp_path: Path) -> None:
        video = mf.leader_mp4(mf.fade_from_black(36))
        poster = _probe_poster(tmp_path, video)
        # The first frame of the fade bright enough to count (judged on the decoder's grey).
        assert frames.DARK_LUMA - 4 <= poster.mean() < frames.DARK_LUMA + 10

    def test_white_flashes_and_flat_cards_are_skipped_too(self, tmp_path: Path) -> None:
        video = mf.leader_mp4([mf.BLACK] * 6 + [mf.WHITE] * 3 + [(30, 60, 160)] * 6)
        assert _is_the_picture(_probe_poster(tmp_path, video))

    def test_a_video_that_is_all_black_falls_back_to_its_first_frame(self, tmp_path: Path) -> None:
        video = mf.leader_mp4([mf.BLACK] * 30, content_frames=0)
        assert _probe_poster(tmp_path, video).mean() < 5

    def test_the_scan_stops_after_its_seconds(self, tmp_path: Path) -> None:
        black = int(frames.MAX_SCAN_SECONDS * FPS) + 12
        video = mf.leader_mp4([mf.BLACK] * black, content_frames=6)
        assert _probe_poster(tmp_path, video).mean() < 5  # the first frame, not the picture

    def test_a_video_that_starts_well_keeps_its_first_frame(self, tmp_path: Path) -> None:
        assert _is_the_picture(_probe_poster(tmp_path, mf.leader_mp4([])))


class TestScanBudget:
    @pytest.mark.parametrize(
        ("size", "frames_allowed"),
        [((320, 180), frames.MAX_SCAN_FRAMES), ((3840, 2160), 30), ((8000, 5000), 6)],
    )
    def test_larger_frames_allow_fewer_decodes(
        self, size: tuple[int, int], frames_allowed: int
    ) -> None:
        assert frames.scan_limit(*size) == frames_allowed

    def test_a_look_judges_luma_and_spread(self) -> None:
        flat = mf.leader_mp4([(128, 128, 128)], content_frames=0)
        with av.open(io.BytesIO(flat), "r") as container:
            look = frames.look(next(container.decode(video=0)))
        assert look.luma == pytest.approx(128, abs=4)
        assert not look.representative


class TestFullSizePoster:
    def test_the_reference_frame_is_the_thumbnails_at_full_size(self, tmp_path: Path) -> None:
        path = tmp_path / "leader.mp4"
        path.write_bytes(mf.leader_mp4([mf.BLACK] * 12, size=(640, 360)))
        poster = poster_png(path)
        with Image.open(io.BytesIO(poster)) as image:
            assert image.size == (640, 360)
        assert _is_the_picture(_pixels(poster))
        assert max(POSTER_SIZE) >= 640


class TestUploadedVideos:
    async def test_the_thumbnail_of_an_upload_skips_its_black_leader(
        self, http: httpx.AsyncClient, owner: Account
    ) -> None:
        video = mf.leader_mp4([mf.BLACK] * 12 + [mf.WHITE] * 2)
        uploaded = await upload(
            owner.gql, "ad.mp4", video, "video/mp4", {"workspaceId": owner.workspace_id}
        )
        asset = uploaded.ok()["uploadAsset"]["asset"]
        thumbnail = await http.get(asset["thumbnailUrl"].replace("http://127.0.0.1:8000", ""))
        assert thumbnail.status_code == 200
        assert _is_the_picture(_pixels(thumbnail.content))
