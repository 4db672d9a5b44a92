"""Partial updates: which input fields were given (``UNSET`` means "leave as is")."""

from __future__ import annotations

import dataclasses
from typing import Any

from strawberry import UNSET


def given(input_object: object, *names: str) -> dict[str, Any]:
    """The given fields among ``names``, nested inputs turned into plain dicts."""
    changes: dict[str, Any] = {}
    for name in names:
        value = getattr(input_object, name)
        if value is UNSET:
            continue
        changes[name] = as_plain(value)
    return changes


def as_plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: as_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [as_plain(v) for v in value]
    return None if value is UNSET else value
