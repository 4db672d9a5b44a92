"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from app.runtime import Runtime
from app.settings import Settings


@dataclass(slots=True)
class Context:
    runtime: Runtime
    request: Any = None
    response: Any = None
    _session: AsyncSession | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def session(self) -> AsyncSession:
        """The request's single database session, opened on first use."""
        if self._session is None:
            self._session = self.runtime.sessionmaker()
        return self._session

    async def close(self, *, commit: bool) -> None:
        if self._session is None:
            return
        try:
            if commit:
                await self._session.commit()
            else:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None


Info = StrawberryInfo[Context, None]
