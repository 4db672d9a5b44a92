"""Expected failures, each with a stable :class:`ErrorCode`.

Services raise :class:`AppError` subclasses; the GraphQL layer maps them to errors whose
``extensions.code`` is the code. Anything else is a bug and is masked.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    BAD_REQUEST = "BAD_REQUEST"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    CONFLICT = "CONFLICT"
    RATE_LIMITED = "RATE_LIMITED"
    BUDGET_EXCEEDED = "BUDGET_EXCEEDED"
    PROVIDER_ERROR = "PROVIDER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    SUBSCRIBER_TOO_SLOW = "SUBSCRIBER_TOO_SLOW"


class AppError(Exception):
    """Base of every expected failure."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, keep_changes: bool = False, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions
        # A refusal that must still record something (e.g. revoking a replayed token's family).
        self.keep_changes = keep_changes


class UnauthenticatedError(AppError):
    code = ErrorCode.UNAUTHENTICATED


class ForbiddenError(AppError):
    code = ErrorCode.FORBIDDEN


class NotFoundError(AppError):
    code = ErrorCode.NOT_FOUND


class BadUserInputError(AppError):
    code = ErrorCode.BAD_USER_INPUT


class ConflictError(AppError):
    code = ErrorCode.CONFLICT


class RateLimitedError(AppError):
    code = ErrorCode.RATE_LIMITED


class BudgetExceededError(AppError):
    code = ErrorCode.BUDGET_EXCEEDED


class ProviderError(AppError):
    code = ErrorCode.PROVIDER_ERROR


class ServiceUnavailableError(AppError):
    code = ErrorCode.SERVICE_UNAVAILABLE


class SubscriberTooSlowError(AppError):
    """A live stream's buffer overflowed; ``afterSeq`` says where to resume."""

    code = ErrorCode.SUBSCRIBER_TOO_SLOW


class SettingsError(Exception):
    """Configuration that cannot work; the message is one line naming the setting."""


class StartupError(Exception):
    """A dependency the process needs at start-up is missing; the message is one line."""
