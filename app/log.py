"""structlog configuration: console output in development, JSON lines otherwise.

Exceptions are always rendered as plain tracebacks (never with local variables, which hold
keys and tokens), and every line, structlog's and the standard library's, passes through the
:class:`~app.redaction.Redactor` before it is written.
"""

from __future__ import annotations

import logging
import sys

import structlog

from app.redaction import Redactor
from app.settings import LogFormat, Settings


def configured_secrets(settings: Settings) -> list[str]:
    """The secret values a log line must never contain."""
    values = [settings.signing_key()]
    for secret in (settings.replicate_api_token, settings.replicate_webhook_secret):
        if secret is not None:
            values.append(secret.get_secret_value())
    return values


def configure_logging(settings: Settings) -> None:
    level = logging.getLevelNamesMapping()[settings.log_level]
    redactor = Redactor(configured_secrets(settings))
    renderer: structlog.typing.Processor
    if settings.log_format is LogFormat.JSON:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,  # plain text: no locals, ever
            redactor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _configure_stdlib(level, redactor)


class RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.text(super().format(record))


def _configure_stdlib(level: int, redactor: Redactor) -> None:
    """One stderr handler of ours on the root logger (replacing an earlier one of ours)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h.formatter, RedactingFormatter)]:
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(redactor))
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every migration-context check (readiness probes make many); keep it quiet.
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
