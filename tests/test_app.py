"""The HTTP surface of the foundation: probes, GraphQL and GraphiQL."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from app.errors import StartupError
from app.main import create_app
from app.settings import Environment
from tests.conftest import app_client, lifespan, make_settings


class TestProbes:
    async def test_healthz_answers_alive(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}

    async def test_readyz_is_ready_on_a_migrated_database(self, http: httpx.AsyncClient) -> None:
        response = await http.get("/readyz")
        assert response.status_code == 200
        assert response.json()["status"] == "ready"

    async def test_readyz_reports_missing_migrations(
        self, empty_database_url: str, tmp_path: Path
    ) -> None:
        async with app_client(make_settings(empty_database_url, tmp_path)) as http:
            response = await http.get("/readyz")
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "reason": "database has no migrations applied; run `adstudio migrate`",
        }


class TestGraphQL:
    async def test_typename_query(self, http: httpx.AsyncClient) -> None:
        response = await http.post("/graphql", json={"query": "{ __typename }"})
        assert response.status_code == 200
        assert response.json() == {"data": {"__typename": "Query"}}

    async def test_health_reports_dialect_and_migrations(
        self, http: httpx.AsyncClient, dialect: str
    ) -> None:
        query = "{ health { version database migrationsAtHead } }"
        response = await http.post("/graphql", json={"query": query})
        health = response.json()["data"]["health"]
        assert health["database"] == dialect
        assert health["migrationsAtHead"] is True
        assert health["version"]

    async def test_graphiql_is_served_in_development(
        self, database_url: str, tmp_path: Path
    ) -> None:
        settings = make_settings(database_url, tmp_path, env=Environment.DEVELOPMENT)
        async with app_client(settings) as http:
            response = await http.get("/graphql", headers={"Accept": "text/html"})
        assert response.status_code == 200
        assert "GraphiQL" in response.text

    async def test_graphiql_is_not_served_outside_development(
        self, http: httpx.AsyncClient
    ) -> None:
        response = await http.get("/graphql", headers={"Accept": "text/html"})
        assert "GraphiQL" not in response.text


class TestStartup:
    async def test_unreachable_database_fails_with_one_line(self, tmp_path: Path) -> None:
        url = "postgresql+asyncpg://nobody@127.0.0.1:1/none"
        app = create_app(make_settings(url, tmp_path))
        with pytest.raises(StartupError) as caught:
            async with lifespan(app):
                pass
        message = str(caught.value)
        assert message.startswith("ADSTUDIO_DATABASE_URL: cannot reach database ")
        assert "\n" not in message
