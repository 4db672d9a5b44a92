"""``json_array_contains(column, value)``: one SQL expression, compiled for each dialect."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class json_array_contains(FunctionElement[bool]):  # noqa: N801 (reads like an SQL function)
    """True when the JSON array in ``column`` holds the string ``value``."""

    type = sa.Boolean()
    inherit_cache = True
    name = "json_array_contains"

    def __init__(self, column: Any, value: str) -> None:
        super().__init__(column, sa.literal(value, sa.String()))


@compiles(json_array_contains, "postgresql")
def _postgresql(element: json_array_contains, compiler: Any, **kw: Any) -> str:
    column, value = list(element.clauses)
    return f"({compiler.process(column, **kw)} ? {compiler.process(value, **kw)})"


@compiles(json_array_contains)
def _sqlite(element: json_array_contains, compiler: Any, **kw: Any) -> str:
    column, value = (compiler.process(clause, **kw) for clause in element.clauses)
    # Both parts are compiled SQL (a column and a bound parameter), never user text.
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"  # noqa: S608
