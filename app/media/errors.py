"""Why a file was refused."""

from __future__ import annotations

from app.errors import BadUserInputError


class MediaRejected(BadUserInputError):
    """The file is not acceptable; ``reason`` says why in words a person understands."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"File rejected: {reason}", fields={"file": reason})
        self.reason = reason
