"""The compiled read path: a query's root fields answered by SQL that builds their JSON.

See ``docs/compiled-reads.md`` for the design and its limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.reads.dialect import register_sqlite_functions


@dataclass(slots=True)
class ReadStats:
    """Root fields answered by compiled statements, and those handed to the resolvers."""

    served: int = 0
    fallbacks: int = 0


def install(engine: AsyncEngine) -> None:
    """Prepare each new connection of ``engine`` for compiled statements.

    SQLite gets the functions they call. PostgreSQL gets ``jit = off``: a compiled statement
    is large, its estimated cost passes the JIT threshold, and compiling it to machine code
    takes a second where running it takes milliseconds.
    """
    sqlite = engine.dialect.name == "sqlite"

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _connected(dbapi_connection: Any, _record: Any) -> None:
        if sqlite:
            register_sqlite_functions(dbapi_connection)
            return
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET jit = off")
        finally:
            cursor.close()
