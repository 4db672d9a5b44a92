"""Relay connections as SQL: an index-ordered top-N page per parent, counted and cursored.

Each connection is one scalar subquery evaluated per parent row, which PostgreSQL runs as a
top-N index scan on ``(parent, order column, id)`` (a LATERAL join in effect): only
``first``/``last`` rows (and one more, when ``hasNextPage``/``hasPreviousPage`` asks) are read.
Every argument is checked exactly as the resolvers check it, before any SQL runs; an argument
they would refuse makes the root field theirs, so the error is theirs too.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from graphql.execution.collect_fields import FieldDetails
from strawberry.types.unset import UNSET

from app.errors import AppError
from app.models import Asset, Campaign, Client, Generation, Job, Membership
from app.pagination import Direction, PageArgs
from app.reads import catalog
from app.reads.catalog import Listing
from app.reads.dialect import Sql, quote
from app.reads.statement import NotCompilable, Statement
from app.services.listing import (
    AssetFilter,
    CampaignFilter,
    ClientFilter,
    Filter,
    GenerationFilter,
    JobFilter,
    NoFilter,
    OrderField,
    check_order,
    escape_like,
    page_args,
)

_MODELS: dict[str, type[Any]] = {
    "Client": Client,
    "Campaign": Campaign,
    "Asset": Asset,
    "Generation": Generation,
    "Job": Job,
    "Membership": Membership,
}
RowObject = Callable[[Statement, str, str, list[FieldDetails]], Sql]
_EMPTY: dict[str | None, Filter] = {
    "client": ClientFilter(),
    "campaign": CampaignFilter(),
    "asset": AssetFilter(),
    "generation": GenerationFilter(),
    "job": JobFilter(),
    None: NoFilter(),
}


def connection(
    st: Statement,
    listing: Listing,
    parent: str,
    args: dict[str, Any],
    details: list[FieldDetails],
    row_object: RowObject,
) -> Sql:
    page, list_filter = _arguments(listing, args)
    spec = catalog.TYPES[listing.target]
    n = st.alias()[1:]
    c = f"c{n}"
    conditions = [f"{c}.{listing.parent} = {parent}", *filter_sql(st, list_filter, c)]
    built = _Page(st, spec.table, page, conditions, n)
    fields = st.subfields(st.object_type(f"{listing.target}Connection"), details)
    pairs: list[tuple[str, Sql]] = []
    for key, field_details in fields.items():
        name = field_details[0].node.name.value
        if name == "__typename":
            pairs.append((key, Sql(quote(f"{listing.target}Connection"))))
        elif name == "totalCount":
            pairs.append((key, built.total()))
        elif name == "pageInfo":
            pairs.append((key, built.page_info(field_details)))
        elif name == "edges":
            pairs.append((key, built.edges(listing.target, field_details, row_object)))
        else:
            pairs.append((key, built.nodes(listing.target, field_details, row_object)))
    return built.wrap(st.dialect.obj(pairs))


def _arguments(listing: Listing, args: dict[str, Any]) -> tuple[PageArgs, Filter]:
    order_by = _given(args.get("order_by"))
    raw_filter = _given(args.get("filter"))
    try:
        page = page_args(
            first=_given(args.get("first")),
            after=_given(args.get("after")),
            last=_given(args.get("last")),
            before=_given(args.get("before")),
            order=order_by.field if order_by else OrderField.CREATED_AT,
            direction=order_by.direction if order_by else listing.direction,
        )
        check_order(_MODELS[listing.target], order_by.field if order_by else OrderField.CREATED_AT)
        list_filter = raw_filter.to_filter() if raw_filter is not None else _EMPTY[listing.filter]
    except AppError as refused:
        raise NotCompilable(str(refused)) from None
    return page, list_filter


def _given(value: Any) -> Any:
    return None if value is UNSET else value


def filter_sql(st: Statement, list_filter: Filter, c: str) -> list[str]:
    """The filter's conditions on the rows ``c`` (as ``app.services.listing``'s)."""
    d = st.dialect
    conditions: list[str] = []
    for name in ("client_id", "campaign_id", "kind", "source", "status", "model"):
        value = getattr(list_filter, name, None)
        if value is None:
            continue
        bound = st.bind_uuid(value) if isinstance(value, uuid.UUID) else st.bind(str(value))
        conditions.append(f"{c}.{name} = {bound}")
    search = getattr(list_filter, "search", None)
    if search:
        conditions.append(d.ilike(f"{c}.name", st.bind(f"%{escape_like(search)}%")))
    statuses = getattr(list_filter, "statuses", ())
    if statuses:
        st.params.append(d.text_list([str(s) for s in statuses]))
        conditions.append(d.in_list(f"{c}.status", len(st.params), "text"))
    tag = getattr(list_filter, "tag", None)
    if tag:
        conditions.append(d.json_contains(f"{c}.tags", st.bind(tag)))
    return conditions


class _Page:
    """The rows of one page (``pg``), with what pageInfo and totalCount need."""

    def __init__(
        self, st: Statement, table: str, page: PageArgs, conditions: list[str], n: str
    ) -> None:
        self.st, self.table, self.args = st, table, page
        self.conditions = conditions
        self.c, self.pg = f"c{n}", f"pg{n}"
        self.column = f"{self.c}.{page.order_field}"
        scan = "DESC" if page.scan_direction is Direction.DESC else "ASC"
        shown = "DESC" if page.direction is Direction.DESC else "ASC"
        self.scan = f"{self.column} {scan}, {self.c}.id {scan}"
        self.shown = f"{page.order_field} {shown}, id {shown}"
        self.display = f"{self.pg}.{page.order_field} {shown}, {self.pg}.id {shown}"
        self.keyset = self._keyset(scan)
        self.aggregates: list[str] = []
        self.cursors = False

    def _keyset(self, scan: str) -> str:
        cursor = self.args.cursor
        if cursor is None:
            return ""
        st, value = self.st, cursor.value
        if self.args.order_field == "name":
            if not isinstance(value, str):
                raise NotCompilable("cursor value")
            bound = st.bind(value, "text")
        else:
            moment = value if isinstance(value, datetime) else _moment(value)
            bound = st.bind(st.dialect.moment_value(moment), "timestamptz")
        op = "<" if scan == "DESC" else ">"
        return f" AND ({self.column}, {self.c}.id) {op} ({bound}, {st.bind_uuid(cursor.id)})"

    def rows(self, limit: int, columns: str = "*") -> str:
        where = " AND ".join(self.conditions)
        return (
            f"SELECT {columns} FROM {self.table} {self.c} WHERE {where}{self.keyset}"
            f" ORDER BY {self.scan} LIMIT {limit}"
        )

    def _aggregate(self, item: Sql) -> Sql:
        """An aggregate over the page's rows, in display order (the page is the FROM)."""
        aggregate = self.st.dialect.agg(item, self.display)
        self.aggregates.append(aggregate.text)
        return aggregate

    def cursor(self) -> Sql:
        """The row's cursor, computed once per row in the page's own subquery."""
        self.cursors = True
        return Sql(f"{self.pg}._cursor")

    def edges(self, target: str, details: list[FieldDetails], row_object: RowObject) -> Sql:
        fields = self.st.subfields(self.st.object_type(f"{target}Edge"), details)
        pairs: list[tuple[str, Sql]] = []
        for key, field_details in fields.items():
            name = field_details[0].node.name.value
            if name == "cursor":
                pairs.append((key, self.cursor()))
            elif name == "node":
                pairs.append((key, row_object(self.st, target, self.pg, field_details)))
            else:
                pairs.append((key, Sql(quote(f"{target}Edge"))))
        return self._aggregate(self.st.dialect.obj(pairs))

    def nodes(self, target: str, details: list[FieldDetails], row_object: RowObject) -> Sql:
        return self._aggregate(row_object(self.st, target, self.pg, details))

    def page_info(self, details: list[FieldDetails]) -> Sql:
        fields = self.st.subfields(self.st.object_type("PageInfo"), details)
        d = self.st.dialect
        pairs: list[tuple[str, Sql]] = []
        cursors: Sql | None = None
        for key, field_details in fields.items():
            name = field_details[0].node.name.value
            if name in ("startCursor", "endCursor"):
                cursors = cursors or self._aggregate(self.cursor())
                pairs.append((key, d.first(cursors, last=name == "endCursor")))
            elif name in ("hasNextPage", "hasPreviousPage"):
                pairs.append((key, self._has(name)))
            else:
                pairs.append((key, Sql("'PageInfo'")))
        return d.obj(pairs)

    def _has(self, name: str) -> Sql:
        forward_side = (name == "hasNextPage") != self.args.backward
        if not forward_side:
            return self.st.dialect.boolean("true" if self.args.cursor else "false", nullable=False)
        limit = self.args.limit
        more = f"((SELECT count(*) FROM ({self.rows(limit + 1, '1')}) x) > {limit})"
        return self.st.dialect.boolean(more, nullable=False)

    def total(self) -> Sql:
        where = " AND ".join(self.conditions)
        return Sql(f"(SELECT count(*) FROM {self.table} {self.c} WHERE {where})")

    def wrap(self, body: Sql) -> Sql:
        if not self.aggregates:
            return body
        columns = "*"
        if self.cursors:
            field = self.args.order_field
            cursor = self.st.dialect.cursor(field, f"{self.c}.{field}", f"{self.c}.id")
            columns = f"*, {cursor.text} AS _cursor"
        page = self.rows(self.args.limit, columns)
        if self.st.dialect.name == "sqlite":
            page = f"SELECT * FROM ({page}) ORDER BY {self.shown}"
        return Sql(f"(SELECT {body.text} FROM ({page}) {self.pg})", json=True)


def _moment(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        raise NotCompilable("cursor value") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
