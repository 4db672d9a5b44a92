"""HTTP ``Range: bytes=…`` parsing (one range; several are answered with the whole body)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive
    partial: bool

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The range to send; ``None`` means unsatisfiable (416)."""
    whole = ByteRange(0, max(size - 1, 0), partial=False)
    if not header or size == 0:
        return whole
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return whole
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return whole
    if not first:  # suffix: the last N bytes
        length = int(last)
        return ByteRange(max(size - length, 0), size - 1, partial=True) if length else None
    start = int(first)
    if start >= size:
        return None
    end = min(int(last), size - 1) if last.isdigit() else size - 1
    return ByteRange(start, end, partial=True) if end >= start else whole
