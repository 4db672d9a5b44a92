"""SQLite spells IDs, cursors and moments in SQL exactly as the resolvers do in Python.

The compiled statements build these strings inside SQLite (with one small Python function
for base64); the resolvers build them with ``app.ids``, ``app.pagination`` and
``datetime.isoformat``. Any moment, any id, any name, and any way a moment may be stored
(SQLAlchemy's own format, or another one some other writer left) must give the same text.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ids import encode_global_id
from app.pagination import EPOCH, FIELD_CODES, MICROSECOND, encode_cursor
from app.reads import dialect
from app.reads.dialect import SQLITE, Sql, register_sqlite_functions

EARLIEST = datetime(1971, 1, 1)  # noqa: DTZ001 (Hypothesis bounds are naive)
LATEST = datetime(2200, 1, 1)  # noqa: DTZ001
MOMENTS = st.datetimes(EARLIEST, LATEST, timezones=st.just(UTC)) | st.datetimes(
    EARLIEST, LATEST
).map(lambda moment: moment.replace(microsecond=0, tzinfo=UTC))  # whole seconds: no fraction


@pytest.fixture(scope="module")
def sqlite() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    register_sqlite_functions(connection)
    yield connection
    connection.close()


def spelled(connection: sqlite3.Connection, sql: str, *params: object) -> object:
    return connection.execute(f"SELECT {sql}", params).fetchone()[0]


def stored(moment: datetime) -> str:
    """How SQLAlchemy writes a UTC moment into SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@settings(max_examples=300, deadline=None)
@given(moment=MOMENTS)
def test_moments_and_their_cursors(sqlite: sqlite3.Connection, moment: datetime) -> None:
    row_id = uuid.uuid4().hex
    text = stored(moment)
    assert spelled(sqlite, SQLITE.moment("?1").text, text) == moment.isoformat()
    micros = str((moment - EPOCH) // MICROSECOND)
    expected = encode_cursor(FIELD_CODES["created_at"], row_id, micros)
    cursor = SQLITE.cursor("created_at", "?1", "?2").text
    assert spelled(sqlite, cursor, text, row_id) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2025-01-06 09:00:37",  # no fraction (CURRENT_TIMESTAMP)
        "2025-01-06T09:00:37.007919",  # ISO with a T
        "2025-01-06 09:00:37.007919+00:00",  # with an offset
        "2025-01-06 11:00:37.5+02:00",  # a short fraction, another offset
    ],
)
def test_moments_stored_another_way_go_through_python(
    sqlite: sqlite3.Connection, text: str
) -> None:
    moment = datetime.fromisoformat(text)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    assert spelled(sqlite, SQLITE.moment("?1").text, text) == moment.isoformat()
    row_id = uuid.uuid4().hex
    micros = str((moment - EPOCH) // MICROSECOND)
    cursor = SQLITE.cursor("updated_at", "?1", "?2").text
    expected = encode_cursor(FIELD_CODES["updated_at"], row_id, micros)
    assert spelled(sqlite, cursor, text, row_id) == expected


def test_a_missing_moment_is_null(sqlite: sqlite3.Connection) -> None:
    assert spelled(sqlite, SQLITE.moment("?1").text, None) is None


@settings(max_examples=200, deadline=None)
@given(
    type_name=st.sampled_from(["Client", "Campaign", "Asset", "Job", "Workspace", "Scene"]),
    row_id=st.uuids(),
    name=st.text(min_size=0, max_size=40),
)
def test_global_ids_and_name_cursors(
    sqlite: sqlite3.Connection, type_name: str, row_id: uuid.UUID, name: str
) -> None:
    assert spelled(sqlite, SQLITE.gid(type_name, "?1").text, row_id.hex) == encode_global_id(
        type_name, row_id
    )
    cursor = SQLITE.cursor("name", "?1", "?2").text
    expected = encode_cursor(FIELD_CODES["name"], row_id.hex, name)
    assert spelled(sqlite, cursor, name, row_id.hex) == expected


def test_a_missing_id_has_no_global_id(sqlite: sqlite3.Connection) -> None:
    assert spelled(sqlite, SQLITE.gid("Client", "?1").text, None) is None


@pytest.mark.parametrize("kept", [True, False])
def test_nested_json_is_embedded_whole_either_way(
    sqlite: sqlite3.Connection, kept: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nested JSON is embedded as it is where this SQLite keeps its subtype through
    subqueries (checked at import), and parsed again with json() where it does not."""
    if kept and not dialect.SUBTYPES_KEPT:
        pytest.skip("this SQLite loses JSON's subtype in subqueries: json() is used")
    monkeypatch.setattr(dialect, "SUBTYPES_KEPT", kept)
    rows = "(SELECT 1 AS v UNION ALL SELECT 2)"
    listed = Sql(f"(SELECT json_group_array(json_object('v', v)) FROM {rows})", json=True)
    flag = SQLITE.boolean("1 > 0", nullable=False)
    built = SQLITE.obj([("list", listed), ("flag", flag)]).text
    assert ("json((SELECT" in built) is not kept
    assert spelled(sqlite, built) == '{"list":[{"v":1},{"v":2}],"flag":true}'


def test_whole_seconds_are_spelled_without_a_fraction(sqlite: sqlite3.Connection) -> None:
    moment = datetime(2025, 1, 6, 9, 0, 37, tzinfo=UTC)
    assert spelled(sqlite, SQLITE.moment("?1").text, stored(moment)) == "2025-01-06T09:00:37+00:00"
    later = moment + timedelta(microseconds=1)
    assert spelled(sqlite, SQLITE.moment("?1").text, stored(later)) == (
        "2025-01-06T09:00:37.000001+00:00"
    )
