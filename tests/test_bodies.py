"""Bodies are read within caps and parsed within limits: every refusal is coded, none a 500."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from app.http.bodies import MAX_JSON_DEPTH, json_depth
from tests.conftest import app_client, make_settings


async def _chunks(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """A JSON body of ``total`` bytes sent without Content-Length (chunked)."""
    yield b'{"query": "{ __typename }", "variables": {"pad": "'
    sent = 0
    while sent < total:
        yield b"x" * size
        sent += size
    yield b'"}}'


def _code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


class TestJsonBodies:
    @pytest.mark.parametrize(
        "body",
        [
            b"\xff\xfe{}",  # invalid UTF-8
            b'{"query": "{ __typename }", "x": "\xc3\x28"}',
            b"5",
            b'"query"',
            b"null",
            b"true",
            b"{",
            b"[" * 1000 + b"]" * 1000,
            b'{"query": "{ __typename }", "variables": ' + b'{"a":' * 1000 + b"1" + b"}" * 1001,
            b'{"query": "{ __typename }", "operationName": 5}',
            b'{"query": "{ __typename }", "variables": 5}',
            b'{"query": 5}',
        ],
    )
    async def test_malformed_json_is_a_coded_400(
        self, http: httpx.AsyncClient, body: bytes
    ) -> None:
        response = await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, response.text
        assert _code(response) == "BAD_REQUEST"

    async def test_nesting_within_the_limit_is_fine(self, http: httpx.AsyncClient) -> None:
        body = {"query": "{ __typename }", "variables": {"deep": json.loads("[" * 10 + "]" * 10)}}
        response = await http.post("/graphql", json=body)
        assert response.json()["data"] == {"__typename": "Query"}

    def test_depth_is_measured_without_recursion(self) -> None:
        deep: list[object] = []
        for _ in range(100_000):
            deep = [deep]
        assert json_depth(deep) == 100_001
        assert json_depth({"a": [1, {"b": 2}]}) == 3
        assert MAX_JSON_DEPTH < 100

    @pytest.mark.parametrize("path", ["/graphql", "/graphql/stream"])
    async def test_oversized_bodies_stop_at_the_cap(
        self, http: httpx.AsyncClient, path: str
    ) -> None:
        streamed = await http.post(
            path, content=_chunks(2 * 1024 * 1024), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert _code(streamed) == "BAD_REQUEST"
        claimed = await http.post(
            path,
            content=b"{}",
            headers={"Content-Type": "application/json", "Content-Length": "999999999"},
        )
        assert claimed.status_code == 413


class TestWebhookBodies:
    async def test_the_webhook_body_is_bounded_before_its_signature_is_checked(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(
            database_url, tmp_path, replicate_webhook_secret=SecretStr("whsec_" + "a" * 32)
        )
        async with app_client(settings) as http:
            big = await http.post(
                "/webhooks/replicate",
                content=_chunks(1024 * 1024),
                headers={"Content-Type": "application/json"},
            )
            unsigned = await http.post("/webhooks/replicate", json={"id": "p1"})
        assert big.status_code == 413
        assert unsigned.status_code == 401
