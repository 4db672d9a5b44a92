"""Schema extensions of our own."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from app.schema.context import Context


class SessionLifecycle(SchemaExtension):
    """One session and one commit per operation: commit when it succeeded, else roll back."""

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
