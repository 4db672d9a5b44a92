"""Small rules of the media pipeline, checked directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from app.http.ranges import ByteRange, parse_range
from app.media.errors import MediaRejected
from app.media.rules import Declared, check_declared, sanitize_filename
from app.media.sniff import sniff
from app.storage.links import MediaLinks, Variant
from tests import media_files as mf


class TestRanges:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            (None, ByteRange(0, 99, partial=False)),
            ("bytes=0-9", ByteRange(0, 9, partial=True)),
            ("bytes=90-", ByteRange(90, 99, partial=True)),
            ("bytes=95-200", ByteRange(95, 99, partial=True)),
            ("bytes=-5", ByteRange(95, 99, partial=True)),
            ("bytes=-500", ByteRange(0, 99, partial=True)),
            ("bytes=0-1,5-6", ByteRange(0, 99, partial=False)),
            ("items=0-5", ByteRange(0, 99, partial=False)),
            ("bytes=9-3", ByteRange(0, 99, partial=False)),
        ],
    )
    def test_parses_one_range(self, header: str | None, expected: ByteRange) -> None:
        assert parse_range(header, 100) == expected

    @pytest.mark.parametrize("header", ["bytes=100-", "bytes=-0"])
    def test_unsatisfiable(self, header: str) -> None:
        assert parse_range(header, 100) is None


class TestFilenames:
    @pytest.mark.parametrize(
        ("raw", "clean"),
        [
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\me\\logo.png", "logo.png"),
            ("na\x00me<script>.png", "na_me_script_.png"),
            ("   ", "file"),
            ("é café.jpg", "é café.jpg"),
        ],
    )
    def test_names_are_made_safe(self, raw: str, clean: str) -> None:
        assert sanitize_filename(raw) == clean


class TestSniff:
    @pytest.mark.parametrize(
        ("head", "fmt"),
        [
            (b"\x00\x00\x00\x20ftypisom", "mp4"),
            (b"\x00\x00\x00\x14ftypqt  ", "mov"),
            (b"\x00\x00\x00\x20ftypM4A ", "m4a"),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "webm"),
            (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01matroska", "mkv"),
            (b"OggS\x00\x02", "ogg"),
            (b"\xff\xf1\x50\x80", "aac"),
            (b"\xff\xfb\x90\x00", "mp3"),
            (b"ID3\x04\x00", "mp3"),
            (b"GIF89a", "gif"),
            (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        ],
    )
    def test_recognises_each_format(self, head: bytes, fmt: str) -> None:
        media = sniff(head)
        assert media is not None
        assert media.format == fmt

    @pytest.mark.parametrize("head", [b"", b"hello", b"<svg>", b"PK\x03\x04"])
    def test_refuses_the_rest(self, head: bytes) -> None:
        assert sniff(head) is None


class TestDeclaredNames:
    @pytest.mark.parametrize("name", ["doc.jpeg.", "doc.jpeg  ", "doc.jpeg. . ", "doc.jpeg\uff0e"])
    def test_trailing_dots_and_spaces_do_not_hide_the_extension(self, name: str) -> None:
        head = mf.png()[:64]
        with pytest.raises(MediaRejected, match="name ends in"):
            check_declared(sniff(head), head, Declared(filename=name))

    def test_a_matching_name_with_trailing_dots_is_fine(self) -> None:
        head = mf.png()[:64]
        assert check_declared(sniff(head), head, Declared(filename="logo.png. ")).format == "png"


class TestSignedLinks:
    @pytest.mark.parametrize("signature", ["é", "\udcff", "\x00", "💥" * 50, ""])
    def test_any_text_as_a_signature_is_simply_wrong(self, signature: str) -> None:
        links = MediaLinks("k" * 32, "http://x", 3600)
        now = datetime.now(UTC)
        assert not links.verify(uuid.uuid4(), Variant.ORIGINAL, "9999999999", signature, now)
        assert not links.verify(uuid.uuid4(), Variant.ORIGINAL, "١٢", signature, now)
