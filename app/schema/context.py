"""The typed per-request context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from app.after_commit import settle
from app.auth.actor import Actor
from app.auth.credentials import Credentials
from app.auth.resolve import authenticate, with_current_roles
from app.errors import AppError, UnauthenticatedError
from app.loaders import Loaders
from app.runtime import Runtime
from app.settings import Settings
from app.single_flight import shared

log = structlog.get_logger("app.context")


class OperationEndedError(RuntimeError):
    """The session was asked for after the operation ended (by a field that was cancelled)."""


@dataclass(slots=True)
class Context:
    runtime: Runtime
    request: Any = None
    response: Any = None
    credentials: Credentials | None = None
    request_id: str = ""
    read_only: bool = False
    connection_params: Any = None
    live: bool = False  # an operation of a WebSocket connection
    raw_json: bool = False  # the reply is encoded by orjson: compiled reads may answer
    ready: Any = None  # (plan key, ready plan) when compiled statements answered everything
    _session: AsyncSession | None = field(default=None, repr=False)
    _actor: Actor | None = field(default=None, repr=False)
    _auth_error: AppError | None = field(default=None, repr=False)
    _loaders: Loaders | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)
    _every_loaders: list[Loaders] = field(default_factory=list, repr=False)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def now(self) -> datetime:
        return self.runtime.clock.now()

    @property
    def client_address(self) -> str | None:
        """The peer's address (behind a trusted proxy, the one it forwarded), if known."""
        client = getattr(self.request, "client", None)
        return getattr(client, "host", None) or None

    @property
    def session(self) -> AsyncSession:
        """The request's single database session, opened on first use."""
        if self._closed:
            raise OperationEndedError("the operation has ended; its session is closed")
        if self._session is None:
            runtime = self.runtime
            maker = runtime.read_sessionmaker if self.read_only else runtime.sessionmaker
            self._session = maker()
        return self._session

    @property
    def loaders(self) -> Loaders:
        if self._loaders is None:
            self._loaders = Loaders(lambda: self.session, lambda: self.actor)
            self._every_loaders.append(self._loaders)
        return self._loaders

    async def authenticate(self) -> None:
        """Resolve the credentials once; a failure is kept and raised by fields that need it."""
        if self.credentials is None:
            return
        try:
            self._actor = await authenticate(self.runtime, self.credentials)
        except AppError as exc:
            self._auth_error = exc

    def for_operation(self) -> Context:
        """A context of its own for one operation of a live connection (WebSocket).

        Operations on one socket run concurrently: each gets its own session and loaders, and
        its credentials are resolved again against the current state by :meth:`authenticate`.
        """
        return Context(
            runtime=self.runtime,
            request=self.request,
            response=self.response,
            credentials=self.credentials,
            request_id=self.request_id,
            connection_params=self.connection_params,
            live=True,
        )

    async def recheck(self) -> Actor:
        """The actor as the credentials prove it now (before each event of a live stream).

        Raises UNAUTHENTICATED when the credentials have ended; subscribers that present the
        same credentials at the same moment share one lookup.
        """
        credentials = self.credentials
        if credentials is None:
            raise UnauthenticatedError("Sign in to do this.", reason="NO_CREDENTIALS")
        runtime = self.runtime
        key = ("credentials", id(runtime), credentials)
        actor = await shared(key, lambda: authenticate(runtime, credentials))
        self.adopt(actor)
        return actor

    def adopt(self, actor: Actor) -> None:
        """Act as ``actor`` for the rest of the operation (after register, login, refresh)."""
        self._actor = actor
        self._auth_error = None
        self.forget_loaded()

    def forget_loaded(self) -> None:
        """Later reads load afresh (a mutation field must not see what an earlier one cached)."""
        self._loaders = None

    async def reload_roles(self) -> None:
        """Re-read the actor's roles after a mutation changed its own memberships."""
        if self._actor is not None:
            self.adopt(await with_current_roles(self.session, self._actor))

    def _release_loaders(self) -> None:
        """Loaders and this context refer to each other: undo it, so no cycle outlives us."""
        for loaders in self._every_loaders:
            loaders.release()
        self._every_loaders.clear()
        self._loaders = None

    @property
    def maybe_actor_or_none(self) -> Actor | None:
        """The actor, or None when credentials were missing or bad (never raises)."""
        return None if self._auth_error is not None else self._actor

    @property
    def maybe_actor(self) -> Actor | None:
        """The actor, None when no credentials were sent; bad credentials are UNAUTHENTICATED."""
        if self._auth_error is not None:
            raise self._auth_error
        return self._actor

    @property
    def actor(self) -> Actor:
        actor = self.maybe_actor
        if actor is None:
            raise UnauthenticatedError("Sign in to do this.", reason="NO_CREDENTIALS")
        return actor

    async def commit(self) -> None:
        """Commit the operation's work; what it asked to follow the commit runs before the
        reply (``app.after_commit``), so a reply never runs ahead of the work it reports."""
        if self._session is not None:
            await self._session.commit()
            await settle(self._session)

    async def rollback(self) -> None:
        if self._session is not None:
            await self._session.rollback()

    async def end_event(self) -> None:
        """End one event of a subscription: its batches finish and its session (which only
        read) closes, so the next event reads the current state through a session and loaders
        of its own, and no connection or lock is held while the stream waits."""
        for loaders in self._every_loaders:
            await loaders.drain()
        self._every_loaders.clear()
        self.forget_loaded()
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def close(self, *, commit: bool) -> None:
        """End the operation's unit of work. Batches still running finish first; anything
        that asks for the session afterwards (a field GraphQL cancelled) is refused."""
        self._closed = True
        for loaders in self._every_loaders:
            await loaders.drain()
        self._release_loaders()
        if self._session is None:
            return
        try:
            await (self.commit() if commit else self.rollback())
        finally:
            await self._session.close()
            self._session = None


Info = StrawberryInfo[Context, None]
