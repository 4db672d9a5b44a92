"""Mapping exceptions to GraphQL errors with stable codes; masking and logging bugs."""

from __future__ import annotations

import re

import structlog
from graphql import GraphQLError

from app.errors import AppError, ErrorCode

log = structlog.get_logger("app.graphql")
MASKED_MESSAGE = "Internal server error"
SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def format_errors(
    errors: list[GraphQLError], request_id: str, *, hide_suggestions: bool = False
) -> None:
    """Give each error its ``extensions.code``, in place; mask (and log) unexpected ones.

    With ``hide_suggestions`` (production), "Did you mean ...?" hints are cut from every
    message: they would let a caller rebuild the schema with introspection off.
    """
    for error in errors:
        if "code" not in (error.extensions or {}):
            _format(error, request_id)
        if hide_suggestions:
            error.message = SUGGESTION.sub("", error.message)


def _format(error: GraphQLError, request_id: str) -> None:
    original = error.original_error
    extensions = dict(error.extensions or {})
    if isinstance(original, AppError):
        error.extensions = {**extensions, **original.extensions, "code": original.code.value}
    elif original is None:
        error.extensions = {**extensions, "code": _document_code(error).value}
    elif isinstance(original, GraphQLError) and original.original_error is None:
        error.extensions = {**extensions, "code": ErrorCode.BAD_USER_INPUT.value}
    else:
        log.error(
            "unexpected error",
            request_id=request_id,
            path=error.path,
            exc_info=(type(original), original, original.__traceback__),
        )
        error.message = MASKED_MESSAGE
        error.original_error = None
        error.extensions = {
            "code": ErrorCode.INTERNAL_SERVER_ERROR.value,
            "requestId": request_id,
        }


def _document_code(error: GraphQLError) -> ErrorCode:
    message = error.message
    if message.startswith("Syntax Error"):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if message.startswith(("Variable '$", "Argument '")) and "got invalid value" in message:
        return ErrorCode.BAD_USER_INPUT
    return ErrorCode.GRAPHQL_VALIDATION_FAILED
