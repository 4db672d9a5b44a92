"""The committed schema.graphql is exactly what the code exports."""

from __future__ import annotations

from pathlib import Path

from app.schema import export_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text() == export_schema(), (
        "schema.graphql is out of date: run `make schema` and commit the result"
    )
