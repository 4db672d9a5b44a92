"""The ids of one batch (a DataLoader's keys) as statement parameters.

On PostgreSQL a batch is one ``uuid[]`` parameter, so a statement's text, and the generic
plan PostgreSQL keeps for it once prepared, is the same whatever the batch size. On SQLite it
is an ``IN`` list.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

POSTGRESQL = "postgresql"


class IdList:
    """One batch of ids in one statement; every use shares the same parameter."""

    def __init__(self, ids: Sequence[uuid.UUID], dialect: str) -> None:
        self.ids = list(dict.fromkeys(ids))
        self.dialect = dialect
        self._array = sa.bindparam(None, self.ids, type_=postgresql.ARRAY(sa.Uuid()))

    @property
    def is_array(self) -> bool:
        return self.dialect == POSTGRESQL

    def contains(self, column: Any) -> sa.ColumnElement[bool]:
        """``column`` is one of the ids: ``= ANY($1)`` on PostgreSQL, ``IN (?, ...)`` elsewhere."""
        if self.is_array:
            return column == sa.any_(self._array)  # type: ignore[no-any-return]
        return column.in_(self.ids)  # type: ignore[no-any-return]

    def rows(self, name: str = "batch") -> sa.TableValuedAlias:
        """The ids as a table ``name(id)``: ``unnest($1) AS name(id)`` (PostgreSQL only)."""
        assert self.is_array, "a table of ids is PostgreSQL's unnest"
        return sa.func.unnest(self._array).table_valued("id").render_derived(name=name)
