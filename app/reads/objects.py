"""Objects and their fields as SQL that builds JSON, following ``app.reads.catalog``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from graphql import GraphQLObjectType, get_named_type
from graphql.execution.collect_fields import FieldDetails

from app.reads import catalog, pages
from app.reads.catalog import (
    Children,
    Column,
    Computed,
    Embedded,
    GlobalId,
    Link,
    Listing,
    MoneyOf,
    Spend,
    Stats,
    TypeSpec,
    ViewerRole,
)
from app.reads.dialect import Sql, quote
from app.reads.post import MARKER, Projection
from app.reads.statement import SLOT, NotCompilable, Slot, Statement
from app.reads.stats import money_object, stats_sql

MAX_FIELDS = 50
"""Selected fields per object: PostgreSQL's json_build_object takes at most 100 arguments."""
FALLBACK = "\x01adstudio:fallback"
"""Written where a required object is missing: the resolvers answer (with their error)."""


def row_object(st: Statement, type_name: str, alias: str, details: list[FieldDetails]) -> Sql:
    """The JSON object of the row ``alias`` as ``type_name`` (abstract: by its kind)."""
    spec = catalog.TYPES.get(type_name)
    if spec is None:
        raise NotCompilable(type_name)
    if spec.kinds:
        whens = [
            f"WHEN {quote(kind)} THEN {st.dialect.embed(row_object(st, concrete, alias, details))}"
            for kind, concrete in spec.kinds.items()
        ]
        return Sql(f"(CASE {alias}.kind {' '.join(whens)} END)", json=True)
    fields = st.subfields(st.object_type(type_name), details)
    if len(fields) > MAX_FIELDS:
        raise NotCompilable("too many fields for one JSON object")
    return st.dialect.obj([(key, field_sql(st, spec, alias, key, d)) for key, d in fields.items()])


def field_sql(
    st: Statement, spec: TypeSpec, alias: str, key: str, details: list[FieldDetails]
) -> Sql:
    name = details[0].node.name.value
    if name == "__typename":
        return Sql(quote(spec.name))
    found = spec.fields.get(name)
    if found is None:
        raise NotCompilable(f"{spec.name}.{name}")
    if isinstance(found, Column):
        return column_sql(st, found, alias)
    if isinstance(found, GlobalId):
        return st.dialect.gid(found.type_name, f"{alias}.id")
    return _composite(st, spec, found, alias, details)


def _composite(
    st: Statement, spec: TypeSpec, found: Any, alias: str, details: list[FieldDetails]
) -> Sql:
    handler = _HANDLERS.get(type(found))
    if handler is None:
        raise NotCompilable(spec.name)
    return handler(st, spec, found, alias, details)


def _money_field(
    st: Statement, spec: TypeSpec, found: MoneyOf, alias: str, details: list[FieldDetails]
) -> Sql:
    currency = f"{alias}.{found.currency}" if found.currency else "'USD'"
    return money_object(st, f"{alias}.{found.amount}", currency, details, found.nullable)


def _listing_field(
    st: Statement, spec: TypeSpec, found: Listing, alias: str, details: list[FieldDetails]
) -> Sql:
    args = st.request.arguments(_field_def(st, spec, details), details[0].node)
    return _maybe_slot(
        st,
        alias,
        lambda inner, parent: pages.connection(
            inner, found, f"{parent}.id", args, details, row_object
        ),
    )


def _children_field(
    st: Statement, spec: TypeSpec, found: Children, alias: str, details: list[FieldDetails]
) -> Sql:
    return _maybe_slot(st, alias, lambda inner, parent: children_sql(inner, found, parent, details))


def _spend_field(
    st: Statement, spec: TypeSpec, found: Spend, alias: str, details: list[FieldDetails]
) -> Sql:
    spent = (
        f"(SELECT sum(x.amount) FROM cost_entry x"
        f" WHERE x.job_id = {alias}.id AND x.kind = 'actual')"
    )
    return money_object(st, spent, f"{alias}.currency", details, nullable=False)


def _maybe_slot(st: Statement, alias: str, build: Callable[[Statement, str], Sql]) -> Sql:
    """``build`` inline, or (SQLite) as a slot answered for all parents at once."""
    if not st.splits:
        return build(st, alias)
    inner = st.child()
    ids = inner.bind(None)
    parent = inner.alias()
    value = build(inner, parent)
    source = f"(SELECT value AS id FROM json_each({ids})) {parent}"
    sql = f"SELECT {parent}.id, {inner.dialect.embed(value)} FROM {source}"
    inner.slots.append(Slot(inner, sql))
    nonce = st.bind(st.request.nonce)
    marker = f"{quote(SLOT)} || {nonce} || {quote(f'{len(inner.slots) - 1}:')}"
    return Sql(f"json_quote({marker} || {alias}.id)", json=True)


def _field_def(st: Statement, spec: TypeSpec, details: list[FieldDetails]) -> Any:
    return st.object_type(spec.name).fields[details[0].node.name.value]


def column_sql(st: Statement, column: Column, alias: str) -> Sql:
    d, expr = st.dialect, f"{alias}.{column.name}"
    if column.fmt == "float":
        return d.float(expr)
    if column.fmt == "bool":
        return d.boolean(expr)
    if column.fmt == "moment":
        return d.moment(expr)
    if column.fmt == "enum" and column.enum is not None:
        return d.enum(expr, column.enum)
    if column.fmt == "json":
        return d.raw_json(expr)
    return Sql(expr)


def visible(st: Statement, spec: TypeSpec, alias: str) -> str:
    """The tenancy filter on the row ``alias`` of ``spec`` (as ``app.services.access``)."""
    if spec.visibility == "self":
        return st.visible_workspaces(f"{alias}.id")
    if spec.visibility == "scene":
        inner = st.visible_workspaces("j.workspace_id")
        return f"EXISTS (SELECT 1 FROM job j WHERE j.id = {alias}.job_id AND {inner})"
    if spec.visibility == "user":
        me = st.bind_uuid(st.actor.user_id)
        shares = st.visible_workspaces("m.workspace_id")
        return (
            f"({alias}.id = {me} OR EXISTS (SELECT 1 FROM membership m"
            f" WHERE m.user_id = {alias}.id AND {shares}))"
        )
    return st.visible_workspaces(f"{alias}.workspace_id")


def by_id(st: Statement, type_name: str, id_sql: str, details: list[FieldDetails]) -> Sql:
    """The visible row of ``type_name`` whose id is ``id_sql``, as JSON (NULL if none)."""
    spec = catalog.TYPES[type_name]
    alias = st.alias()
    body = row_object(st, type_name, alias, details)
    where = f"{alias}.id = {id_sql} AND {visible(st, spec, alias)}"
    return Sql(f"(SELECT {body.text} FROM {spec.table} {alias} WHERE {where})", json=True)


def link_sql(st: Statement, link: Link, alias: str, details: list[FieldDetails]) -> Sql:
    target = f"{alias}.{link.column}"
    if link.json_key is not None:
        target = _json_uuid(st, st.dialect.json_text(target, link.json_key))
    found = by_id(st, link.target, target, details)
    if not link.required:
        return found
    return Sql(f"COALESCE({found.text}, {_fallback(st)})", json=True)


def _json_uuid(st: Statement, text_expr: str) -> str:
    if st.dialect.name == "postgresql":
        return f"CAST({text_expr} AS uuid)"
    return f"replace({text_expr}, '-', '')"


def _fallback(st: Statement) -> str:
    if st.dialect.name == "postgresql":
        return f"to_json({quote(FALLBACK)}::text)"
    return f"json_quote({quote(FALLBACK)})"


def children_sql(st: Statement, children: Children, alias: str, details: list[FieldDetails]) -> Sql:
    spec = catalog.TYPES[children.target]
    child = st.alias()
    order = ", ".join(f"{child}.{column}" for column in children.order)
    body = row_object(st, children.target, child, details)
    where = f"{child}.{children.parent} = {alias}.id AND {visible(st, spec, child)}"
    rows = f"SELECT * FROM {spec.table} {child} WHERE {where} ORDER BY {order}"
    return Sql(
        f"(SELECT {st.dialect.agg(body, order).text} FROM ({rows}) {child})",
        json=True,
    )


def viewer_role(st: Statement, alias: str) -> Sql:
    roles = {ws.hex: role.name for ws, role in st.actor.roles.items()}
    param = st.bind(json.dumps(roles, sort_keys=True), "jsonb")
    if st.dialect.name == "postgresql":
        return Sql(f"({param} ->> replace({alias}.id::text, '-', ''))")
    return Sql(f"json_extract({param}, '$.' || {alias}.id)")


def computed_sql(
    st: Statement, spec: TypeSpec, found: Computed, alias: str, details: list[FieldDetails]
) -> Sql:
    field_type = get_named_type(_field_def(st, spec, details).type)
    selection = None
    typename = None
    if isinstance(field_type, GraphQLObjectType):
        fields = st.subfields(field_type, details)
        selection = [(key, d[0].node.name.value) for key, d in fields.items()]
        typename = field_type.name
    index = st.project(Projection(found.finish, selection, typename))
    values = [_raw(st, spec, alias, column) for column in found.columns]
    return st.dialect.obj([(MARKER, Sql(str(index))), ("v", st.dialect.array(values))])


def _raw(st: Statement, spec: TypeSpec, alias: str, column: str) -> Sql:
    if column == "id":
        return Sql(st.dialect.id_hex(f"{alias}.id"))
    if column in ("brand_guidelines", "brief", "progress", "input"):
        return st.dialect.raw_json(f"{alias}.{column}")
    return Sql(f"{alias}.{column}")


_HANDLERS: dict[type[Any], Callable[..., Sql]] = {
    MoneyOf: _money_field,
    Link: lambda st, spec, found, alias, details: link_sql(st, found, alias, details),
    Listing: _listing_field,
    Children: _children_field,
    Stats: lambda st, spec, found, alias, details: stats_sql(st, found.kind, alias, details),
    Spend: _spend_field,
    ViewerRole: lambda st, spec, found, alias, details: viewer_role(st, alias),
    Embedded: lambda st, spec, found, alias, details: row_object(
        st, found.type_name, alias, details
    ),
    Computed: computed_sql,
}

__all__ = ["FALLBACK", "by_id", "row_object"]
