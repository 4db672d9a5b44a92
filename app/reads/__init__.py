"""The compiled read path: a query's root fields answered by SQL that builds their JSON.

See ``docs/compiled-reads.md`` for the design and its limits.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from app.reads.dialect import register_sqlite_functions

PLAN_CACHE_SIZE = 512


class Plans:
    """The most recently used compiled plans, at most ``size`` of them (per process)."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._size = size
        self._plans: OrderedDict[Hashable, object] = OrderedDict()

    def get(self, key: Hashable) -> object | None:
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
        return found

    def put(self, key: Hashable, plan: object) -> None:
        self._plans[key] = plan
        self._plans.move_to_end(key)
        while len(self._plans) > self._size:
            self._plans.popitem(last=False)

    def __len__(self) -> int:
        return len(self._plans)


@dataclass(slots=True)
class ReadStats:
    """Root fields answered by compiled statements, those handed to the resolvers, and the
    plan cache."""

    served: int = 0
    fallbacks: int = 0
    plans: Plans = field(default_factory=Plans)


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
