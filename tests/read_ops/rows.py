"""Row builders for the read-paths dataset: deterministic ids and times, every column shape.

Rows are plain dicts with every Python-side default filled in (Core inserts skip them), the
way ``bench/seed.py`` builds its workload.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import SQLModel

from app.ids import encode_global_id

EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# The fixed "now" of both apps: after every seeded row, before the invitations expire.
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


class Rows:
    """Collects rows per table, in insertion order, with ids and times from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.tables: dict[type[SQLModel], list[dict[str, Any]]] = defaultdict(list)
        self.step = 0
        self.serials: dict[str, int] = defaultdict(int)

    def serial(self, name: str) -> int:
        """0, 1, 2... per ``name``: walks a kind of row through the enums."""
        self.serials[name] += 1
        return self.serials[name] - 1

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def moment(self, *, tie: bool = False) -> datetime:
        """A later time than the last one, unless ``tie`` (then the same one, to tie on it)."""
        if not tie:
            self.step += 1
        # Microseconds so ISO strings keep their fraction, varied so they are not all alike.
        return EPOCH + timedelta(minutes=self.step * 7, microseconds=(self.step * 7919) % 999_983)

    def add(self, table: type[SQLModel], /, *, tie: bool = False, **values: Any) -> dict[str, Any]:
        """A row of ``table`` with a fresh id and times (unless given), kept for insertion."""
        values.setdefault("id", self.uuid())
        if "created_at" in table.model_fields and "created_at" not in values:
            values["created_at"] = self.moment(tie=tie)
        if "updated_at" in table.model_fields and "updated_at" not in values:
            values["updated_at"] = values["created_at"]
        row = table(**values).model_dump()
        self.tables[table].append(row)
        return row


def gid(type_name: str, row: dict[str, Any]) -> str:
    return encode_global_id(type_name, row["id"])
