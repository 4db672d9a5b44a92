"""Root fields as statements: ``node``, ``nodes``, ``viewer`` and ``generation``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLField
from graphql.execution.collect_fields import FieldDetails

from app.errors import AppError
from app.ids import decode_global_id, expect_global_id
from app.reads import catalog
from app.reads.dialect import Sql
from app.reads.objects import by_id
from app.reads.statement import NotCompilable, Request, Statement

MAX_NODES = 100


@dataclass(slots=True)
class RootStatement:
    """One root field's statement; ``sql`` None when its value (``value``) needs no database."""

    key: str
    statement: Statement
    sql: str | None
    required: bool = False  # a null answer means the resolvers' error: let them answer
    each_required: bool = False
    value: Any = None


def compile_root(
    request: Request, key: str, field: GraphQLField, details: list[FieldDetails]
) -> RootStatement:
    name = details[0].node.name.value
    st = Statement(request)
    args = request.arguments(field, details[0].node)
    if name == "node":
        return RootStatement(key, st, _select(_node(st, args["id"], details)), required=True)
    if name == "generation":
        pk = _checked(lambda: expect_global_id(args["id"], "Generation"))
        found = by_id(st, "Generation", st.bind_uuid(pk), details)
        return RootStatement(key, st, _select(found), required=True)
    if name == "nodes":
        ids = args["ids"]
        if len(ids) > MAX_NODES or not ids:
            raise NotCompilable("nodes")
        items = [_node(st, global_id, details) for global_id in ids]
        return RootStatement(key, st, _select(st.dialect.array(items)), each_required=True)
    if name == "viewer":
        if request.actor is None:
            return RootStatement(key, st, None)
        found = by_id(st, "User", st.bind_uuid(request.actor.user_id), details)
        return RootStatement(key, st, _select(found), required=True)
    raise NotCompilable(name)


def _node(st: Statement, global_id: str, details: list[FieldDetails]) -> Sql:
    decoded = _checked(lambda: decode_global_id(global_id))
    if decoded.type_name not in catalog.NODE_TYPES:
        raise NotCompilable(decoded.type_name)
    return by_id(st, decoded.type_name, st.bind_uuid(decoded.id), details)


def _checked(read: Any) -> Any:
    try:
        return read()
    except AppError as refused:
        raise NotCompilable(str(refused)) from None


def _select(value: Sql) -> str:
    return f"SELECT CAST({value.text} AS text)"
