"""Reading PostgreSQL's generic plans of the statements the app sends.

A prepared statement runs a generic plan (one made without looking at the parameters' values)
once PostgreSQL judges it no worse than the custom ones; ``force_generic_plan`` makes that
plan now. Since its values do not matter, the statement is explained with NULL for every
parameter, and needs no values from the caller.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from tests import databases

PLACEHOLDER = re.compile(r"\$(\d+)")
INDEX_SCANS = frozenset({"Index Scan", "Index Only Scan", "Bitmap Index Scan"})
PROBE = "plan_probe"


def require_postgres() -> None:
    """Skip without PostgreSQL, except in CI, where these checks must run."""
    if databases.postgres_admin_url() is not None:
        return
    message = f"{databases.POSTGRES_ENV} is not set"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; the plan checks run in CI")
    pytest.skip(message)


async def plan_of(connection: AsyncConnection, sql: str) -> dict[str, Any]:
    """The generic plan of ``sql`` (PostgreSQL text with ``$n`` parameters), as EXPLAIN's
    JSON ``Plan`` node."""
    count = max((int(n) for n in PLACEHOLDER.findall(sql)), default=0)
    arguments = f"({', '.join(['NULL'] * count)})" if count else ""
    await connection.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
    await connection.exec_driver_sql(f"PREPARE {PROBE} AS {sql}")
    try:
        result = await connection.exec_driver_sql(
            f"EXPLAIN (FORMAT JSON) EXECUTE {PROBE}{arguments}"
        )
        explained = result.scalar_one()
    finally:
        await connection.exec_driver_sql(f"DEALLOCATE {PROBE}")
        await connection.exec_driver_sql("RESET plan_cache_mode")
    document = json.loads(explained) if isinstance(explained, str) else explained
    return document[0]["Plan"]  # type: ignore[no-any-return]


def postgres_text(statement: sa.ClauseElement, connection: AsyncConnection) -> str:
    """``statement`` as the asyncpg dialect sends it (``$n`` parameters, lists expanded)."""
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    return str(compiled)


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every node of a plan, depth first, InitPlans and SubPlans included."""
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def scanned_indexes(plan: dict[str, Any]) -> set[str]:
    """The indexes the plan reads (index, index-only and bitmap index scans)."""
    return {node["Index Name"] for node in nodes(plan) if node["Node Type"] in INDEX_SCANS}


def seq_scans(plan: dict[str, Any]) -> set[str]:
    """The tables the plan reads in full."""
    return {node["Relation Name"] for node in nodes(plan) if node["Node Type"] == "Seq Scan"}


@dataclass
class Captured:
    """The SELECT statements sent while capturing, as their driver-level text."""

    statements: list[str] = field(default_factory=list)

    def reading(self, table: str) -> list[str]:
        """The statements whose text names ``table`` after FROM or JOIN."""
        pattern = re.compile(rf"\b(FROM|JOIN)\s+{re.escape(table)}\b")
        return [sql for sql in self.statements if pattern.search(sql)]


@contextmanager
def captured(engines: list[Engine]) -> Iterator[Captured]:
    """Record every SELECT the ``engines`` send inside the block."""
    seen = Captured()

    def record(*args: Any) -> None:
        statement = str(args[2])
        if statement.lstrip().upper().startswith("SELECT"):
            seen.statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


async def index_columns(connection: AsyncConnection) -> dict[str, tuple[str, ...]]:
    """Every index of the current schema, by name, with its key columns in order."""
    result = await connection.exec_driver_sql(
        "SELECT i.relname, array_agg(a.attname ORDER BY k.n)"
        " FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_namespace s ON s.oid = i.relnamespace AND s.nspname = current_schema()"
        " CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)"
        " JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum"
        " GROUP BY i.relname"
    )
    rows: list[Any] = list(result)
    return {str(name): tuple(columns) for name, columns in rows}
