"""Settings: defaults, URL normalisation, one-line errors and the secret key rules."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.errors import SettingsError
from app.settings import Environment, Settings, load_settings, normalize_database_url


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "ENV", "SECRET_KEY", "VAR_DIR", "MEDIA_ROOT", "REDIS_URL"):
        monkeypatch.delenv(f"ADSTUDIO_{name}", raising=False)


class TestDefaults:
    def test_database_is_a_sqlite_file_under_var(self, tmp_path: Path) -> None:
        settings = Settings(var_dir=tmp_path / "var")
        assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path}/var/adstudio.db"
        assert settings.is_sqlite

    def test_media_root_defaults_under_var(self, tmp_path: Path) -> None:
        assert Settings(var_dir=tmp_path).resolved_media_root == tmp_path / "media"

    def test_environment_variables_use_the_prefix(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ADSTUDIO_DATABASE_URL", "postgresql://u@db:5432/app")
        monkeypatch.setenv("ADSTUDIO_REDIS_URL", "redis://cache:6379/0")
        settings = load_settings()
        assert settings.resolved_database_url == "postgresql+asyncpg://u@db:5432/app"
        assert settings.redis_url == "redis://cache:6379/0"
        assert not settings.is_sqlite


class TestDatabaseUrl:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("sqlite:///x.db", "sqlite+aiosqlite:///x.db"),
            ("postgres://u:p@h/db", "postgresql+asyncpg://u:p@h/db"),
            ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ],
    )
    def test_urls_get_an_async_driver(self, raw: str, expected: str) -> None:
        assert normalize_database_url(raw) == expected

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("not a url", "not a database URL"),
            ("mysql://u@h/db", "unsupported driver 'mysql'"),
            ("postgresql://u@h", "must name a database"),
        ],
    )
    def test_malformed_urls_fail_with_one_line_naming_the_setting(
        self, monkeypatch: pytest.MonkeyPatch, raw: str, reason: str
    ) -> None:
        monkeypatch.setenv("ADSTUDIO_DATABASE_URL", raw)
        with pytest.raises(SettingsError) as caught:
            load_settings()
        message = str(caught.value)
        assert message.startswith("ADSTUDIO_DATABASE_URL: ")
        assert reason in message
        assert "\n" not in message

    def test_other_bad_values_name_their_setting(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ADSTUDIO_REDIS_URL", "http://nope")
        with pytest.raises(SettingsError, match=r"^ADSTUDIO_REDIS_URL: must be a redis://"):
            load_settings()


class TestSecretKey:
    def test_production_requires_a_secret_key(self) -> None:
        with pytest.raises(SettingsError, match="ADSTUDIO_SECRET_KEY is required"):
            load_settings(env=Environment.PRODUCTION)

    @pytest.mark.parametrize("weak", ["changeme", "short-key"])
    def test_production_refuses_weak_keys(self, weak: str) -> None:
        with pytest.raises(SettingsError, match="at least 32 characters"):
            load_settings(env=Environment.PRODUCTION, secret_key=SecretStr(weak))

    def test_production_accepts_a_strong_key(self) -> None:
        key = "k" * 16 + "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
        settings = load_settings(env=Environment.PRODUCTION, secret_key=SecretStr(key))
        assert settings.signing_key() == key

    def test_development_key_is_generated_once_and_kept_private(self, tmp_path: Path) -> None:
        first = Settings(var_dir=tmp_path).signing_key()
        second = Settings(var_dir=tmp_path).signing_key()
        assert first == second
        assert len(first) >= 48
        mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
        assert mode == 0o600

    def test_secret_key_is_not_shown_in_repr(self) -> None:
        settings = Settings(secret_key=SecretStr("super-secret-value"))
        assert "super-secret-value" not in repr(settings)


class TestCredentialLimits:
    @pytest.mark.parametrize(
        "name",
        [
            "LOGIN_RATE_LIMIT",
            "LOGIN_ADDRESS_RATE_LIMIT",
            "REGISTER_RATE_LIMIT",
            "REFRESH_ADDRESS_RATE_LIMIT",
            "API_KEY_RATE_LIMIT",
        ],
    )
    def test_a_rate_that_does_not_parse_names_its_setting(
        self, monkeypatch: pytest.MonkeyPatch, name: str
    ) -> None:
        monkeypatch.setenv(f"ADSTUDIO_{name}", "ten per minute")
        with pytest.raises(SettingsError, match=f"ADSTUDIO_{name}: 'ten per minute' is not a rate"):
            load_settings()

    def test_the_hashing_cap_must_be_positive(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("ADSTUDIO_PASSWORD_HASH_CONCURRENCY", "0")
        with pytest.raises(SettingsError, match="ADSTUDIO_PASSWORD_HASH_CONCURRENCY"):
            load_settings()

    def test_defaults_limit_sign_in_per_account_and_per_address(self) -> None:
        settings = Settings()
        assert (settings.login_rate_limit, settings.login_address_rate_limit) == (
            "10/minute",
            "30/minute",
        )
        assert settings.password_hash_concurrency == 4
