"""Mapping exceptions to GraphQL errors with stable codes; masking and logging bugs."""

from __future__ import annotations

import structlog
from graphql import GraphQLError

from app.errors import AppError, ErrorCode

log = structlog.get_logger("app.graphql")
MASKED_MESSAGE = "Internal server error"


def format_errors(errors: list[GraphQLError], request_id: str) -> list[GraphQLError]:
    return [format_error(error, request_id) for error in errors]


def format_error(error: GraphQLError, request_id: str) -> GraphQLError:
    original = error.original_error
    if isinstance(original, AppError):
        error.extensions = {
            **(error.extensions or {}),
            **original.extensions,
            "code": original.code.value,
        }
        return error
    if original is None:
        error.extensions = {**(error.extensions or {}), "code": _document_code(error).value}
        return error
    if isinstance(original, GraphQLError) and original.original_error is None:
        error.extensions = {**(error.extensions or {}), "code": ErrorCode.BAD_USER_INPUT.value}
        return error
    log.error(
        "unexpected error",
        request_id=request_id,
        path=error.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
    )


def _document_code(error: GraphQLError) -> ErrorCode:
    message = error.message
    if message.startswith("Syntax Error"):
        return ErrorCode.GRAPHQL_PARSE_FAILED
    if message.startswith(("Variable '$", "Argument '")) and "got invalid value" in message:
        return ErrorCode.BAD_USER_INPUT
    return ErrorCode.GRAPHQL_VALIDATION_FAILED
