"""Schema and field extensions of our own: transactions and error codes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension, SchemaExtension
from strawberry.extensions.field_extension import AsyncExtensionResolver
from strawberry.types.graphql import OperationType

from app.errors import AppError, ForbiddenError
from app.schema.context import Context

_READS = (OperationType.QUERY, OperationType.SUBSCRIPTION)


class SessionLifecycle(SchemaExtension):
    """Close the operation's session: commit what is pending if it succeeded, else roll back.

    Queries and subscriptions get a read-only session (on SQLite it never takes the write
    lock); a subscription's lasts one event.
    """

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            context.read_only = self.execution_context.operation_type in _READS
        yield

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        context = self.execution_context.context
        subscription = self.execution_context.operation_type is OperationType.SUBSCRIPTION
        if subscription and isinstance(context, Context):
            await context.end_event()
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        try:
            yield
        except BaseException:
            if isinstance(context, Context):
                await context.close(commit=False)
            raise
        if isinstance(context, Context):
            result = self.execution_context.result
            ok = result is not None and not getattr(result, "errors", None)
            await context.close(commit=ok)


class Transaction(FieldExtension):
    """Each mutation field is one unit of work: committed when it returns, rolled back if not.

    It reads through loaders of its own, so it sees what earlier fields changed.

    Every mutation passes here, so this is also where a read-only credential is refused.
    """

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Any, **kwargs: Any
    ) -> Any:
        context: Context = info.context
        _refuse_read_only(context)
        context.forget_loaded()
        try:
            result = await next_(source, info, **kwargs)
        except AppError as error:
            await (context.commit() if error.keep_changes else context.rollback())
            raise
        except BaseException:
            await context.rollback()
            raise
        await context.commit()
        return result


def _refuse_read_only(context: Context) -> None:
    actor = context.maybe_actor_or_none
    if actor is not None and actor.read_only:
        raise ForbiddenError(
            "This API key is read-only: it can run queries and subscriptions, not mutations.",
            reason="API_KEY_READ_ONLY",
        )


def mutation(*, description: str) -> Callable[..., Any]:
    """``@strawberry.mutation`` running in its own transaction."""
    return strawberry.mutation(description=description, extensions=[Transaction()])  # type: ignore[no-any-return]
