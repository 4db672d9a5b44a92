"""graphql-core's executor, without the reference cycle it leaves behind on every operation.

The executor keeps bound methods of itself (``async_helpers``), so each operation's executor,
and with it the context, the request and everything they hold, could only be freed by the
cyclic garbage collector. Once the operation's result is complete the helpers are dropped and
reference counting frees it all at once.
"""

from __future__ import annotations

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class AcyclicExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_operation(self, *args: Any, **kwargs: Any) -> Any:
        result = super().execute_operation(*args, **kwargs)
        if self.is_awaitable(result):
            return self._finish(result)
        self._release()
        return result

    async def _finish(self, pending: Any) -> Any:
        try:
            return await pending
        finally:
            self._release()

    def _release(self) -> None:
        self.__dict__.pop("async_helpers", None)
