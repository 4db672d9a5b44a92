"""Keyset (cursor) pagination shared by every connection: page arguments, cursors and SQL.

A page is requested with Relay's ``first/after`` or ``last/before``. Rows are ordered by one
column plus the primary key as a tie-breaker; cursors carry both values, so pages stay stable
while rows are inserted.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.errors import BadUserInputError
from app.id_lists import IdList

T = TypeVar("T")
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20
MAX_CURSOR_LENGTH = 1024


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
FIELD_CODES = {"created_at": "c", "updated_at": "u", "name": "n"}
"""One letter per ordering column in a cursor (``Cursor.encode``)."""
_FIELDS_BY_CODE = {code: name for name, code in FIELD_CODES.items()}
_TIME_FIELDS = frozenset({"created_at", "updated_at"})


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a row sits in an ordering: the ordering column's value and the row's id.

    Encoded as base64url (no padding) of ``code + id-hex + value``: the column's one-letter
    code, the 32 hex digits of the id, then the value (a moment as integer microseconds since
    the epoch, a name as itself). The format is cheap to build in SQL, so the compiled read
    path writes the very same cursors in the database (``app.reads``). Cursors of the earlier
    format (base64url of a JSON array) are still read.
    """

    field: str
    value: Any
    id: uuid.UUID

    def encode(self) -> str:
        return encode_cursor(FIELD_CODES[self.field], self.id.hex, self._value_text())

    def _value_text(self) -> str:
        value = self.value
        if self.field in _TIME_FIELDS and isinstance(value, str):
            value = datetime.fromisoformat(value)  # a moment given as ISO text
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)
            return str((aware - EPOCH) // MICROSECOND)
        return str(value)

    @classmethod
    def decode(cls, text: str, *, argument: str) -> Cursor:
        try:
            if len(text) > MAX_CURSOR_LENGTH:
                raise ValueError("too long")
            padded = text + "=" * (-len(text) % 4)
            raw = base64.urlsafe_b64decode(padded.encode()).decode()
            if "\x00" in raw:
                raise ValueError("not a cursor")
            return _legacy_cursor(raw) if raw.startswith("[") else _cursor(raw)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, RecursionError):
            raise BadUserInputError(
                "Invalid cursor.", fields={argument: "is not a valid cursor"}
            ) from None


def encode_cursor(code: str, id_hex: str, value: str) -> str:
    raw = f"{code}{id_hex}{value}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _cursor(raw: str) -> Cursor:
    field = _FIELDS_BY_CODE[raw[0]] if raw else ""
    if not field or len(raw) < 33:
        raise ValueError("not a cursor")
    row_id, text = uuid.UUID(hex=raw[1:33]), raw[33:]
    if field not in _TIME_FIELDS:
        return Cursor(field, text, row_id)
    if not text.isascii() or not text.lstrip("-").isdigit() or len(text) > 20:
        raise ValueError("not a moment")
    return Cursor(field, EPOCH + int(text) * MICROSECOND, row_id)


def _legacy_cursor(raw: str) -> Cursor:
    field, value, raw_id = json.loads(raw)
    if not isinstance(field, str) or not isinstance(value, str | int | float | None):
        raise TypeError("not a cursor")
    return Cursor(field, value, uuid.UUID(hex=raw_id))


@dataclass(frozen=True, slots=True)
class PageArgs:
    """A validated page request; hashable so it can be part of a DataLoader key."""

    limit: int
    backward: bool
    cursor: Cursor | None
    order_field: str
    direction: Direction
    cursor_argument: str | None = None

    @classmethod
    def build(
        cls,
        *,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        order_field: str,
        direction: Direction,
    ) -> PageArgs:
        if first is not None and last is not None:
            raise BadUserInputError(
                "Use either first or last, not both.", fields={"last": "cannot be used with first"}
            )
        backward = last is not None or (before is not None and first is None)
        size = last if backward else first
        argument = "last" if backward else "first"
        if size is None:
            size = DEFAULT_PAGE_SIZE
        if size < 0 or size > MAX_PAGE_SIZE:
            raise BadUserInputError(
                f"{argument} must be between 0 and {MAX_PAGE_SIZE}.",
                fields={argument: f"must be between 0 and {MAX_PAGE_SIZE}"},
            )
        cursor_argument = "before" if backward else "after"
        raw_cursor = before if backward else after
        cursor = Cursor.decode(raw_cursor, argument=cursor_argument) if raw_cursor else None
        if cursor is not None and cursor.field != order_field:
            raise BadUserInputError(
                "The cursor belongs to a different ordering.",
                fields={cursor_argument: "was made for a different orderBy"},
            )
        return cls(size, backward, cursor, order_field, direction, cursor_argument)

    @property
    def scan_direction(self) -> Direction:
        """The direction rows are read in SQL (reversed for backward pages)."""
        if not self.backward:
            return self.direction
        return Direction.ASC if self.direction is Direction.DESC else Direction.DESC


def order_clauses(column: Any, id_column: Any, direction: Direction) -> list[Any]:
    if direction is Direction.DESC:
        return [column.desc(), id_column.desc()]
    return [column.asc(), id_column.asc()]


def keyset_condition(column: Any, id_column: Any, args: PageArgs) -> Any | None:
    """Rows strictly past the cursor in the scan direction, or None without a cursor."""
    if args.cursor is None:
        return None
    value = _cursor_value(column, args)
    pair = sa.tuple_(column, id_column)
    bound = sa.tuple_(sa.literal(value, column.type), sa.literal(args.cursor.id, id_column.type))
    return pair < bound if args.scan_direction is Direction.DESC else pair > bound


def _cursor_value(column: Any, args: PageArgs) -> Any:
    assert args.cursor is not None
    value = args.cursor.value
    python_type = _python_type(column)
    try:
        if python_type is datetime and isinstance(value, str | datetime):
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
            aware = getattr(column.type, "timezone", False)
            if aware and moment.tzinfo is None:
                return moment.replace(tzinfo=UTC)
            return moment if aware else moment.replace(tzinfo=None)
        if python_type is datetime:
            raise TypeError("not a moment")
        if python_type is not None and value is not None and not isinstance(value, python_type):
            return python_type(value)
    except (TypeError, ValueError):
        raise BadUserInputError(
            "Invalid cursor.", fields={args.cursor_argument or "after": "is not a valid cursor"}
        ) from None
    return value


def _python_type(column: Any) -> type | None:
    try:
        return column.type.python_type  # type: ignore[no-any-return]
    except NotImplementedError:
        return None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows in display order, with what Relay's PageInfo needs."""

    rows: list[T]
    has_next_page: bool
    has_previous_page: bool


def make_page(rows: list[T], args: PageArgs) -> Page[T]:
    """Trim the look-ahead row and restore display order for backward pages."""
    has_more = len(rows) > args.limit
    rows = rows[: args.limit]
    if args.backward:
        rows.reverse()
        return Page(rows, has_next_page=args.cursor is not None, has_previous_page=has_more)
    return Page(rows, has_next_page=has_more, has_previous_page=args.cursor is not None)


def page_statement(
    model: type[Any],
    parent_column: Any,
    parents: IdList,
    args: PageArgs,
    order_column: Any,
    where: list[Any],
) -> sa.Select[Any]:
    """One statement reading at most ``args.limit + 1`` rows for each parent, in scan order
    within each parent: a LATERAL top-N per parent on PostgreSQL, a correlated top-N on
    SQLite (3-5 times faster there than the window function over all the parents' rows)."""
    if parents.is_array:
        return _lateral_page(model, parent_column, parents, args, order_column, where)
    return _correlated_page(model, parent_column, parents, args, order_column, where)


def _lateral_page(
    model: type[Any],
    parent_column: Any,
    parents: IdList,
    args: PageArgs,
    order_column: Any,
    where: list[Any],
) -> sa.Select[Any]:
    """``unnest(ids) p(id) CROSS JOIN LATERAL (... WHERE parent = p.id ... LIMIT n + 1)``:
    each parent's rows are read from the ``(parent, order, id)`` index, and only as many as
    the page needs."""
    batch = parents.rows("parent")
    conditions = [parent_column == batch.c.id, *where]
    keyset = keyset_condition(order_column, model.id, args)
    if keyset is not None:
        conditions.append(keyset)
    ordering = order_clauses(order_column, model.id, args.scan_direction)
    top = sa.select(model).where(*conditions).order_by(*ordering).limit(args.limit + 1)
    inner = top.lateral("page")
    row = aliased(model, inner)
    scan = order_clauses(inner.c[order_column.key], inner.c.id, args.scan_direction)
    return (
        sa.select(row)
        .select_from(batch)
        .join(inner, sa.true())
        .order_by(inner.c[parent_column.key], *scan)
    )


def _top_rows(
    model: type[Any], parent_value: Any, args: PageArgs, order_column: Any, where: list[Any]
) -> sa.Select[Any]:
    """The first ``args.limit + 1`` rows of one parent past the cursor, in scan order."""
    conditions = [parent_value, *where]
    keyset = keyset_condition(order_column, model.id, args)
    if keyset is not None:
        conditions.append(keyset)
    ordering = order_clauses(order_column, model.id, args.scan_direction)
    return sa.select(model.id).where(*conditions).order_by(*ordering).limit(args.limit + 1)


def _correlated_page(
    model: type[Any],
    parent_column: Any,
    parents: IdList,
    args: PageArgs,
    order_column: Any,
    where: list[Any],
) -> sa.Select[Any]:
    """``FROM parent JOIN t ON t.id IN (SELECT id FROM t WHERE t.parent = parent.id ...
    LIMIT n + 1)``: each parent's rows read from the ``(parent, order, id)`` index."""
    owner = next(iter(parent_column.foreign_keys)).column.table
    top = _top_rows(model, parent_column == owner.c.id, args, order_column, where)
    row = aliased(model)
    row_parent = getattr(row, parent_column.key)
    scan = order_clauses(getattr(row, order_column.key), row.id, args.scan_direction)
    return (
        sa.select(row)
        .select_from(owner)
        .join(row, row.id.in_(top.scalar_subquery()))
        .where(parents.contains(owner.c.id))
        .order_by(row_parent, *scan)
    )


def count_statement(parent_column: Any, parents: IdList, where: list[Any]) -> sa.Select[Any]:
    """One statement counting the rows of each parent (parents without rows are left out)."""
    return (
        sa.select(parent_column, sa.func.count())
        .where(parents.contains(parent_column), *where)
        .group_by(parent_column)
    )
