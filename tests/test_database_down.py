"""When the database cannot be reached, a request is refused with 503 and a stable code,
never a 500: the credentials of a request are read before any field runs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from tests import databases
from tests.conftest import app_client, make_settings
from tests.graphql import register


async def test_a_request_while_the_database_is_gone_is_503_and_coded(
    postgres_only_url: str, tmp_path: Path
) -> None:
    async with app_client(make_settings(postgres_only_url, tmp_path)) as http:
        account = await register(http)
        name = urlsplit(postgres_only_url).path.strip("/")
        databases._admin_execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        response = await http.post(
            "/graphql",
            json={"query": "{ viewer { id } }"},
            headers={"Authorization": f"Bearer {account.gql.token}"},
        )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
