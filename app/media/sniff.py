"""Magic-byte sniffing: the content decides the type, never the name or the client's word.

A small table of our own (the formats adstudio accepts, with the container brands that tell
MP4 from MOV and M4A, and WebM from Matroska) keeps the answer exact for that list.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.enums import AssetKind

SNIFF_BYTES = 64


@dataclass(frozen=True, slots=True)
class MediaType:
    kind: AssetKind
    format: str
    mime: str
    extensions: frozenset[str]


def _media(kind: AssetKind, fmt: str, mime: str, *extensions: str) -> MediaType:
    return MediaType(kind, fmt, mime, frozenset(extensions or (fmt,)))


PNG = _media(AssetKind.IMAGE, "png", "image/png")
JPEG = _media(AssetKind.IMAGE, "jpg", "image/jpeg", "jpg", "jpeg", "jpe")
GIF = _media(AssetKind.IMAGE, "gif", "image/gif")
WEBP = _media(AssetKind.IMAGE, "webp", "image/webp")
MP4 = _media(AssetKind.VIDEO, "mp4", "video/mp4", "mp4", "m4v")
MOV = _media(AssetKind.VIDEO, "mov", "video/quicktime", "mov", "qt")
WEBM = _media(AssetKind.VIDEO, "webm", "video/webm")
MKV = _media(AssetKind.VIDEO, "mkv", "video/x-matroska")
MP3 = _media(AssetKind.AUDIO, "mp3", "audio/mpeg")
WAV = _media(AssetKind.AUDIO, "wav", "audio/wav", "wav", "wave")
OGG = _media(AssetKind.AUDIO, "ogg", "audio/ogg", "ogg", "oga", "opus")
M4A = _media(AssetKind.AUDIO, "m4a", "audio/mp4", "m4a", "mp4a")
AAC = _media(AssetKind.AUDIO, "aac", "audio/aac")
PDF = _media(AssetKind.DOCUMENT, "pdf", "application/pdf")

ALL_TYPES = (PNG, JPEG, GIF, WEBP, MP4, MOV, WEBM, MKV, MP3, WAV, OGG, M4A, AAC, PDF)
_MIME_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "audio/mp3": "audio/mpeg",
    "audio/wave": "audio/wav",
    "audio/x-wav": "audio/wav",
    "audio/x-m4a": "audio/mp4",
    "audio/m4a": "audio/mp4",
    "audio/x-aac": "audio/aac",
    "video/x-m4v": "video/mp4",
    "application/x-pdf": "application/pdf",
}
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A "})
_MP3_SYNC = frozenset({0xFB, 0xFA, 0xF3, 0xF2, 0xE3, 0xE2})
_ADTS_SYNC = frozenset({0xF1, 0xF9})


def sniff(head: bytes) -> MediaType | None:  # noqa: PLR0911 (a table of signatures)
    """The type the first bytes of a file prove, or None when they prove nothing we accept."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return WAV
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM if b"webm" in head[:SNIFF_BYTES] else MKV
    if head[4:8] == b"ftyp":
        return _iso_media(head[8:12])
    return _audio_frames(head)


def _iso_media(brand: bytes) -> MediaType:
    if brand in _AUDIO_BRANDS:
        return M4A
    return MOV if brand == b"qt  " else MP4


def _audio_frames(head: bytes) -> MediaType | None:
    if head.startswith(b"ID3"):
        return MP3
    if len(head) >= 2 and head[0] == 0xFF:
        if head[1] in _MP3_SYNC:
            return MP3
        if head[1] in _ADTS_SYNC:
            return AAC
    return None


def normalize_mime(mime: str | None) -> str | None:
    if not mime:
        return None
    base = mime.split(";", 1)[0].strip().lower()
    return _MIME_ALIASES.get(base, base)


def type_for_extension(extension: str) -> MediaType | None:
    ext = extension.lower().lstrip(".")
    return next((t for t in ALL_TYPES if ext in t.extensions), None)
