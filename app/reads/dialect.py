"""How each database writes JSON, IDs, cursors, moments and money for the compiled read path.

Every expression here must produce exactly the text the resolvers produce in Python: the same
global IDs (``app.ids``), cursors (``app.pagination.Cursor``), ISO moments, money strings
(``app.services.stats.to_money``) and float spellings. PostgreSQL builds them in SQL; SQLite,
which has no base64 and spells floats its own way, calls a few deterministic Python functions
registered on each of its connections (:func:`register_sqlite_functions`).
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.ids import encode_global_id
from app.pagination import EPOCH, FIELD_CODES, MICROSECOND, encode_cursor
from app.services.stats import to_money


@dataclass(frozen=True, slots=True)
class Sql:
    """An SQL expression; ``json`` when its value is JSON text (an object, array or null)."""

    text: str
    json: bool = False


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Dialect:
    """The parts of the statement that differ between databases."""

    name: str
    fence: str
    """Ends a sub-select the database must compute once, not fold into where it is used."""

    def param(self, index: int) -> str:
        return f":p{index}"

    def obj(self, pairs: list[tuple[str, Sql]]) -> Sql:
        raise NotImplementedError

    def array(self, items: list[Sql]) -> Sql:
        raise NotImplementedError

    def agg(self, item: Sql, order: str) -> Sql:
        """The JSON array of ``item`` over the rows of a FROM clause, in ``order``."""
        raise NotImplementedError

    def first(self, array: Sql, last: bool = False) -> Sql:
        """The first (or last) element of a JSON array, as JSON."""
        raise NotImplementedError

    def gid(self, type_name: str, id_expr: str) -> Sql:
        raise NotImplementedError

    def cursor(self, field: str, value_expr: str, id_expr: str) -> Sql:
        raise NotImplementedError

    def moment(self, expr: str) -> Sql:
        raise NotImplementedError

    def money(self, expr: str) -> Sql:
        raise NotImplementedError

    def float(self, expr: str) -> Sql:
        raise NotImplementedError

    def boolean(self, expr: str) -> Sql:
        raise NotImplementedError

    def raw_json(self, expr: str) -> Sql:
        raise NotImplementedError

    def id_hex(self, expr: str) -> str:
        raise NotImplementedError

    def json_text(self, column: str, key: str) -> str:
        """The string at ``key`` of a JSON object column, as SQL text (NULL if absent)."""
        raise NotImplementedError

    def in_list(self, expr: str, index: int, kind: str) -> str:
        """``expr`` is one of a list parameter (``kind``: uuid or text)."""
        raise NotImplementedError

    def uuid_value(self, value: uuid.UUID) -> Any:
        raise NotImplementedError

    def uuid_list(self, values: list[uuid.UUID]) -> Any:
        raise NotImplementedError

    def text_list(self, values: list[str]) -> Any:
        raise NotImplementedError

    def moment_value(self, value: datetime) -> Any:
        raise NotImplementedError

    def ilike(self, expr: str, pattern: str) -> str:
        raise NotImplementedError

    def json_contains(self, column: str, value: str) -> str:
        raise NotImplementedError

    def embed(self, value: Sql) -> str:
        """``value`` as an argument of a JSON-building function (SQLite re-reads subqueries')."""
        return value.text

    def enum(self, expr: str, names: Mapping[str, str]) -> Sql:
        whens = " ".join(f"WHEN {quote(v)} THEN {quote(n)}" for v, n in names.items())
        return Sql(f"CASE {expr} {whens} END")


def _b64_prefix(type_name: str) -> tuple[str, str]:
    """``type_name + ":"`` split into a part whose base64 is constant and the rest."""
    prefix = f"{type_name}:"
    cut = len(prefix) - len(prefix) % 3
    head = base64.urlsafe_b64encode(prefix[:cut].encode()).decode()
    return head, prefix[cut:]


class Postgres(Dialect):
    name = "postgresql"
    fence = " OFFSET 0"

    def obj(self, pairs: list[tuple[str, Sql]]) -> Sql:
        args = ", ".join(f"{quote(key)}, {value.text}" for key, value in pairs)
        return Sql(f"json_build_object({args})", json=True)

    def array(self, items: list[Sql]) -> Sql:
        return Sql(f"json_build_array({', '.join(item.text for item in items)})", json=True)

    def agg(self, item: Sql, order: str) -> Sql:
        return Sql(f"COALESCE(json_agg({item.text} ORDER BY {order}), '[]'::json)", json=True)

    def first(self, array: Sql, last: bool = False) -> Sql:
        return Sql(f"({array.text} -> {-1 if last else 0})", json=True)

    def gid(self, type_name: str, id_expr: str) -> Sql:
        head, rest = _b64_prefix(type_name)
        body = f"{quote(rest)} || {self.id_hex(id_expr)}" if rest else self.id_hex(id_expr)
        return Sql(f"({quote(head)} || {_b64(body)})")

    def cursor(self, field: str, value_expr: str, id_expr: str) -> Sql:
        code = FIELD_CODES[field]
        value = value_expr if field == "name" else _micros(value_expr)
        return Sql(_b64(f"{quote(code)} || {self.id_hex(id_expr)} || {value}"))

    def moment(self, expr: str) -> Sql:
        utc = f"({expr} AT TIME ZONE 'UTC')"
        fraction = (
            f"CASE WHEN date_part('microseconds', {expr})::int % 1000000 = 0 THEN ''"
            f" ELSE to_char({utc}, '.US') END"
        )
        text = f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || {fraction} || '+00:00'"
        return Sql(f"CASE WHEN {expr} IS NULL THEN NULL ELSE {text} END")

    def money(self, expr: str) -> Sql:
        # The amount is computed once (it may be a subquery), then spelled as to_money does.
        return Sql(
            "(SELECT CASE WHEN scale(v) < 2 THEN round(v, 2)::text ELSE v::text END"
            f" FROM (SELECT trim_scale(round(COALESCE({expr}, 0), 6)) AS v{self.fence}) m)"
        )

    def float(self, expr: str) -> Sql:
        whole = f"({expr} = trunc({expr}) AND abs({expr}) < 1e15)"
        return Sql(
            f"(CASE WHEN {whole} THEN trunc({expr})::bigint::text || '.0'"
            f" ELSE {expr}::text END)::json",
            json=True,
        )

    def boolean(self, expr: str) -> Sql:
        return Sql(expr)

    def raw_json(self, expr: str) -> Sql:
        return Sql(f"{expr}::json", json=True)

    def id_hex(self, expr: str) -> str:
        return f"replace({expr}::text, '-', '')"

    def json_text(self, column: str, key: str) -> str:
        return f"({column} ->> {quote(key)})"

    def in_list(self, expr: str, index: int, kind: str) -> str:
        return f"{expr} = ANY(CAST({self.param(index)} AS {kind}[]))"

    def uuid_value(self, value: uuid.UUID) -> Any:
        return value

    def uuid_list(self, values: list[uuid.UUID]) -> Any:
        return values

    def text_list(self, values: list[str]) -> Any:
        return values

    def moment_value(self, value: datetime) -> Any:
        return value

    def ilike(self, expr: str, pattern: str) -> str:
        return f"{expr} ILIKE {pattern} ESCAPE '\\'"

    def json_contains(self, column: str, value: str) -> str:
        return f"({column} ? {value})"


def _b64(text_expr: str) -> str:
    return f"translate(encode(convert_to({text_expr}, 'UTF8'), 'base64'), E'+/=\\n', '-_')"


def _micros(expr: str) -> str:
    return f"(extract(epoch FROM {expr}) * 1000000)::bigint::text"


SQLITE_MOMENT_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


class Sqlite(Dialect):
    name = "sqlite"
    fence = " LIMIT -1 OFFSET 0"

    def obj(self, pairs: list[tuple[str, Sql]]) -> Sql:
        args = ", ".join(f"{quote(key)}, {_sqlite_value(value)}" for key, value in pairs)
        return Sql(f"json_object({args})", json=True)

    def array(self, items: list[Sql]) -> Sql:
        return Sql(f"json_array({', '.join(_sqlite_value(i) for i in items)})", json=True)

    def agg(self, item: Sql, order: str) -> Sql:
        # SQLite 3.40 has no ORDER BY inside aggregates: the rows arrive in the order of the
        # FROM clause's subquery, which the compiler sorts.
        return Sql(f"json_group_array({_sqlite_value(item)})", json=True)

    def first(self, array: Sql, last: bool = False) -> Sql:
        where = "'$[#-1]'" if last else "'$[0]'"
        return Sql(f"json_quote(json_extract({array.text}, {where}))", json=True)

    def gid(self, type_name: str, id_expr: str) -> Sql:
        return Sql(f"adstudio_gid({quote(type_name)}, {id_expr})")

    def cursor(self, field: str, value_expr: str, id_expr: str) -> Sql:
        return Sql(f"adstudio_cursor({quote(field)}, {value_expr}, {id_expr})")

    def moment(self, expr: str) -> Sql:
        return Sql(f"adstudio_moment({expr})")

    def money(self, expr: str) -> Sql:
        return Sql(f"adstudio_money({expr})")

    def float(self, expr: str) -> Sql:
        return Sql(f"json(adstudio_float({expr}))", json=True)

    def boolean(self, expr: str) -> Sql:
        return Sql(
            f"CASE WHEN {expr} IS NULL THEN NULL WHEN {expr} THEN json('true')"
            f" ELSE json('false') END",
            json=True,
        )

    def raw_json(self, expr: str) -> Sql:
        return Sql(f"json({expr})", json=True)

    def id_hex(self, expr: str) -> str:
        return expr

    def json_text(self, column: str, key: str) -> str:
        return f"json_extract({column}, {quote('$.' + key)})"

    def in_list(self, expr: str, index: int, kind: str) -> str:
        return f"{expr} IN (SELECT value FROM json_each({self.param(index)}))"

    def uuid_value(self, value: uuid.UUID) -> Any:
        return value.hex

    def uuid_list(self, values: list[uuid.UUID]) -> Any:
        return json.dumps([v.hex for v in values])

    def text_list(self, values: list[str]) -> Any:
        return json.dumps(values)

    def moment_value(self, value: datetime) -> Any:
        return value.astimezone(UTC).strftime(SQLITE_MOMENT_FORMAT)

    def ilike(self, expr: str, pattern: str) -> str:
        return f"lower({expr}) LIKE lower({pattern}) ESCAPE '\\'"

    def json_contains(self, column: str, value: str) -> str:
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"

    def embed(self, value: Sql) -> str:
        return _sqlite_value(value)


def _sqlite_value(value: Sql) -> str:
    return f"json({value.text})" if value.json else value.text


POSTGRES = Postgres()
SQLITE = Sqlite()


def dialect_named(name: str) -> Dialect:
    return POSTGRES if name == "postgresql" else SQLITE


# --- the Python side of SQLite's functions: the same code the resolvers use --------------


def _gid(type_name: str, id_hex: str | None) -> str | None:
    return None if id_hex is None else encode_global_id(type_name, uuid.UUID(hex=id_hex))


def _cursor(field: str, value: Any, id_hex: str) -> str:
    if field == "name":
        return encode_cursor(FIELD_CODES[field], id_hex, str(value))
    moment = _sqlite_moment(value)
    if moment is None:
        raise ValueError("a cursor needs a moment")
    return encode_cursor(FIELD_CODES[field], id_hex, str((moment - EPOCH) // MICROSECOND))


def _sqlite_moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _moment(value: str | None) -> str | None:
    moment = _sqlite_moment(value)
    return None if moment is None else moment.isoformat()


def _money(value: Any) -> str:
    return str(to_money(value))


def _float(value: float | None) -> str:
    return json.dumps(None if value is None else float(value))


def _average(spend: Any, count: int) -> str:
    return str(to_money(spend) / count) if count else "0"


def register_sqlite_functions(connection: Any) -> None:
    """Give one SQLite connection the functions the compiled statements call."""
    for name, arity, function in (
        ("adstudio_gid", 2, _gid),
        ("adstudio_cursor", 3, _cursor),
        ("adstudio_moment", 1, _moment),
        ("adstudio_money", 1, _money),
        ("adstudio_float", 1, _float),
        ("adstudio_average", 2, _average),
    ):
        connection.create_function(name, arity, function, deterministic=True)
