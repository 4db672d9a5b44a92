"""The compiled read path: a query's root fields answered by SQL that builds their JSON.

See ``docs/compiled-reads.md`` for the design and its limits.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
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
        if key not in self._plans:
            self._added(key)
        self._plans[key] = plan
        self._plans.move_to_end(key)
        while len(self._plans) > self._size:
            self._removed(self._plans.popitem(last=False)[0])

    def _added(self, key: Hashable) -> None:
        pass

    def _removed(self, key: Hashable) -> None:
        pass

    def __len__(self) -> int:
        return len(self._plans)


class ReadyPlans(Plans):
    """Plans that answered every root field, keyed as :class:`Plans`; it also knows which
    documents (query and operation name) have one, so a request for any other document is
    sent on before its credentials are even read."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        super().__init__(size)
        self._documents: Counter[Hashable] = Counter()

    def knows(self, query: str, operation_name: str | None) -> bool:
        return (query, operation_name) in self._documents

    def _added(self, key: Hashable) -> None:
        self._documents[_document(key)] += 1

    def _removed(self, key: Hashable) -> None:
        document = _document(key)
        self._documents[document] -= 1
        if self._documents[document] <= 0:
            del self._documents[document]


def _document(key: Hashable) -> Hashable:
    return key[:2] if isinstance(key, tuple) else key


@dataclass(slots=True)
class ReadStats:
    """Root fields answered by compiled statements, those handed to the resolvers, the plan
    cache and the plans ready to answer a request whole."""

    served: int = 0
    fallbacks: int = 0
    plans: Plans = field(default_factory=Plans)
    ready: ReadyPlans = field(default_factory=ReadyPlans)
    lane: int = 0  # requests answered from a ready plan, before any GraphQL work
    lane_failures: int = 0  # ready plans whose driver failed (those went the whole way)
    sent: list[Callable[[str], None]] = field(default_factory=list)
    """Called with each statement sent to the driver directly (SQLAlchemy's events do not
    see those): whoever counts statements listens here too."""


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
