"""No secret reaches a log line, in either format, tracebacks included."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import structlog
from pydantic import SecretStr

from app.log import configure_logging
from app.main import create_app
from app.redaction import REDACTED, Redactor
from app.runtime import Runtime
from app.settings import Environment, LogFormat, Settings
from tests.conftest import lifespan, make_settings
from tests.graphql import GraphQL, register

PASSWORD_MARK = "hunter2-" + "p" * 12
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }"
CREATE_KEY = "mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }"
CREATE_CLIENT = "mutation($i: CreateClientInput!) { createClient(input: $i) { client { id } } }"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def _settings(database_url: str, tmp_path: Path, log_format: LogFormat) -> Settings:
    return make_settings(
        database_url,
        tmp_path,
        env=Environment.PRODUCTION,
        secret_key=SecretStr(secrets.token_urlsafe(48)),
        replicate_api_token=SecretStr("r8_" + secrets.token_hex(20)),
        replicate_webhook_secret=SecretStr("whsec_" + secrets.token_urlsafe(24)),
        log_format=log_format,
    )


async def _leak_everything(http: httpx.AsyncClient, runtime: Runtime) -> list[str]:
    """Sign in, mint a key, then make requests carrying them fail unexpectedly."""
    account = await register(http, "Leaky")
    gql = GraphQL(http)
    login = (await gql(LOGIN, {"i": {"email": account.email, "password": account.password}})).ok()[
        "login"
    ]
    key = (await account.gql(CREATE_KEY, {"i": {"name": "ci"}})).ok()["createApiKey"]["secret"]
    wrong = await gql(LOGIN, {"i": {"email": account.email, "password": PASSWORD_MARK}})
    assert wrong.code == "UNAUTHENTICATED"
    async with runtime.sessionmaker() as session, session.begin():
        await session.execute(sa.text("ALTER TABLE client RENAME TO client_gone"))
    variables = {"i": {"workspaceId": account.workspace_id, "name": PASSWORD_MARK}}
    for headers in (
        {"Authorization": f"Bearer {login['accessToken']}"},
        {"X-API-Key": key},
        {"Cookie": f"adstudio_access={login['accessToken']}"},
    ):
        failed = await gql(CREATE_CLIENT, variables, **headers)
        assert failed.code == "INTERNAL_SERVER_ERROR", failed.errors
    return [login["accessToken"], login["refreshToken"], account.refresh_token, key]


class TestSecretsNeverLogged:
    @pytest.mark.parametrize("log_format", [LogFormat.CONSOLE, LogFormat.JSON])
    async def test_failing_requests_log_no_secret(
        self,
        log_format: LogFormat,
        database_url: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        settings = _settings(database_url, tmp_path, log_format)
        configure_logging(settings)
        application = create_app(settings)
        async with lifespan(application):
            transport = httpx.ASGITransport(app=application)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                tokens = await _leak_everything(http, application.state.runtime)
        logging.getLogger("adstudio.test").error("echo %s", tokens[0])
        output = capsys.readouterr().err
        assert "unexpected error" in output
        assert "Traceback" in output
        assert REDACTED in output
        secret_values = [
            settings.signing_key(),
            settings.replicate_api_token.get_secret_value(),  # type: ignore[union-attr]
            settings.replicate_webhook_secret.get_secret_value(),  # type: ignore[union-attr]
            *tokens,
            "correct horse battery",
        ]
        for value in secret_values:
            pieces = {value[i : i + 12] for i in range(max(1, len(value) - 11))}
            leaked = [piece for piece in pieces if piece in output]
            assert not leaked, f"a piece of a secret reached the log: {leaked[:3]}"


class TestRedactor:
    def test_secret_keys_patterns_and_fragments_are_replaced(self) -> None:
        key = secrets.token_urlsafe(40)
        redactor = Redactor([key])
        event = {
            "event": f"boom with {key[5:20]} inside",
            "password": "swordfish",
            "headers": {"Authorization": "Bearer abc", "cookie": "adstudio_access=xyz"},
            "url": "/media/a/original?expires=1&signature=c2lnbmF0dXJl",
            "nested": ["token ads_0123456789ab_secretpart", "eyJhbGciOi.eyJzdWIiOi.c2ln"],
            "count": 3,
        }
        out = redactor(None, "error", event)
        assert key[5:20] not in out["event"]
        assert out["password"] == REDACTED
        assert out["headers"] == {"Authorization": REDACTED, "cookie": REDACTED}
        assert "c2lnbmF0dXJl" not in out["url"]
        assert all("secretpart" not in s and "eyJzdWIiOi" not in s for s in out["nested"])
        assert out["count"] == 3
