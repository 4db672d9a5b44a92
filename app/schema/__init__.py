"""The GraphQL schema: root types merged from the resolver modules, plus extensions."""

from __future__ import annotations

from functools import lru_cache

import strawberry
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.tools import merge_types

from app.resolvers.health import HealthQuery
from app.schema.extensions import SessionLifecycle

Query = merge_types("Query", (HealthQuery,))


@lru_cache(maxsize=1)
def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            SessionLifecycle,
        ],
    )


def export_schema() -> str:
    """The SDL committed as ``schema.graphql``."""
    return build_schema().as_str() + "\n"
