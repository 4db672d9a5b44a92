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
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.pagination import EPOCH, FIELD_CODES, MICROSECOND
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

    def boolean(self, expr: str, nullable: bool = True) -> Sql:
        """``nullable`` False: ``expr`` is never NULL (a comparison of counts, a literal)."""
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

    def boolean(self, expr: str, nullable: bool = True) -> Sql:
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

    # Moments are stored as SQLAlchemy writes them, ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC):
    # those are spelled in SQL; anything else goes through Python, as the resolvers read it.

    def gid(self, type_name: str, id_expr: str) -> Sql:
        return Sql(f"adstudio_b64({quote(type_name + ':')} || {id_expr})")

    def cursor(self, field: str, value_expr: str, id_expr: str) -> Sql:
        code = quote(FIELD_CODES[field])
        if field == "name":
            return Sql(f"adstudio_b64({code} || {id_expr} || {value_expr})")
        micros = (
            f"CASE WHEN {_stored(value_expr)} THEN CAST(strftime('%s', substr({value_expr}, 1, 19))"
            " AS INTEGER)"
            f" * 1000000 + CAST(substr({value_expr}, 21) AS INTEGER)"
            f" ELSE adstudio_micros({value_expr}) END"
        )
        return Sql(f"adstudio_b64({code} || {id_expr} || ({micros}))")

    def moment(self, expr: str) -> Sql:
        seconds = f"substr({expr}, 12, 8)"
        time = f"CASE WHEN substr({expr}, 21) = '000000' THEN {seconds} ELSE substr({expr}, 12) END"
        return Sql(
            f"CASE WHEN {_stored(expr)} THEN substr({expr}, 1, 10) || 'T' || {time} || '+00:00'"
            f" ELSE adstudio_moment({expr}) END"
        )

    def money(self, expr: str) -> Sql:
        return Sql(f"adstudio_money({expr})")

    def float(self, expr: str) -> Sql:
        return Sql(f"json(adstudio_float({expr}))", json=True)

    def boolean(self, expr: str, nullable: bool = True) -> Sql:
        null = f"WHEN {expr} IS NULL THEN NULL " if nullable else ""
        return Sql(f"CASE {null}WHEN {expr} THEN json('true') ELSE json('false') END", json=True)

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


def _stored(expr: str) -> str:
    """``expr`` is a moment as SQLAlchemy stores it on SQLite (``YYYY-MM-DD HH:MM:SS.ffffff``)."""
    return f"(length({expr}) = 26 AND substr({expr}, 11, 1) = ' ' AND substr({expr}, 20, 1) = '.')"


def _sqlite_value(value: Sql) -> str:
    """``value`` as an argument of a JSON function: JSON text keeps its JSON subtype through
    the shapes the statements use (checked once, :func:`_subtypes_kept`); where this SQLite
    loses it, the text is parsed again with ``json()``."""
    return f"json({value.text})" if value.json and not SUBTYPES_KEPT else value.text


_SUBTYPE_PROBE = """
SELECT json_object(
  'list', (SELECT json_group_array(json_object('v', p.v)) FROM (SELECT * FROM (
    SELECT 1 AS v UNION ALL SELECT 2) ORDER BY v) p),
  'once', (SELECT json_object('n', s.n) FROM (SELECT (SELECT count(*) FROM (
    SELECT 1 UNION ALL SELECT 2)) AS n LIMIT -1 OFFSET 0) s),
  'case', CASE WHEN 1 THEN json_object('k', 1) END,
  'coalesce', COALESCE((SELECT json_object('k', 2) WHERE 1), json_quote('none')),
  'flag', CASE WHEN 1 THEN json('true') ELSE json('false') END)
"""
_SUBTYPE_EXPECTED = (
    '{"list":[{"v":1},{"v":2}],"once":{"n":2},"case":{"k":1},"coalesce":{"k":2},"flag":true}'
)


def _subtypes_kept() -> bool:
    """Whether this SQLite keeps JSON's subtype through scalar subqueries, CASE and
    COALESCE (3.40 does): then nested JSON is embedded as it is, never parsed again."""
    connection = sqlite3.connect(":memory:")
    try:
        return bool(connection.execute(_SUBTYPE_PROBE).fetchone()[0] == _SUBTYPE_EXPECTED)
    finally:
        connection.close()


SUBTYPES_KEPT = _subtypes_kept()


POSTGRES = Postgres()
SQLITE = Sqlite()


def dialect_named(name: str) -> Dialect:
    return POSTGRES if name == "postgresql" else SQLITE


# --- the Python side of SQLite's functions: the same code the resolvers use --------------


def _sqlite_b64(text: str | None) -> str | None:
    """base64url without padding, as global IDs and cursors are spelled."""
    return None if text is None else base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()


def _sqlite_micros(value: str | None) -> int:
    moment = _sqlite_moment(value)
    if moment is None:
        raise ValueError("a cursor needs a moment")
    return (moment - EPOCH) // MICROSECOND


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
        ("adstudio_b64", 1, _sqlite_b64),
        ("adstudio_micros", 1, _sqlite_micros),
        ("adstudio_moment", 1, _moment),
        ("adstudio_money", 1, _money),
        ("adstudio_float", 1, _float),
        ("adstudio_average", 2, _average),
    ):
        connection.create_function(name, arity, function, deterministic=True)
