"""Application settings, read from ``ADSTUDIO_*`` environment variables.

One :class:`Settings` object is built at start-up and handed to every part of the
application; nothing else reads the environment.
"""

from __future__ import annotations

import ipaddress
import secrets
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from limits import parse
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from app.db import PoolBudget
from app.errors import SettingsError

ENV_PREFIX = "ADSTUDIO_"
SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_LENGTH = 32
_WEAK_SECRETS = frozenset({"changeme", "change-me", "secret", "dev", "development", "test"})
_ASYNC_DRIVERS = {
    "sqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
}
_SUPPORTED_DRIVERS = frozenset({"sqlite+aiosqlite", "postgresql+asyncpg", "postgresql+psycopg"})


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


def normalize_database_url(raw: str) -> str:
    """Return ``raw`` with an async driver, or raise ``ValueError`` with the reason."""
    try:
        url = make_url(raw)
    except ArgumentError as exc:
        raise ValueError(f"not a database URL: {exc}") from None
    drivername = _ASYNC_DRIVERS.get(url.drivername, url.drivername)
    if drivername not in _SUPPORTED_DRIVERS:
        supported = ", ".join(sorted(_SUPPORTED_DRIVERS))
        raise ValueError(f"unsupported driver {url.drivername!r} (use one of: {supported})")
    url = url.set(drivername=drivername)
    if drivername.startswith("postgresql") and not url.database:
        raise ValueError("a PostgreSQL URL must name a database")
    return url.render_as_string(hide_password=False)


class Settings(BaseSettings):
    """Every knob of the service. Field names map to ``ADSTUDIO_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    env: Environment = Environment.DEVELOPMENT
    var_dir: Path = Path("var")
    database_url: str = ""
    media_root: Path | None = None
    secret_key: SecretStr | None = None
    replicate_api_token: SecretStr | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    redis_url: str | None = None
    log_level: str = "INFO"
    log_format: LogFormat = LogFormat.CONSOLE
    cors_origins: list[str] = Field(default_factory=list)
    access_token_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)
    refresh_token_ttl_days: int = Field(default=30, ge=1, le=365)
    # How long a process may serve what credentials prove (sign-in, key, roles) without
    # reading them again; revocations clear it at once (across processes through Redis), so
    # this only bounds a change made outside the application or a lost announcement. 0: off.
    credential_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    password_hash_concurrency: int = Field(default=4, ge=1, le=64)
    max_query_depth: int = Field(default=15, ge=2)
    max_query_aliases: int = Field(default=30, ge=1)
    max_query_tokens: int = Field(default=5000, ge=100)
    max_query_cost: int = Field(default=10_000, ge=10)
    compiled_reads: bool = True  # queries the read compiler covers are answered by one SQL each
    max_image_mb: int = Field(default=20, ge=1)
    max_audio_mb: int = Field(default=50, ge=1)
    max_video_mb: int = Field(default=500, ge=1)
    max_document_mb: int = Field(default=20, ge=1)
    max_multipart_mb: int = Field(default=100, ge=1)
    max_json_body_kb: int = Field(default=1024, ge=1)
    max_webhook_body_kb: int = Field(default=256, ge=1)
    media_url_ttl_seconds: int = Field(default=3600, ge=60)
    upload_url_ttl_seconds: int = Field(default=3600, ge=60)
    import_allowed_networks: list[str] = Field(default_factory=list)
    import_timeout_seconds: float = Field(default=30.0, gt=0)
    upload_rate_limit: str = "10/minute"
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    # A live event stream reads at most this many events ahead of its subscriber; one that
    # takes nothing for the grace while its buffer is full ends with SUBSCRIBER_TOO_SLOW.
    subscriber_buffer_events: int = Field(default=1000, ge=1)
    subscriber_grace_seconds: float = Field(default=10.0, gt=0)
    event_hub: str = Field(default="auto", pattern="^(auto|local|redis|postgres)$")
    engine_enabled: bool = True
    execute_work: bool = True
    executor_id: str = "local"
    engine_database_url: str | None = None
    workspace_concurrency: int = Field(default=3, ge=1)
    recovery_interval_seconds: float = Field(default=60.0, gt=0)
    # PostgreSQL connections per process: db_pool_size + db_max_overflow (ours)
    # + engine_pool_size (the job engine's) + 3 (the job engine's listener, the event hub's
    # listener and its publisher).
    db_pool_size: int = Field(default=4, ge=1, le=200)
    db_max_overflow: int = Field(default=1, ge=0, le=200)
    db_pool_timeout_seconds: float = Field(default=30.0, gt=0)
    engine_pool_size: int = Field(default=3, ge=1, le=200)
    generation_deadline_seconds: float = Field(default=900.0, gt=0)
    generation_poll_seconds: float = Field(default=1.0, gt=0)
    replicate_base_url: str | None = None
    replicate_webhook_secret: SecretStr | None = None
    local_latency_seconds: float = Field(default=0.5, ge=0)
    local_failure_rate: float = Field(default=0.0, ge=0, le=1)
    image_rate_limit: str = "10/minute"
    audio_rate_limit: str = "10/minute"
    video_rate_limit: str = "5/minute"
    job_rate_limit: str = "5/minute"
    login_rate_limit: str = "10/minute"
    login_address_rate_limit: str = "30/minute"
    register_rate_limit: str = "5/minute"
    register_address_rate_limit: str = "10/minute"
    refresh_rate_limit: str = "30/minute"
    refresh_address_rate_limit: str = "60/minute"
    api_key_rate_limit: str = "10/minute"
    api_key_address_rate_limit: str = "30/minute"

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalize_database_url(value) if value else value

    @field_validator("import_allowed_networks")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for network in value:
            ipaddress.ip_network(network, strict=False)
        return value

    @field_validator(
        "upload_rate_limit",
        "image_rate_limit",
        "audio_rate_limit",
        "video_rate_limit",
        "job_rate_limit",
        "login_rate_limit",
        "login_address_rate_limit",
        "register_rate_limit",
        "register_address_rate_limit",
        "refresh_rate_limit",
        "refresh_address_rate_limit",
        "api_key_rate_limit",
        "api_key_address_rate_limit",
    )
    @classmethod
    def _check_rate(cls, value: str) -> str:
        try:
            parse(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a rate such as 10/minute") from None
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("public_base_url")
    @classmethod
    def _check_public_base_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value or None

    @model_validator(mode="after")
    def _check_production_secret(self) -> Settings:
        if self.env is not Environment.PRODUCTION:
            return self
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if not key:
            raise ValueError("ADSTUDIO_SECRET_KEY is required when ADSTUDIO_ENV=production")
        if len(key) < MIN_SECRET_LENGTH or key.lower() in _WEAK_SECRETS:
            raise ValueError(
                "ADSTUDIO_SECRET_KEY must be a random value of at least "
                f"{MIN_SECRET_LENGTH} characters"
            )
        return self

    @property
    def is_development(self) -> bool:
        return self.env is Environment.DEVELOPMENT

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'adstudio.db').as_posix()}"

    @property
    def database(self) -> URL:
        return make_url(self.resolved_database_url)

    @property
    def is_sqlite(self) -> bool:
        return _is_sqlite(self.resolved_database_url)

    @property
    def resolved_media_root(self) -> Path:
        return self.media_root if self.media_root is not None else self.var_dir / "media"

    @property
    def pool_budget(self) -> PoolBudget:
        return PoolBudget(self.db_pool_size, self.db_max_overflow, self.db_pool_timeout_seconds)

    @property
    def resolved_engine_database_url(self) -> str:
        """The engine's system database: beside ours (a SQLite file, or the same PostgreSQL)."""
        if self.engine_database_url:
            return self.engine_database_url
        if self.is_sqlite:
            return f"sqlite:///{(self.var_dir / 'engine.sqlite').as_posix()}"
        return self.database.set(drivername="postgresql").render_as_string(hide_password=False)

    def signing_key(self) -> str:
        """The secret key; in development a key is generated once and kept under ``var_dir``."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        return _persistent_dev_key(self.var_dir / SECRET_KEY_FILE)


def _persistent_dev_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    tmp.replace(path)
    return key


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, turning validation errors into one-line messages."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        field = "".join(str(p) for p in error["loc"][:1])
        message = str(error["msg"]).removeprefix("Value error, ")
        if field:
            parts.append(f"{ENV_PREFIX}{field.upper()}: {message}")
        else:
            parts.append(message)
    return "; ".join(parts)


@lru_cache(maxsize=16)
def _is_sqlite(database_url: str) -> bool:
    """Read on every request (compiled reads): each URL is parsed once."""
    return make_url(database_url).get_backend_name() == "sqlite"
