"""Collecting per-field input problems into one BAD_USER_INPUT error."""

from __future__ import annotations

import re
from types import TracebackType

from app.errors import BadUserInputError

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class FieldErrors:
    """Gather problems per field; leaving the ``with`` block raises them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, problem: str) -> None:
        self.fields.setdefault(field, problem)

    def text(
        self,
        field: str,
        value: str | None,
        *,
        min_length: int = 0,
        max_length: int,
        required: bool = True,
    ) -> str | None:
        """``value`` stripped, checked for presence and length."""
        if value is None:
            if required:
                self.add(field, "is required")
            return None
        stripped = value.strip()
        if len(stripped) < min_length:
            self.add(
                field,
                f"must be at least {min_length} characters"
                if min_length > 1
                else "must not be blank",
            )
        elif len(stripped) > max_length:
            self.add(field, f"must be at most {max_length} characters")
        return stripped

    def text_list(
        self, field: str, values: list[str] | None, *, max_items: int = 20, max_length: int = 200
    ) -> list[str]:
        items = [v.strip() for v in values or [] if v.strip()]
        if len(items) > max_items:
            self.add(field, f"must have at most {max_items} items")
        if any(len(v) > max_length for v in items):
            self.add(field, f"items must be at most {max_length} characters")
        return items

    def raise_if_any(self) -> None:
        if self.fields:
            raise BadUserInputError(_summary(self.fields), fields=dict(self.fields))

    def __enter__(self) -> FieldErrors:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.raise_if_any()


def _summary(fields: dict[str, str]) -> str:
    return "Invalid input: " + "; ".join(f"{name} {problem}" for name, problem in fields.items())


def require_changes(changes: dict[str, object]) -> None:
    if not changes:
        raise BadUserInputError("Nothing to update: give at least one field.")
