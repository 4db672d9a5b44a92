"""What a declared upload must agree with: kind, file extension, MIME type and size caps."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import PurePosixPath

from app.media.errors import MediaRejected
from app.media.sniff import ALL_TYPES, MediaType, normalize_mime, type_for_extension
from app.models.enums import AssetKind

MB = 1024 * 1024
_FAMILIES = {"mp4": "iso", "mov": "iso", "m4a": "iso", "webm": "matroska", "mkv": "matroska"}
_KNOWN_MIMES = frozenset(t.mime for t in ALL_TYPES)
_UNSAFE_NAME = re.compile(r"[^\w.\- ()]+")


@dataclass(frozen=True, slots=True)
class SizeCaps:
    image: int = 20 * MB
    audio: int = 50 * MB
    video: int = 500 * MB
    document: int = 20 * MB

    def for_kind(self, kind: AssetKind) -> int:
        return int(getattr(self, kind.value))

    @property
    def largest(self) -> int:
        return max(self.image, self.audio, self.video, self.document)


@dataclass(frozen=True, slots=True)
class Declared:
    """What the client said about the file before sending it."""

    filename: str
    kind: AssetKind | None = None
    mime: str | None = None
    size: int | None = None


def sanitize_filename(name: str) -> str:
    """A display-safe file name: no folders, no control or odd characters, at most 200 chars."""
    base = PurePosixPath(name.replace("\\", "/")).name
    base = unicodedata.normalize("NFKC", base)
    base = _UNSAFE_NAME.sub("_", base).strip(" .")
    return base[:200] or "file"


def check_declared(detected: MediaType | None, head: bytes, declared: Declared) -> MediaType:
    """The detected type, if everything the client declared agrees with it; else rejected."""
    if detected is None:
        raise MediaRejected(_unknown_reason(head))
    if declared.kind is not None and declared.kind is not detected.kind:
        raise MediaRejected(f"the content is {_describe(detected)}, not {declared.kind.value}")
    # The name as it will be stored: trailing dots and spaces never hide an extension.
    extension = PurePosixPath(sanitize_filename(declared.filename)).suffix.lower().lstrip(".")
    if extension and not _same_family(type_for_extension(extension), detected):
        raise MediaRejected(
            f"the content is {_describe(detected)} but the name ends in .{extension}"
        )
    mime = normalize_mime(declared.mime)
    if mime in _KNOWN_MIMES and not _same_family(_type_for_mime(mime), detected):
        raise MediaRejected(f"the content is {_describe(detected)}, not {mime}")
    if mime and mime not in _KNOWN_MIMES and mime != "application/octet-stream":
        raise MediaRejected(f"{mime} is not an accepted type")
    return detected


def _same_family(declared: MediaType | None, detected: MediaType) -> bool:
    if declared is None:
        return False
    if declared.format == detected.format:
        return True
    family = _FAMILIES.get(declared.format)
    return family is not None and family == _FAMILIES.get(detected.format)


def _type_for_mime(mime: str | None) -> MediaType | None:
    return next((t for t in ALL_TYPES if t.mime == mime), None)


def _describe(media: MediaType) -> str:
    return f"a {media.format.upper()} {media.kind.value}"


def _unknown_reason(head: bytes) -> str:
    text = head.lstrip()[:64].lower()
    if text.startswith((b"<svg", b"<?xml")):
        return "SVG files are not accepted (they can carry scripts)"
    if text.startswith((b"<!doctype html", b"<html")):
        return "HTML files are not accepted"
    return "the content is not a supported image, video, audio or PDF file"
